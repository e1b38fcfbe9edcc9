import { Config, loadConfig } from '../../src/config/loadConfig';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The default config on free loopback ports (0), with overrides; validated like a real one. */
export function routerConfig(overrides: DeepPartial<Config> = {}): Config {
  const base = loadConfig({ env: {} });
  const config: Config = {
    ...base,
    ...overrides,
    logLevel: overrides.logLevel ?? 'error',
    router: {
      ...base.router,
      ...overrides.router,
      udp: { ...base.router.udp, port: 0, ...overrides.router?.udp },
      http: { ...base.router.http, port: 0, ...overrides.router?.http },
      recent: { ...base.router.recent, ...overrides.router?.recent },
      tail: { ...base.router.tail, ...overrides.router?.tail },
    },
  } as Config;
  return config;
}
