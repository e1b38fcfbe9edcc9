import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { envKeys } from '../../../src/config/envKeys';
import { ConfigError, loadConfig, routerWorkers } from '../../../src/config/loadConfig';
import schema from '../../../config/config.schema.json';
import defaults from '../../../config/default.json';

function file(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lgr-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
}

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('is config/default.json when nothing overrides it', () => {
    expect(loadConfig({ env: {} })).toEqual(defaults);
  });

  it('merges a partial file over the defaults, key by key', () => {
    const config = loadConfig({ file: file(JSON.stringify({ router: { recent: { linesPerApp: 7 } } })), env: {} });
    expect(config.router.recent).toEqual({ ...defaults.router.recent, linesPerApp: 7 });
    expect(config.router.udp).toEqual(defaults.router.udp);
  });

  it('lets environment variables override the file', () => {
    const config = loadConfig({
      file: file(JSON.stringify({ router: { udp: { port: 1111 } } })),
      env: { LOGGREGATOR_ROUTER_UDP_PORT: '2222', LOGGREGATOR_ROUTER_RECENT_MAX_APPS: '5', LOGGREGATOR_SHARED_SECRET: 'a-secret-of-16-chars', LOGGREGATOR_LOG_LEVEL: 'debug' },
    });
    expect(config.router.udp.port).toBe(2222);
    expect(config.router.recent.maxApps).toBe(5);
    expect(config.sharedSecret).toBe('a-secret-of-16-chars');
    expect(config.logLevel).toBe('debug');
  });

  it('names one environment variable per leaf key', () => {
    const names = envKeys(schema).map(k => k.name);
    expect(names).toContain('LOGGREGATOR_ROUTER_TAIL_KEEPALIVE_SECONDS');
    expect(names).toContain('LOGGREGATOR_ROUTER_UDP_MAX_DATAGRAM_BYTES');
    expect(new Set(names).size).toBe(names.length);
  });

  it('rejects a non-number in a numeric environment variable, naming it', () => {
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTER_HTTP_PORT: 'eighty' } }))).toMatch(
      /LOGGREGATOR_ROUTER_HTTP_PORT="eighty": router\.http\.port must be a number/,
    );
  });

  it('takes router.workers as "auto" or a count, from a file or the environment; routerWorkers resolves "auto" to the CPUs', () => {
    expect(loadConfig({ env: {} }).router.workers).toBe('auto');
    expect(routerWorkers(loadConfig({ env: {} }))).toBe(availableParallelism());
    expect(loadConfig({ env: { LOGGREGATOR_ROUTER_WORKERS: '3' } }).router.workers).toBe(3);
    expect(routerWorkers(loadConfig({ env: { LOGGREGATOR_ROUTER_WORKERS: ' 1 ' } }))).toBe(1);
    expect(loadConfig({ env: {}, file: file('{"router": {"workers": 8}}') }).router.workers).toBe(8);
  });

  it('refuses a router.workers that is neither "auto" nor a count from 1 to 256, with one message saying what it may be', () => {
    for (const bad of ['abc', '0', '1.5', '257', '', '-2']) {
      const message = error(() => loadConfig({ env: { LOGGREGATOR_ROUTER_WORKERS: bad } }));
      expect(message).toBe(`invalid configuration: router.workers: ${JSON.stringify(/^\d+$/.test(bad) ? Number(bad) : bad)} is none of the forms it may take (${schema.properties.router.properties.workers.description})`);
    }
    expect(error(() => loadConfig({ env: {}, file: file('{"router": {"workers": null}}') }))).toMatch(/^invalid configuration: router\.workers: null is none of the forms/);
  });

  it('names every bad key and why', () => {
    const message = error(() =>
      loadConfig({
        file: file(JSON.stringify({ logLevel: 'loud', router: { udp: { port: 70000 }, tail: { maxQueuedLines: 0 }, extra: 1 } })),
        env: {},
      }),
    );
    expect(message).toMatch(/logLevel: must be equal to one of the allowed values \(error, warn, info, debug\)/);
    expect(message).toMatch(/router\.udp\.port: must be <= 65535/);
    expect(message).toMatch(/router\.tail\.maxQueuedLines: must be >= 1/);
    expect(message).toMatch(/router\.extra: unknown key/);
  });

  it('refuses a shared secret too short to be one', () => {
    expect(error(() => loadConfig({ env: { LOGGREGATOR_SHARED_SECRET: 'short' } }))).toMatch(/sharedSecret: must NOT have fewer than 16 characters/);
  });

  it('says when the file is missing or not JSON', () => {
    expect(error(() => loadConfig({ file: '/nonexistent/loggregator.json', env: {} }))).toMatch(/cannot read it \(ENOENT\)/);
    expect(error(() => loadConfig({ file: file('{"router": '), env: {} }))).toMatch(/not valid JSON/);
    expect(error(() => loadConfig({ file: file('[1,2]'), env: {} }))).toMatch(/must hold a JSON object/);
  });
  it('ships defaults whose drain flush fits in the shutdown budget (flushSeconds < shutdownSeconds)', () => {
    const config = loadConfig({ env: {} });
    expect(config.router.drains.flushSeconds).toBeLessThan(config.router.shutdownSeconds);
  });

  it('refuses router.drains.flushSeconds equal to router.shutdownSeconds, naming both keys', () => {
    const message = error(() =>
      loadConfig({ env: { LOGGREGATOR_ROUTER_DRAINS_FLUSH_SECONDS: '5', LOGGREGATOR_ROUTER_SHUTDOWN_SECONDS: '5' } }),
    );
    expect(message).toMatch(/router\.drains\.flushSeconds/);
    expect(message).toMatch(/router\.shutdownSeconds/);
    expect(message).toMatch(/must be less than/);
  });

  it('refuses router.drains.flushSeconds above router.shutdownSeconds, from a file too', () => {
    const message = error(() => loadConfig({ file: file(JSON.stringify({ router: { shutdownSeconds: 2, drains: { flushSeconds: 10 } } })), env: {} }));
    expect(message).toMatch(/router\.drains\.flushSeconds \(10\)/);
    expect(message).toMatch(/router\.shutdownSeconds \(2\)/);
  });

  it('takes router.drains.flushSeconds one less than router.shutdownSeconds, and 0', () => {
    expect(loadConfig({ env: { LOGGREGATOR_ROUTER_DRAINS_FLUSH_SECONDS: '4', LOGGREGATOR_ROUTER_SHUTDOWN_SECONDS: '5' } }).router.drains.flushSeconds).toBe(4);
    expect(loadConfig({ env: { LOGGREGATOR_ROUTER_DRAINS_FLUSH_SECONDS: '0', LOGGREGATOR_ROUTER_SHUTDOWN_SECONDS: '1' } }).router.drains.flushSeconds).toBe(0);
  });

  it('refuses an HTTPS batch larger than a drain\'s queue (router.drains.https.batchLines > maxQueuedLines)', () => {
    const message = error(() => loadConfig({ file: file(JSON.stringify({ router: { drains: { maxQueuedLines: 100, https: { batchLines: 101 } } } })), env: {} }));
    expect(message).toMatch(/router\.drains\.https\.batchLines/);
    expect(message).toMatch(/router\.drains\.maxQueuedLines/);
    expect(loadConfig({ file: file(JSON.stringify({ router: { drains: { maxQueuedLines: 100, https: { batchLines: 100 } } } })), env: {} }).router.drains.https.batchLines).toBe(100);
  });

  it('refuses a boolean environment variable that is not true or false, naming it', () => {
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTER_DRAINS_TLS_INSECURE_SKIP_VERIFY: 'yes' } }))).toMatch(
      /LOGGREGATOR_ROUTER_DRAINS_TLS_INSECURE_SKIP_VERIFY="yes": router\.drains\.tls\.insecureSkipVerify must be true or false/,
    );
  });

  it('takes true and false for a boolean environment variable', () => {
    expect(loadConfig({ env: { LOGGREGATOR_ROUTER_DRAINS_TLS_INSECURE_SKIP_VERIFY: 'true' } }).router.drains.tls.insecureSkipVerify).toBe(true);
    expect(loadConfig({ env: { LOGGREGATOR_ROUTER_DRAINS_TLS_INSECURE_SKIP_VERIFY: 'false' } }).router.drains.tls.insecureSkipVerify).toBe(false);
  });
  it('refuses etcd discovery of routers without etcd endpoints, saying which setting needs them', () => {
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTERS_DISCOVERY: 'etcd' } }))).toMatch(/routers\.discovery is "etcd", but etcd\.endpoints is empty/);
    expect(loadConfig({ env: { LOGGREGATOR_ROUTERS_DISCOVERY: 'etcd', LOGGREGATOR_ETCD_ENDPOINTS: 'http://127.0.0.1:2379' } }).routers.discovery).toBe('etcd');
  });

  it('takes routers.static as JSON from its environment variable, and names bad JSON', () => {
    const routers = [{ id: 'r1', udp: '127.0.0.1:4000', http: '127.0.0.1:4001' }];
    expect(loadConfig({ env: { LOGGREGATOR_ROUTERS_STATIC: JSON.stringify(routers) } }).routers.static).toEqual(routers);
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTERS_STATIC: '[{"udp": ' } }))).toMatch(/^LOGGREGATOR_ROUTERS_STATIC: not valid JSON/);
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTERS_STATIC: '[{"udp": "no-port"}]' } }))).toMatch(/routers\.static\.0\.udp: must match pattern/);
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTERS_STATIC: '[{"udp": "127.0.0.1:3456", "http": "127.0.0.1:99999"}]' } }))).toMatch(
      /routers\.static\.0\.http "127\.0\.0\.1:99999": must be HOST:PORT with a port from 1 to 65535/,
    );
  });

  it('refuses a router listed twice in routers.static', () => {
    const twice = [{ udp: '127.0.0.1:4000' }, { udp: '127.0.0.1:4000' }];
    expect(error(() => loadConfig({ env: { LOGGREGATOR_ROUTERS_STATIC: JSON.stringify(twice) } }))).toMatch(/lists router "127\.0\.0\.1:4000" twice/);
  });

  it('refuses callout authorization without a callout URL', () => {
    expect(error(() => loadConfig({ env: { LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_MODE: 'callout' } }))).toMatch(/callout\.url is not set/);
  });

  it('leaves room in shutdownSeconds for deregistering from etcd before the drains flush', () => {
    const env = { LOGGREGATOR_ROUTERS_DISCOVERY: 'etcd', LOGGREGATOR_ETCD_ENDPOINTS: 'http://127.0.0.1:2379', LOGGREGATOR_ROUTER_DRAINS_FLUSH_SECONDS: '4' };
    expect(error(() => loadConfig({ env }))).toMatch(/flushSeconds \(4\) \+ 1\.25 s to deregister from etcd must be less than router\.shutdownSeconds \(5\)/);
    expect(loadConfig({ env: { ...env, LOGGREGATOR_ROUTER_DRAINS_FLUSH_SECONDS: '3' } }).router.drains.flushSeconds).toBe(3);
  });
});
