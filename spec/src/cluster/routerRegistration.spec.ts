// registerRouter against a real etcd (spec/support/etcdServer.ts): `<prefix><id>` →
// {"udp": "HOST:PORT", "http": "HOST:PORT"} under a lease of routers.leaseTtlSeconds, kept alive.
//
//   lease:        grant ─ put ─ keepalive … keepalive ─ revoke (close())      record gone at once
//   lease:        grant ─ put ─ keepalive … ✕ (the process dies)               record gone after the TTL
//   record:       ──────────── ✕ deleted by someone else ── put back (same lease, within TTL / 3)
//   lease:        ──────────── ✕ revoked or expired behind its back ── new lease, put again (backoff)
//
// And with discovery watching (routers$ as the agents and the traffic controller run it): an etcd
// that stays away past the lease brings the record back with a fresh lease once it returns.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Observable, firstValueFrom, filter, timeout } from 'rxjs';
import { routers$ } from '../../../src/cluster/routerDiscovery';
import { encodeRouterRecord } from '../../../src/cluster/routerRecord';
import { RouterRegistration, registerRouter } from '../../../src/cluster/routerRegistration';
import { Config } from '../../../src/config/loadConfig';
import { createEtcdClient, describeEtcdError } from '../../../src/etcd/etcdClient';
import { RouterInfo } from '../../../streams/routerInfo';
import { EtcdServer, etcdForTests, startEtcd } from '../../support/etcdServer';
import { recordingLogger } from '../../support/recordingLogger';
import { routerConfig } from '../../support/routerConfig';
import { TcpProxy } from '../../support/tcpProxy';
import { Teardown } from '../../support/teardown';
import { waitFor, within } from '../../support/waitFor';

jest.setTimeout(20_000);

const DIAL_TIMEOUT_MS = 1000;
/** Generous bound for "soon" on a loaded 2-core machine; nothing asserts how fast, except where said. */
const SOON = { timeoutMs: 10_000 };
const RECONNECT = { initialMs: 100, maxMs: 1000 };

let prefixes = 0;
const nextPrefix = () => `/lgr-routers-spec-${process.pid}-${++prefixes}/`;

const ROUTER_A: RouterInfo = { id: 'router-a', udp: '10.0.0.1:3456', http: '10.0.0.1:8082' };
const ROUTER_B: RouterInfo = { id: 'router-b', udp: '[2001:db8::2]:3456', http: '[2001:db8::2]:8082' };

function clusterConfig(endpoint: string, prefix: string, ttlSeconds = 2): Config {
  const base = routerConfig({ dataDir: join(tmpdir(), 'lgr-cluster-spec-unused') }); // never touched
  return {
    ...base,
    etcd: { endpoints: [endpoint], dialTimeoutMs: DIAL_TIMEOUT_MS },
    routers: { ...base.routers, discovery: 'etcd', etcdPrefix: prefix, leaseTtlSeconds: ttlSeconds, reconnect: RECONNECT },
  };
}

/** Resolves once the registration says it is in etcd. */
const registered = (r: RouterRegistration) => firstValueFrom(r.registered$.pipe(filter(Boolean), timeout(SOON.timeoutMs)));

