// routers$: the routers of the cluster, each time the set changes. Static from config, or read
// from the registrations in etcd (spec/support/etcdServer.ts: a real etcd):
//
//   etcd:      A ── B ───── ✕B (close: revoke) ── C dies (cut off) ··TTL·· ✕C
//   routers$:  [A] [A,B] ── [A] ─────────────── [A,C] ─────────────────── [A]
//
//   etcd:      A ─────── (cut off from discovery: B registers, A deregisters) ─── (back)
//   routers$:  [A] ──── nothing: the last known set stays ────────────────────── [B] (resync)
//
// And routerIdOf / advertisedAddress: what a router registers as.
import { AddressInfo } from 'node:net';
import os, { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Subscription, firstValueFrom, filter, timeout } from 'rxjs';
import { advertisedAddress, routerIdOf, routers$ } from '../../../src/cluster/routerDiscovery';
import { RouterRegistration, registerRouter } from '../../../src/cluster/routerRegistration';
import { Config, ConfigError } from '../../../src/config/loadConfig';
import { createEtcdClient } from '../../../src/etcd/etcdClient';
import { RouterInfo } from '../../../streams/routerInfo';
import { EtcdServer, etcdForTests } from '../../support/etcdServer';
import { recordingLogger } from '../../support/recordingLogger';
import { routerConfig } from '../../support/routerConfig';
import { TcpProxy } from '../../support/tcpProxy';
import { Teardown } from '../../support/teardown';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(20_000);

const DIAL_TIMEOUT_MS = 1000;
/** Generous bound for "soon" on a loaded 2-core machine; nothing asserts how fast, except where said. */
const SOON = { timeoutMs: 10_000 };
const RECONNECT = { initialMs: 100, maxMs: 1000 };

let prefixes = 0;
const nextPrefix = () => `/lgr-discovery-spec-${process.pid}-${++prefixes}/`;

const A: RouterInfo = { id: 'router-a', udp: '10.0.0.1:3456', http: '10.0.0.1:8082' };
const B: RouterInfo = { id: 'router-b', udp: '[2001:db8::2]:3456', http: '[2001:db8::2]:8082' };
const C: RouterInfo = { id: 'router-c', udp: 'router-c.example.com:3456', http: 'router-c.example.com:8082' };

function baseConfig(): Config {
  return routerConfig({ dataDir: join(tmpdir(), 'lgr-cluster-spec-unused') }); // never touched
}

function etcdConfig(endpoint: string, prefix: string, ttlSeconds = 2): Config {
  const base = baseConfig();
  return {
    ...base,
    etcd: { endpoints: [endpoint], dialTimeoutMs: DIAL_TIMEOUT_MS },
    routers: { ...base.routers, discovery: 'etcd', etcdPrefix: prefix, leaseTtlSeconds: ttlSeconds, reconnect: RECONNECT },
  };
}

const registered = (r: RouterRegistration) => firstValueFrom(r.registered$.pipe(filter(Boolean), timeout(SOON.timeoutMs)));

describe('routers$ with static discovery', () => {
  it('emits the static list once, ids defaulting to the UDP address, and never completes', async () => {
    const base = baseConfig();
    const config: Config = {
      ...base,
      routers: { ...base.routers, discovery: 'static', static: [{ id: 'z-last', udp: '10.0.0.9:3456', http: '10.0.0.9:8082' }, { udp: '10.0.0.1:3456' }] },
    };
    const sets: (readonly RouterInfo[])[] = [];
    let completed = false;
    const subscription = routers$(config, { logger: recordingLogger().logger }).subscribe({ next: s => sets.push(s), complete: () => (completed = true) });
    await new Promise(resolve => setTimeout(resolve, 200));
    subscription.unsubscribe();
    expect(sets).toEqual([
      [
        { id: '10.0.0.1:3456', udp: '10.0.0.1:3456' },
        { id: 'z-last', udp: '10.0.0.9:3456', http: '10.0.0.9:8082' },
      ],
    ]);
    expect(completed).toBe(false);
  });

  it('needs no etcd client, and refuses to run etcd discovery without one', () => {
    expect(() => routers$(baseConfig(), { logger: recordingLogger().logger })).not.toThrow();
    expect(() => routers$(etcdConfig('http://127.0.0.1:1', '/x/'), { logger: recordingLogger().logger })).toThrow('no etcd client was given');
  });
});

