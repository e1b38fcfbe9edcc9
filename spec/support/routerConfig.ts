import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardOf } from '../../streams/appShard';
import { Config, loadConfig } from '../../src/config/loadConfig';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * Router workers for the specs: LOGGREGATOR_ROUTER_WORKERS as `npm test` sets it for each of its
 * runs (1, then 2: the router's specs pass either way), else 1.
 */
export function specWorkers(): number {
  const n = Number(process.env.LOGGREGATOR_ROUTER_WORKERS ?? '1');
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

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
      workers: specWorkers(),
      ...overrides.router,
      udp: { ...base.router.udp, port: 0, ...overrides.router?.udp },
      http: { ...base.router.http, port: 0, ...overrides.router?.http },
      recent: { ...base.router.recent, ...overrides.router?.recent },
      tail: { ...base.router.tail, ...overrides.router?.tail },
      firehose: { ...base.router.firehose, ...overrides.router?.firehose },
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

/** `count` app ids that one worker of `workers` owns (all of them when there is one worker). */
export function appsOfOneWorker(count: number, workers: number): string[] {
  const apps: string[] = [];
  for (let k = 0; apps.length < count && k < 10_000; k++) if (shardOf(`app-${k}`, workers) === 0) apps.push(`app-${k}`);
  return apps;
}
