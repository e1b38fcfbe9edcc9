import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, loadConfig } from '../../src/config/loadConfig';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * The default config on free loopback ports (0) and a data directory of its own (so no test
 * reads the repository's data/bindings.json), with overrides; validated like a real one.
 */
export function routerConfig(overrides: DeepPartial<Config> = {}): Config {
  const base = loadConfig({ env: {} });
  const config: Config = {
    ...base,
    ...overrides,
    logLevel: overrides.logLevel ?? 'error',
    dataDir: overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'loggregator-data-')),
    router: {
      ...base.router,
      ...overrides.router,
      udp: { ...base.router.udp, port: 0, ...overrides.router?.udp },
      http: { ...base.router.http, port: 0, ...overrides.router?.http },
      recent: { ...base.router.recent, ...overrides.router?.recent },
      tail: { ...base.router.tail, ...overrides.router?.tail },
      drains: {
        ...base.router.drains,
        ...overrides.router?.drains,
        reconnect: { ...base.router.drains.reconnect, ...overrides.router?.drains?.reconnect },
        tls: { ...base.router.drains.tls, ...overrides.router?.drains?.tls },
        https: { ...base.router.drains.https, ...overrides.router?.drains?.https },
      },
    },
  } as Config;
  return config;
}