describe('routers$ with etcd discovery', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const teardown = new Teardown();

  etcdForTests((e, c) => ([etcd, client] = [e, c]));
  afterEach(() => teardown.run());

  /** A router's registration on its own client (as a router process has), closed in teardown. */
  async function register(prefix: string, info: RouterInfo, ttlSeconds: number, endpoint = etcd.endpoint): Promise<RouterRegistration> {
    const routerClient = teardown.add(createEtcdClient(etcdConfig(endpoint, prefix, ttlSeconds)), c => c.close());
    const registration = teardown.add(registerRouter(routerClient, { prefix, ttlSeconds, info, reconnect: RECONNECT, logger: recordingLogger().logger }), r => r.close());
    await registered(registration);
    return registration;
  }

  /** Subscribes to routers$ on a client of its own; every set, as "id udp http" lines. */
  function discover(prefix: string, endpoint = etcd.endpoint) {
    const config = etcdConfig(endpoint, prefix);
    const discoveryClient = teardown.add(createEtcdClient(config), c => c.close());
    const { logger, records } = recordingLogger();
    const seen = { sets: [] as string[][], invalid: [] as string[], errors: 0, completed: false, error: undefined as unknown };
    const subscription: Subscription = routers$(config, {
      client: discoveryClient,
      logger,
      onInvalid: reason => seen.invalid.push(reason),
      onError: () => seen.errors++,
    }).subscribe({
      next: set => seen.sets.push(set.map(r => `${r.id} ${r.udp} ${r.http}`)),
      error: err => (seen.error = err),
      complete: () => (seen.completed = true),
    });
    teardown.add(subscription, s => s.unsubscribe());
    return { seen, records };
  }

  const line = (r: RouterInfo) => `${r.id} ${r.udp} ${r.http}`;

  it('emits the empty set first when no router is registered', async () => {
    const { seen } = discover(nextPrefix());
    await waitFor(() => seen.sets.length === 1, { ...SOON, what: 'the first set' });
    expect(seen.sets).toEqual([[]]);
  });

  it('sees registered routers with their addresses, in id order, and one that closes is gone at once', async () => {
    const prefix = nextPrefix();
    const b = await register(prefix, B, 30);
    const { seen } = discover(prefix);
    await waitFor(() => seen.sets.length === 1, { ...SOON, what: 'the first set' });
    await register(prefix, A, 30);
    await waitFor(() => seen.sets.length === 2, { ...SOON, what: 'the set with both routers' });

    const closedAt = Date.now();
    await b.close();
    await waitFor(() => seen.sets.length === 3, { ...SOON, what: 'the set after a router closed' });
    expect(Date.now() - closedAt).toBeLessThan(2_000); // revoked, not expired (TTL 30 s)
    expect(seen.sets).toEqual([[line(B)], [line(A), line(B)], [line(A)]]);
    expect(seen.errors).toBe(0);
    expect(seen.error).toBeUndefined();
  });

  it('drops a router that stops keeping its lease alive once the TTL has passed', async () => {
    const prefix = nextPrefix();
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    await register(prefix, A, 30);
    await register(prefix, C, 2, `http://127.0.0.1:${proxy.port}`);
    const { seen } = discover(prefix);
    await waitFor(() => seen.sets.length === 1, { ...SOON, what: 'the first set' });

    proxy.block(); // router C, as far as etcd can tell, has died
    const cutAt = Date.now();
    await waitFor(() => seen.sets.length === 2, { ...SOON, what: 'the set without the router cut off' });
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(1_000);
    expect(seen.sets).toEqual([[line(A), line(C)], [line(A)]]);
  });

  it('leaves out an invalid record, reporting it once with its key, keeps the valid ones, and takes it once fixed', async () => {
    const prefix = nextPrefix();
    await register(prefix, A, 30);
    await client.put(`${prefix}router-x`).value('{"udp": "10.0.0.5:3456"');
    await client.put(`${prefix}router-y`).value(JSON.stringify({ udp: '10.0.0.6:3456', http: '10.0.0.6:0' }));
    await client.put(`${prefix}-bad-id`).value(JSON.stringify({ udp: '10.0.0.7:3456', http: '10.0.0.7:8082' }));
    const { seen, records } = discover(prefix);
    await waitFor(() => seen.sets.length === 1, { ...SOON, what: 'the first set' });
    expect(seen.sets).toEqual([[line(A)]]);
    const reasons = [
      'key: router id must be 1-128 of A-Z a-z 0-9 . _ : -, first a letter or digit',
      'not JSON (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})',
      'http: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)',
    ];
    expect(seen.invalid).toEqual(['bad_id', 'not_json', 'bad_address']);
    const warnings = () => records.filter(r => r.level === 'warn').map(r => ({ message: r.message, key: r.key, reason: r.reason }));
    expect(warnings()).toEqual([
      { message: 'invalid router record in etcd; left out', key: `${prefix}-bad-id`, reason: reasons[0] },
      { message: 'invalid router record in etcd; left out', key: `${prefix}router-x`, reason: reasons[1] },
      { message: 'invalid router record in etcd; left out', key: `${prefix}router-y`, reason: reasons[2] },
    ]);

    // The same broken value again: not reported twice, no new set. A fix: the router joins.
    await client.put(`${prefix}router-x`).value('{"udp": "10.0.0.5:3456"');
    const fixed: RouterInfo = { id: 'router-x', udp: '10.0.0.5:3456', http: '10.0.0.5:8082' };
    await client.put(`${prefix}router-x`).value(JSON.stringify({ udp: fixed.udp, http: fixed.http, zone: 'eu-1' }));
    await waitFor(() => seen.sets.length === 2, { ...SOON, what: 'the set with the fixed record' });
    expect(seen.sets[1]).toEqual([line(A), line(fixed)]);
    expect(seen.invalid).toEqual(['bad_id', 'not_json', 'bad_address']);
    expect(warnings()).toHaveLength(3);
  });

  it('keeps the last known set while cut off from etcd, and resyncs from a snapshot when back', async () => {
    const prefix = nextPrefix();
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    const a = await register(prefix, A, 30);
    const { seen, records } = discover(prefix, `http://127.0.0.1:${proxy.port}`);
    await waitFor(() => seen.sets.length === 1, { ...SOON, what: 'the first set' });

    proxy.block();
    await waitFor(() => seen.errors >= 2, { ...SOON, what: 'discovery to notice it is cut off and fail a retry' });
    await register(prefix, B, 30);
    await a.close();
    expect(seen.sets).toEqual([[line(A)]]); // nothing emitted meanwhile: never an empty set
    proxy.unblock();

    await waitFor(() => seen.sets.length === 2, { ...SOON, what: 'the resync' });
    expect(seen.sets).toEqual([[line(A)], [line(B)]]);
    expect(seen.error).toBeUndefined();
    const warning = records.find(r => r.level === 'warn');
    expect(warning?.message).toBe('cannot read the routers from etcd; the last known set stays in use');
    expect(String(warning?.error)).toMatch(/etcd at http:\/\/127\.0\.0\.1:\d+|cannot reach etcd|etcd watch/);
  });

  it('emits nothing for a resync that finds the same routers (etcd restarted), and follows changes after it', async () => {
    const prefix = nextPrefix();
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    await register(prefix, A, 30);
    const { seen } = discover(prefix, `http://127.0.0.1:${proxy.port}`);
    await waitFor(() => seen.sets.length === 1, { ...SOON, what: 'the first set' });

    proxy.cut(); // every connection reset, as by an etcd restart; new ones go through
    await waitFor(() => seen.errors >= 1, { ...SOON, what: 'discovery to notice the cut' });
    await new Promise(resolve => setTimeout(resolve, 1_500)); // time for a resync snapshot
    expect(seen.sets).toEqual([[line(A)]]);
    await register(prefix, C, 30);
    await waitFor(() => seen.sets.length === 2, { ...SOON, what: 'a router registered after the resync' });
    expect(seen.sets).toEqual([[line(A)], [line(A), line(C)]]);
  });
});