describe('registerRouter against a real etcd', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const teardown = new Teardown();

  etcdForTests((e, c) => ([etcd, client] = [e, c]));
  afterEach(() => teardown.run());

  /** A router's registration on its own client (as a router process has), closed in teardown. */
  function register(prefix: string, info: RouterInfo, ttlSeconds = 2, { endpoint = etcd.endpoint, ...extra }: { onError?: () => void; endpoint?: string } = {}) {
    const config = clusterConfig(endpoint, prefix, ttlSeconds);
    const routerClient = teardown.add(createEtcdClient(config), c => c.close());
    const log = recordingLogger();
    const states: boolean[] = [];
    const registration: RouterRegistration = teardown.add(
      registerRouter(routerClient, {
        prefix,
        ttlSeconds,
        info,
        reconnect: RECONNECT,
        logger: log.logger,
        describe: err => describeEtcdError(err, etcd.endpoint, DIAL_TIMEOUT_MS),
        ...extra,
      }),
      r => r.close(),
    );
    const completed = { value: false };
    registration.registered$.subscribe({ next: s => states.push(s), complete: () => (completed.value = true) });
    return { registration, routerClient, states, completed, records: log.records };
  }

  const stored = async (key: string) => (await client.get(key).exec()).kvs[0];

  it('puts <prefix><id> → {"udp", "http"} under a lease of the TTL, and says so on registered$', async () => {
    const prefix = nextPrefix();
    const { registration, states, records } = register(prefix, ROUTER_A, 3);
    await registered(registration);

    const kv = await stored(prefix + ROUTER_A.id);
    expect(kv?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
    expect(JSON.parse(String(kv?.value))).toEqual({ udp: ROUTER_A.udp, http: ROUTER_A.http });
    expect(kv?.lease).not.toBe('0');
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: kv?.lease });
    expect(ttl.grantedTTL).toBe('3');
    // Nothing else under the prefix.
    expect(await client.getAll().prefix(prefix).keys()).toEqual([prefix + ROUTER_A.id]);
    expect(states).toEqual([false, true]);
    expect(records.filter(r => r.message === 'router registered in etcd')).toHaveLength(1);
    expect(records.filter(r => r.level === 'warn')).toEqual([]);
  });

  it('keeps the record past several TTLs, on the same lease, without rewriting it', async () => {
    const prefix = nextPrefix();
    const { registration } = register(prefix, ROUTER_A, 2);
    await registered(registration);
    const before = await stored(prefix + ROUTER_A.id);
    await new Promise(resolve => setTimeout(resolve, 4_500)); // over two TTLs
    const after = await stored(prefix + ROUTER_A.id);
    expect(after?.lease).toBe(before?.lease);
    // The periodic check is a read-only transaction when all is well: no new revision of the key.
    expect(after?.mod_revision).toBe(before?.mod_revision);
  });

  it('close() revokes the lease: the record is gone at once, and registered$ says false and completes', async () => {
    const prefix = nextPrefix();
    // A long TTL, so that "gone" cannot be the lease expiring.
    const { registration, states, completed } = register(prefix, ROUTER_A, 30);
    await registered(registration);
    const kv = await stored(prefix + ROUTER_A.id);

    const started = Date.now();
    await registration.close();
    expect(Date.now() - started).toBeLessThan(DIAL_TIMEOUT_MS);
    expect(await stored(prefix + ROUTER_A.id)).toBeUndefined();
    expect((await client.leaseClient.leaseTimeToLive({ ID: kv?.lease })).TTL).toBe('-1'); // no such lease
    expect(states).toEqual([false, true, false]);
    expect(completed.value).toBe(true);
    await expect(registration.close()).resolves.toBeUndefined(); // idempotent
  });

  it('a router cut off from etcd (no more keepalives) is gone once its TTL has passed, not before, and registers again once it can', async () => {
    const prefix = nextPrefix();
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    let errors = 0;
    const { registration, states } = register(prefix, ROUTER_A, 2, { onError: () => errors++, endpoint: `http://127.0.0.1:${proxy.port}` });
    await registered(registration);
    const key = prefix + ROUTER_A.id;
    const lease = (await stored(key))?.lease;

    proxy.block(); // to etcd, as a router that crashed: no revoke, no more keepalives
    const cutAt = Date.now();
    expect(await stored(key)).toBeDefined();
    await waitFor(async () => (await stored(key)) === undefined, { ...SOON, what: 'the record to expire with its lease' });
    // The last keepalive went out at most TTL / 3 before the cut.
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(1_000);

    proxy.unblock();
    await waitFor(async () => (await stored(key)) !== undefined, { ...SOON, what: 'the record to be put back under a new lease' });
    expect((await stored(key))?.lease).not.toBe(lease);
    expect((await stored(key))?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
    await waitFor(() => states.at(-1) === true && states.includes(false, 1), { ...SOON, what: 'registered$: true, false, true' });
    expect(errors).toBeGreaterThanOrEqual(1);
  });

  it('close() returns, without throwing, when the client is gone or etcd cannot be reached', async () => {
    const prefix = nextPrefix();
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    const viaProxy = register(prefix, ROUTER_A, 2, { endpoint: `http://127.0.0.1:${proxy.port}` });
    const closedClient = register(prefix, ROUTER_B, 2);
    await registered(viaProxy.registration);
    await registered(closedClient.registration);

    proxy.block();
    closedClient.routerClient.close();
    const started = Date.now();
    await expect(Promise.all([viaProxy.registration.close(), closedClient.registration.close()])).resolves.toEqual([undefined, undefined]);
    // Bounded by the client's deadline (etcd.dialTimeoutMs), with room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(DIAL_TIMEOUT_MS + 1_500);
    expect([viaProxy.completed.value, closedClient.completed.value]).toEqual([true, true]);
  });

  it('puts its record back, on the same lease, when someone else deletes or changes it', async () => {
    const prefix = nextPrefix();
    let errors = 0;
    const { registration, records } = register(prefix, ROUTER_A, 3, { onError: () => errors++ });
    await registered(registration);
    const key = prefix + ROUTER_A.id;
    const lease = (await stored(key))?.lease;

    await client.delete().key(key);
    await waitFor(async () => (await stored(key)) !== undefined, { ...SOON, what: 'the deleted record to be put back' });
    expect((await stored(key))?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
    expect((await stored(key))?.lease).toBe(lease);

    await client.put(key).value(JSON.stringify({ udp: '10.9.9.9:1', http: '10.9.9.9:2' })); // no lease: would outlive the router
    await waitFor(async () => (await stored(key))?.value.toString() === encodeRouterRecord(ROUTER_A), { ...SOON, what: 'the changed record to be put back' });
    expect((await stored(key))?.lease).toBe(lease);

    const warnings = records.filter(r => r.level === 'warn').map(r => r.message);
    expect(warnings).toEqual([
      'the router registration was deleted or changed by someone else (another router with this id?); put it back',
      'the router registration was deleted or changed by someone else (another router with this id?); put it back',
    ]);
    expect(errors).toBe(2);
  });

  it('leaves a record held by another live router with the same id alone, says so once, and registers once that router is gone', async () => {
    const prefix = nextPrefix();
    const key = prefix + ROUTER_A.id;
    const first = register(prefix, ROUTER_A, 3);
    await registered(first.registration);
    const lease = (await stored(key))?.lease;

    let errors = 0;
    const twin: RouterInfo = { ...ROUTER_A, udp: '10.0.0.7:3456', http: '10.0.0.7:8082' };
    const second = register(prefix, twin, 3, { onError: () => errors++ });
    await waitFor(() => second.records.some(r => r.level === 'error'), { ...SOON, what: 'the second router to say the id is taken' });
    // Two more of its checks (every TTL / 3 = 1 s): it never takes the record, so the two never flap.
    await new Promise(resolve => setTimeout(resolve, 2500));
    expect((await stored(key))?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
    expect((await stored(key))?.lease).toBe(lease);
    expect(second.states).not.toContain(true);
    expect(second.records.filter(r => r.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'another router holds this router id in etcd; this router is not registered (agents send it nothing) until that record goes: give every router its own router.id',
        heldBy: encodeRouterRecord(ROUTER_A),
      }),
    ]);
    expect(errors).toBe(1);
    expect(first.records.filter(r => r.level !== 'info')).toEqual([]);

    await first.registration.close();
    await waitFor(async () => (await stored(key))?.value.toString() === encodeRouterRecord(twin), { ...SOON, what: 'the second router to take the freed id' });
    await waitFor(() => second.states.at(-1) === true, { ...SOON, what: 'registered$ to say true' });
    expect(second.records.some(r => r.message === 'the router id is free again in etcd; router registered')).toBe(true);
  });

  it('takes over a record with its own value left by its earlier run (a restart within the TTL), at once', async () => {
    const prefix = nextPrefix();
    const key = prefix + ROUTER_A.id;
    // A lease of the spec's own with no keepalive: one kept alive would outlive the spec, retrying
    // every 100 ms once etcd is stopped, and hold jest's worker open.
    const earlierLease = client.lease(30, { autoKeepAlive: false });
    const earlier = await earlierLease.grant();
    await client.put(key).value(encodeRouterRecord(ROUTER_A)).lease(earlier);
    const { registration, records } = register(prefix, ROUTER_A, 3);
    await registered(registration);
    expect((await stored(key))?.lease).not.toBe(earlier);
    expect(records.filter(r => r.level !== 'info')).toEqual([]);
    await earlierLease.revoke();
    expect((await stored(key))?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
  });

  it('registers again with a new lease when its lease is revoked behind its back', async () => {
    const prefix = nextPrefix();
    let errors = 0;
    const { registration, states, records } = register(prefix, ROUTER_A, 3, { onError: () => errors++ });
    await registered(registration);
    const key = prefix + ROUTER_A.id;
    const lease = (await stored(key))?.lease;

    await client.leaseClient.leaseRevoke({ ID: lease });
    await waitFor(async () => {
      const kv = await stored(key);
      return kv !== undefined && kv.lease !== lease;
    }, { ...SOON, what: 'the record on a new lease' });
    expect((await stored(key))?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
    await waitFor(() => states.length === 4, { ...SOON, what: 'registered$ to say true again' });
    expect(states).toEqual([false, true, false, true]);
    expect(records.some(r => r.level === 'warn' && r.message === 'router registration lost; registering again with a new lease')).toBe(true);
    expect(errors).toBeGreaterThanOrEqual(1);
  });

  it('refuses to register a router that could not be read back', () => {
    const config = clusterConfig(etcd.endpoint, nextPrefix());
    expect(() => registerRouter(client, { prefix: config.routers.etcdPrefix, ttlSeconds: 2, info: { id: 'a', udp: '0.0.0.0:0', http: '1.2.3.4:5' }, reconnect: RECONNECT, logger: recordingLogger().logger })).toThrow(
      'router "a" cannot be registered: udp: must be HOST:PORT',
    );
  });
});

describe('registerRouter when etcd goes away', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const teardown = new Teardown();

  beforeEach(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoint });
  });
  afterEach(async () => {
    await teardown.run();
    client?.close();
    await etcd?.stop();
  });

  it('close() waits for a hung etcd no longer than the client deadline, and does not throw', async () => {
    const prefix = nextPrefix();
    const config = clusterConfig(etcd.endpoint, prefix, 10);
    const routerClient = teardown.add(createEtcdClient(config), c => c.close());
    const { logger, records } = recordingLogger();
    const describe = (err: unknown) => describeEtcdError(err, etcd.endpoint, DIAL_TIMEOUT_MS);
    const registration = registerRouter(routerClient, { prefix, ttlSeconds: 10, info: ROUTER_A, reconnect: RECONNECT, logger, describe });
    await registered(registration);

    etcd.kill('SIGSTOP'); // up, but answering nothing
    teardown.add(etcd, e => e.kill('SIGCONT'));
    const started = Date.now();
    // Bounded by the client's deadline (plus slack for a loaded machine), however long etcd is hung.
    await expect(within(registration.close(), DIAL_TIMEOUT_MS + 1_500, 'close() with etcd hung')).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(DIAL_TIMEOUT_MS - 100); // it did wait for the revoke
    expect(records.filter(r => r.level === 'warn').map(r => r.message)).toEqual([
      'could not revoke the lease of the router registration; its record goes when the lease expires',
    ]);
    expect(String(records.find(r => r.level === 'warn')?.error)).toMatch(/did not answer within 1000 ms/);
  });

  it('comes back with a fresh lease after etcd was away longer than the lease, and discovery keeps and then resyncs its set', async () => {
    const prefix = nextPrefix();
    const config = clusterConfig(etcd.endpoint, prefix, 2);
    const routerClient = teardown.add(createEtcdClient(config), c => c.close());
    let registrationErrors = 0;
    const states: boolean[] = [];
    const registration = teardown.add(
      registerRouter(routerClient, {
        prefix,
        ttlSeconds: 2,
        info: ROUTER_A,
        reconnect: RECONNECT,
        logger: recordingLogger().logger,
        onError: () => registrationErrors++,
      }),
      r => r.close(),
    );
    registration.registered$.subscribe(s => states.push(s));
    await registered(registration);

    const discoveryClient = teardown.add(createEtcdClient(config), c => c.close());
    let discoveryErrors = 0;
    const sets: string[][] = [];
    const discovered$: Observable<readonly RouterInfo[]> = routers$(config, { client: discoveryClient, logger: recordingLogger().logger, onError: () => discoveryErrors++ });
    teardown.add(
      discovered$.subscribe(set => sets.push(set.map(r => `${r.id} ${r.udp} ${r.http}`))),
      s => s.unsubscribe(),
    );
    await waitFor(() => sets.some(s => s.length === 1), { ...SOON, what: 'discovery to see the router' });
    const lease = (await client.get(prefix + ROUTER_A.id).exec()).kvs[0]?.lease;

    etcd.kill('SIGKILL');
    // etcd3 gives the lease up once no keepalive was answered for 2 × TTL.
    await waitFor(() => states.at(-1) === false, { ...SOON, what: 'registered$ to say false while etcd is away' });
    await etcd.restart();

    await waitFor(() => states.at(-1) === true, { ...SOON, what: 'registered$ to say true again' });
    const kv = (await client.get(prefix + ROUTER_A.id).exec()).kvs[0];
    expect(kv?.value.toString()).toBe(encodeRouterRecord(ROUTER_A));
    expect(kv?.lease).not.toBe(lease);
    expect(registrationErrors).toBeGreaterThanOrEqual(1);

    // Discovery kept the router all along (never an empty set while etcd was away) and resyncs:
    // a router registered after the restart shows up.
    await waitFor(() => discoveryErrors >= 1, { ...SOON, what: 'discovery to notice etcd went away' });
    const other = teardown.add(
      registerRouter(routerClient, { prefix, ttlSeconds: 2, info: ROUTER_B, reconnect: RECONNECT, logger: recordingLogger().logger }),
      r => r.close(),
    );
    await registered(other);
    await waitFor(() => sets.at(-1)?.length === 2, { ...SOON, what: 'discovery to see the second router' });
    expect(sets).toEqual([[`router-a ${ROUTER_A.udp} ${ROUTER_A.http}`], [`router-a ${ROUTER_A.udp} ${ROUTER_A.http}`, `router-b ${ROUTER_B.udp} ${ROUTER_B.http}`]]);
  });
});