describe('routerIdOf', () => {
  it('is router.id when configured', () => {
    const base = baseConfig();
    expect(routerIdOf({ ...base, router: { ...base.router, id: 'eu-1.router-7' } }, 3456)).toBe('eu-1.router-7');
  });

  it('is HOSTNAME-UDPPORT otherwise, fitted to the id pattern', () => {
    const id = routerIdOf(baseConfig(), 3456);
    expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}-3456$/);
    expect(id.startsWith(hostname().slice(0, 8).replace(/[^A-Za-z0-9._:-]/g, '-'))).toBe(true);
  });

  it.each([
    ['a plain host name', 'router-7.example.com', 'router-7.example.com-3456'],
    ['spaces and other characters', 'my host (2)', 'my-host--2--3456'],
    ['a leading dot or dash', '.-hidden', 'hidden-3456'],
    ['a very long host name (the port is kept)', 'h'.repeat(200), `${'h'.repeat(123)}-3456`],
    ['nothing usable', '...', 'router-3456'],
    ['non-ASCII letters', 'routér', 'rout-r-3456'],
  ])('fits a host name with %s', (_what, name, expected) => {
    const spy = jest.spyOn(os, 'hostname').mockReturnValue(name);
    try {
      expect(routerIdOf(baseConfig(), 3456)).toBe(expected);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('advertisedAddress', () => {
  const bound = (address: string, port: number): AddressInfo => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });
  const withRouter = (config: Config, router: Partial<Config['router']>, discovery: 'static' | 'etcd' = 'etcd'): Config => ({
    ...config,
    router: { ...config.router, ...router },
    routers: { ...config.routers, discovery },
  });

  it('is the bound address when router.advertiseHost is not set', () => {
    const config = withRouter(baseConfig(), { advertiseHost: null });
    expect(advertisedAddress(config, bound('10.1.2.3', 3456), 'udp')).toBe('10.1.2.3:3456');
    expect(advertisedAddress(config, bound('2001:db8::7', 8082), 'http')).toBe('[2001:db8::7]:8082');
  });

  it('is router.advertiseHost with the bound port when set, IPv6 in brackets', () => {
    expect(advertisedAddress(withRouter(baseConfig(), { advertiseHost: 'router-1.example.com' }), bound('0.0.0.0', 3456), 'udp')).toBe('router-1.example.com:3456');
    expect(advertisedAddress(withRouter(baseConfig(), { advertiseHost: '2001:db8::9' }), bound('::', 8082), 'http')).toBe('[2001:db8::9]:8082');
    expect(advertisedAddress(withRouter(baseConfig(), { advertiseHost: '[2001:db8::9]' }), bound('::', 8082), 'http')).toBe('[2001:db8::9]:8082');
  });

  it('refuses a wildcard bind without router.advertiseHost under etcd discovery, saying what to set', () => {
    const config = withRouter(baseConfig(), { advertiseHost: null });
    for (const [address, kind] of [['0.0.0.0', 'udp'], ['::', 'http']] as const) {
      const call = () => advertisedAddress(config, bound(address, 3456), kind);
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(`router.${kind}.host is ${address} (every interface)`);
      expect(call).toThrow('set router.advertiseHost (LOGGREGATOR_ROUTER_ADVERTISE_HOST)');
    }
  });

  it('gives the loopback address for a wildcard bind under static discovery (nothing is registered)', () => {
    const config = withRouter(baseConfig(), { advertiseHost: null }, 'static');
    expect(advertisedAddress(config, bound('0.0.0.0', 3456), 'udp')).toBe('127.0.0.1:3456');
    expect(advertisedAddress(config, bound('::', 3456), 'udp')).toBe('[::1]:3456');
  });

  it('refuses an advertiseHost that makes no HOST:PORT', () => {
    const call = () => advertisedAddress(withRouter(baseConfig(), { advertiseHost: 'my router' }), bound('0.0.0.0', 3456), 'udp');
    expect(call).toThrow(ConfigError);
    expect(call).toThrow('router.advertiseHost "my router" does not make a HOST:PORT address to register');
  });
});
