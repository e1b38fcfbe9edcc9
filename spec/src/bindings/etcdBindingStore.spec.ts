// EtcdBindingStore against a real etcd (spec/support/etcdServer.ts): `<prefix><appId>/<bindingId>`
// → `{"url": "…"}`, read as a snapshot and then watched from the revision after it.
//
//   etcd:      A B ────── C ─── B' ─── ✕A            a change is in the snapshot or in the watch:
//   events():  s{A,B} ─── p C ─ p B' ─ d A           never in both, never in neither
//
//   etcd:      A ──────── (stopped) ─────── (restarted, same data)
//   events():  s{A} ───── ✕ error
//   events():                                s{A} ──   a new subscription
//
// And as the router composes it (reconnectWithBackoff → bindingSets → runKeyed): a resync after
// a reconnect starts no writer twice, and a binding deleted while the router was cut off from
// etcd is stopped by the snapshot of the resync (there is no delete event to see).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Observable, Subject, Subscription, defer, finalize, ignoreElements, map, takeUntil, tap } from 'rxjs';
import { EtcdBindingStore } from '../../../src/bindings/etcdBindingStore';
import { Config } from '../../../src/config/loadConfig';
import { Logger } from '../../../src/logger';
import { reconnectWithBackoff } from '../../../streams/backoff';
import { Binding, bindingIdOf } from '../../../streams/binding';
import { BindingStoreEvent, bindingSets } from '../../../streams/bindingSets';
import { runKeyed } from '../../../streams/runKeyed';
import { EtcdServer, etcdForTests, startEtcd } from '../../support/etcdServer';
import { recordingLogger } from '../../support/recordingLogger';
import { run } from '../../support/childProcess';
import { routerConfig } from '../../support/routerConfig';
import { TcpProxy } from '../../support/tcpProxy';
import { Teardown } from '../../support/teardown';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(30_000);

const DIAL_TIMEOUT_MS = 1000;
/** Generous bound for "soon" on a loaded 2-core machine; nothing asserts how fast. */
const SOON = { timeoutMs: 10_000 };

const TCP = 'syslog://127.0.0.1:5140';
const TLS = 'syslog-tls://logs.example.com:6514';
const HTTPS = 'https://user:secret@logs.example.com/drain?token=abc';

let prefixes = 0;
const nextPrefix = () => `/lgr-spec-${process.pid}-${++prefixes}/`;

function storeConfig(endpoint: string, prefix: string): Config {
  const base = routerConfig({ dataDir: join(tmpdir(), 'lgr-etcd-spec-unused') }); // the etcd store never touches it
  return {
    ...base,
    etcd: { endpoints: [endpoint], dialTimeoutMs: DIAL_TIMEOUT_MS },
    bindings: { ...base.bindings, store: 'etcd', etcdPrefix: prefix },
  };
}

/** Every event and the error (if any) of one subscription. */
function record(event$: Observable<BindingStoreEvent>, teardown: Teardown) {
  const seen = { events: [] as BindingStoreEvent[], error: undefined as unknown, completed: false };
  const subscription = event$.subscribe({
    next: e => seen.events.push(e),
    error: err => (seen.error = err),
    complete: () => (seen.completed = true),
  });
  teardown.add(subscription, s => s.unsubscribe());
  return seen;
}

const entryOf = (appId: string, url: string) => ({ key: `${appId}/${bindingIdOf(url)}`, value: JSON.stringify({ url }) });

/**
 * Waits until a subscription's watch is up (a marker key written now arrives as a put), so that
 * ending it cancels a live watch. Ending one whose watch is still being set up leaks a watcher
 * the etcd3 client retries forever (see the last test of this file).
 */
async function watchIsUp(client: Etcd3, prefix: string, seen: { events: BindingStoreEvent[] }): Promise<void> {
  const marker = `zz-marker/${String(Date.now())}`;
  await client.put(prefix + marker).value('a marker, not a binding: no writer starts for it');
  await waitFor(() => seen.events.some(e => e.kind === 'put' && e.entry.key === marker), { ...SOON, what: 'the watch to be up' });
  await client.delete().key(prefix + marker);
  await waitFor(() => seen.events.some(e => e.kind === 'delete' && e.key === marker), { ...SOON, what: 'the marker deleted' });
}

describe('EtcdBindingStore against a real etcd', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const teardown = new Teardown();

  etcdForTests((e, c) => ([etcd, client] = [e, c]));
  afterEach(() => teardown.run());

  function openStore(prefix: string, endpoint = etcd.endpoint, logger: Logger = recordingLogger().logger): EtcdBindingStore {
    return teardown.add(new EtcdBindingStore(storeConfig(endpoint, prefix), logger), s => s.close());
  }

  it('gives a snapshot of the keys under its prefix, then put and delete events as they happen', async () => {
    const prefix = nextPrefix();
    const a = entryOf('app-a', TCP);
    const b = entryOf('app-b', TLS);
    await client.put(prefix + a.key).value(a.value);
    await client.put(prefix + b.key).value(b.value);
    await client.put(`${prefix.slice(0, -1)}-other/app-z/0000000000000001`).value(JSON.stringify({ url: TCP })); // a sibling prefix: not ours
    const store = openStore(prefix);

    const seen = record(store.events(), teardown);
    await waitFor(() => seen.events.length === 1, { ...SOON, what: 'the snapshot' });
    expect(seen.events).toEqual([{ kind: 'snapshot', entries: [a, b] }]);

    // The watch starts right after the snapshot: changes from now on are events, in order.
    const c = entryOf('app-c', HTTPS);
    const b2 = { key: b.key, value: JSON.stringify({ url: 'syslog-tls://logs.example.com:6515' }) };
    await client.put(prefix + c.key).value(c.value);
    await client.put(prefix + b2.key).value(b2.value);
    await client.delete().key(prefix + a.key);
    await waitFor(() => seen.events.length === 4, { ...SOON, what: 'three watched changes' });
    expect(seen.events.slice(1)).toEqual([
      { kind: 'put', entry: c },
      { kind: 'put', entry: b2 },
      { kind: 'delete', key: a.key },
    ]);
    expect(seen.error).toBeUndefined();
  });

  it('misses no key written while the subscription starts, and reports none twice', async () => {
    const prefix = nextPrefix();
    const store = openStore(prefix);
    const seen = record(store.events(), teardown);
    // Written one after another from the moment of subscription: some land before the snapshot's
    // revision, some between the snapshot and the watch, the rest after.
    const keys = Array.from({ length: 60 }, (_, i) => `app-${String(i).padStart(2, '0')}/${bindingIdOf(`syslog://10.0.0.${i}:514`)}`);
    for (const [i, key] of keys.entries()) await client.put(prefix + key).value(JSON.stringify({ url: `syslog://10.0.0.${i}:514` }));

    const reported = () => {
      const [first, ...rest] = seen.events;
      const snapshotKeys = first?.kind === 'snapshot' ? first.entries.map(e => e.key) : [];
      return [...snapshotKeys, ...rest.map(e => (e.kind === 'put' ? e.entry.key : e.kind))];
    };
    await waitFor(() => reported().length >= keys.length, { ...SOON, what: 'every key, from the snapshot or the watch' });
    expect(seen.events[0]?.kind).toBe('snapshot');
    expect(seen.events.slice(1).every(e => e.kind === 'put')).toBe(true);
    expect(reported()).toEqual(keys); // each exactly once, in the order written
    expect(seen.error).toBeUndefined();
    await watchIsUp(client, prefix, seen);
  });

  it('binds a URL once: true, then false for the same drain however it is spelled', async () => {
    const prefix = nextPrefix();
    const store = openStore(prefix);
    expect(await store.bind('my-app', 'syslog://LOGS.example.com')).toBe(true);
    expect(await store.bind('my-app', 'syslog://logs.example.com:514')).toBe(false);
    expect(await store.bind('my-app', 'syslog://LOGS.example.com')).toBe(false);

    const stored = await client.getAll().prefix(prefix).strings();
    expect(stored).toEqual({ [`${prefix}my-app/${bindingIdOf('syslog://logs.example.com:514')}`]: JSON.stringify({ url: 'syslog://LOGS.example.com' }) });
    // Stored as given; listed in canonical form (host in lower case, the port written).
    expect(await store.list()).toEqual([{ appId: 'my-app', url: 'syslog://logs.example.com:514' }]);
  });

  it('unbinds: true, then false; the key is gone', async () => {
    const prefix = nextPrefix();
    const store = openStore(prefix);
    await store.bind('my-app', TCP);
    await store.bind('my-app', TLS);
    expect(await store.unbind('my-app', TCP)).toBe(true);
    expect(await store.unbind('my-app', TCP)).toBe(false);
    expect(await store.unbind('other-app', TLS)).toBe(false);
    expect(await client.getAll().prefix(prefix).keys()).toEqual([`${prefix}my-app/${bindingIdOf(TLS)}`]);
  });

  it('finds a binding the platform wrote under its own id: bind says already bound, unbind removes it', async () => {
    const prefix = nextPrefix();
    const store = openStore(prefix);
    await client.put(`${prefix}my-app/6f1c2a3e-guid`).value(JSON.stringify({ url: 'syslog://LOGS.example.com' }));
    expect(await store.bind('my-app', 'syslog://logs.example.com:514')).toBe(false);
    expect(await store.unbind('my-app', 'syslog://logs.example.com:514')).toBe(true);
    expect(await client.getAll().prefix(prefix).keys()).toEqual([]);
  });

  it('refuses to bind an invalid URL or app id, with the reason, and writes nothing', async () => {
    const prefix = nextPrefix();
    const store = openStore(prefix);
    await expect(store.bind('my-app', 'ftp://x')).rejects.toThrow('url: unsupported scheme "ftp" (use syslog://, syslog-tls:// or https://) (ftp://x)');
    await expect(store.bind('my-app', 'syslog://')).rejects.toThrow('url: missing host');
    await expect(store.bind('-bad', TCP)).rejects.toThrow(/^key: not <appId>\/<bindingId> with a valid app id/);
    expect(await client.getAll().prefix(prefix).keys()).toEqual([]);
  });

  it('lists every binding, or one app\'s (not an app whose id merely starts the same)', async () => {
    const prefix = nextPrefix();
    const store = openStore(prefix);
    await store.bind('web', TCP);
    await store.bind('web', HTTPS);
    await store.bind('web2', TLS);
    await store.bind('api', TCP);
    const byKey = (x: { appId: string; url: string }, y: { appId: string; url: string }) => `${x.appId} ${x.url}`.localeCompare(`${y.appId} ${y.url}`);
    expect((await store.list('web')).sort(byKey)).toEqual([
      { appId: 'web', url: HTTPS },
      { appId: 'web', url: TCP },
    ]);
    expect(await store.list('web2')).toEqual([{ appId: 'web2', url: TLS }]);
    expect(await store.list('nobody')).toEqual([]);
    expect((await store.list()).sort(byKey)).toEqual([
      { appId: 'api', url: TCP },
      { appId: 'web', url: HTTPS },
      { appId: 'web', url: TCP },
      { appId: 'web2', url: TLS },
    ]);
  });

  it('ignores invalid records written straight into etcd, each with its reason, and keeps the valid ones', async () => {
    const prefix = nextPrefix();
    const { logger, records } = recordingLogger();
    const store = openStore(prefix, etcd.endpoint, logger);
    const good = entryOf('good-app', TCP);
    await client.put(prefix + good.key).value(good.value);
    await client.put(`${prefix}bad-json/0000000000000001`).value('{"url": syslog://');
    await client.put(`${prefix}bad-scheme/0000000000000002`).value(JSON.stringify({ url: 'ftp://x' }));
    await client.put(`${prefix}no-host/0000000000000003`).value(JSON.stringify({ url: 'syslog://' }));
    await client.put(`${prefix}-bad-app/0000000000000004`).value(JSON.stringify({ url: TCP }));

    const sets: { bindings: string[]; invalid: { key: string; reason: string }[] }[] = [];
    teardown.add(
      bindingSets(store.events(), { maxPerApp: 20 })
        .pipe(map(set => ({ bindings: set.bindings.map(b => `${b.appId} ${b.drain.url}`), invalid: [...set.invalid] })))
        .subscribe(set => sets.push(set)),
      s => s.unsubscribe(),
    );
    await waitFor(() => sets.length === 1, { ...SOON, what: 'the first binding set' });
    const invalidReasons = [
      { key: '-bad-app/0000000000000004', reason: 'key: not <appId>/<bindingId> with a valid app id (1-48 of A-Z a-z 0-9 . _ -, first a letter or digit)' },
      { key: 'bad-json/0000000000000001', reason: 'value: not JSON (expected {"url": "syslog://host:port"})' },
      { key: 'bad-scheme/0000000000000002', reason: 'url: unsupported scheme "ftp" (use syslog://, syslog-tls:// or https://) (ftp://x)' },
      { key: 'no-host/0000000000000003', reason: 'url: missing host (syslog://)' },
    ];
    expect(sets[0]).toEqual({ bindings: [`good-app ${TCP}`], invalid: invalidReasons });

    // A later valid put is taken; the broken records are not reported again.
    const more = entryOf('good-app', TLS);
    await client.put(prefix + more.key).value(more.value);
    await waitFor(() => sets.length === 2, { ...SOON, what: 'the set after a put' });
    expect({ ...sets[1], bindings: [...sets[1].bindings].sort() }).toEqual({ bindings: [`good-app ${TLS}`, `good-app ${TCP}`], invalid: [] });

    // list() skips them too, with a warning naming the key and the reason (never the value).
    expect((await store.list()).map(b => `${b.appId} ${b.url}`).sort()).toEqual([`good-app ${TLS}`, `good-app ${TCP}`]);
    const warnings = records.filter(r => r.message === 'invalid binding in etcd').map(r => ({ key: r.key, reason: r.reason }));
    expect(warnings).toEqual(invalidReasons);
  });
});

describe('EtcdBindingStore when etcd goes away', () => {
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

  it('errors events() and rejects list() when etcd stops; after a restart a new subscription has the data', async () => {
    const prefix = nextPrefix();
    const store = teardown.add(new EtcdBindingStore(storeConfig(etcd.endpoint, prefix), recordingLogger().logger), s => s.close());
    await store.bind('my-app', TCP);
    const seen = record(store.events(), teardown);
    await waitFor(() => seen.events.length === 1, { ...SOON, what: 'the snapshot' });
    expect(seen.events).toEqual([{ kind: 'snapshot', entries: [entryOf('my-app', TCP)] }]);
    await watchIsUp(client, prefix, seen);

    etcd.kill('SIGTERM');
    await waitFor(() => seen.error !== undefined, { ...SOON, what: 'events() to error once etcd is gone' });
    expect(seen.completed).toBe(false);
    await expect(store.list()).rejects.toThrow(/./);
    // A subscription made while etcd is down fails too (bounded by the dial timeout), rather than hanging.
    const whileDown = record(store.events(), teardown);
    await waitFor(() => whileDown.error !== undefined, { ...SOON, what: 'a new events() to error while etcd is down' });
    expect(whileDown.events).toEqual([]);

    await etcd.restart();
    const after = record(store.events(), teardown);
    await waitFor(() => after.events.length === 1, { ...SOON, what: 'the snapshot after the restart' });
    expect(after.events).toEqual([{ kind: 'snapshot', entries: [entryOf('my-app', TCP)] }]);
    expect(await store.list()).toEqual([{ appId: 'my-app', url: TCP }]);
    await watchIsUp(client, prefix, after);
  });

  it('says clearly in list() that etcd cannot be reached', async () => {
    const prefix = nextPrefix();
    const store = teardown.add(new EtcdBindingStore(storeConfig(etcd.endpoint, prefix), recordingLogger().logger), s => s.close());
    etcd.kill('SIGKILL');
    const error = await store.list().then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(Error);
    // What a person needs: that it is a connection problem (not, say, bad data).
    expect(error?.message).toMatch(/unavailable|no connection|connect|refused|deadline/i);
  });

  it('errors events() when the connection breaks while the watch after the snapshot is being set up', async () => {
    // In a child process: the client goes on retrying such a watch on its own, and its timers
    // would hold a jest worker for up to 30 s. The child has its own proxy to etcd and cuts it
    // synchronously on the snapshot, when the watch has not been asked for yet.
    const script = String.raw`
      const net = require('node:net');
      const { EtcdBindingStore } = require('./dist/src/bindings/etcdBindingStore');
      const { loadConfig } = require('./dist/src/config/loadConfig');
      const { createLogger } = require('./dist/src/logger');
      const say = line => process.stdout.write(line + '\n');
      const sockets = new Set();
      let blocked = false;
      const proxy = net.createServer(client => {
        if (blocked) return client.resetAndDestroy();
        const upstream = net.connect(Number(process.env.ETCD_PORT), '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      proxy.listen(0, '127.0.0.1', () => {
        const env = { ...process.env, LOGGREGATOR_ETCD_ENDPOINTS: 'http://127.0.0.1:' + proxy.address().port };
        const store = new EtcdBindingStore(loadConfig({ env }), createLogger('error', 'spec'));
        store.events().subscribe({
          next: event => {
            say(event.kind);
            if (event.kind !== 'snapshot') return;
            blocked = true;
            for (const s of sockets) s.resetAndDestroy();
          },
          error: () => {
            say('error');
            process.exit(0);
          },
        });
        setTimeout(() => {
          say('no error within ' + process.env.WAIT_MS + ' ms');
          process.exit(0);
        }, Number(process.env.WAIT_MS));
      });
    `;
    const result = await run('node', ['-e', script], {
      env: {
        ETCD_PORT: String(etcd.port),
        // As when the connection breaks after the watch is up: an error the router hears (and
        // resyncs after, on its own backoff), within a few dial timeouts.
        WAIT_MS: String(5 * DIAL_TIMEOUT_MS),
        LOGGREGATOR_BINDINGS_STORE: 'etcd',
        LOGGREGATOR_ETCD_DIAL_TIMEOUT_MS: String(DIAL_TIMEOUT_MS),
        LOGGREGATOR_BINDINGS_ETCD_PREFIX: nextPrefix(),
      },
      timeoutMs: 20_000,
    });
    expect(result).toEqual({ code: 0, stdout: 'snapshot\nerror\n', stderr: '' });
  });

  /** The router's composition (src/router/router.ts), with starts and stops of each writer counted. */
  function runAsRouter(store: EtcdBindingStore) {
    const starts = new Map<string, number>();
    const stops = new Map<string, number>();
    const events: BindingStoreEvent['kind'][] = [];
    const raw: BindingStoreEvent[] = [];
    const retries: unknown[] = [];
    const stop$ = new Subject<void>();
    const event$ = defer(() => store.events()).pipe(
      reconnectWithBackoff(stop$, { initialMs: 50, maxMs: 300, jitter: 0.5, onRetry: err => retries.push(err) }),
      tap(e => {
        events.push(e.kind);
        raw.push(e);
      }),
      takeUntil(stop$),
    );
    const bindings$ = bindingSets(event$, { maxPerApp: 20 }).pipe(map(set => set.bindings));
    const name = (b: Binding) => `${b.appId} ${b.drain.url}`;
    const writers: Subscription = runKeyed(bindings$, (binding, bindingStop$) =>
      new Observable<never>(() => {
        starts.set(name(binding), (starts.get(name(binding)) ?? 0) + 1);
      }).pipe(
        takeUntil(bindingStop$),
        finalize(() => stops.set(name(binding), (stops.get(name(binding)) ?? 0) + 1)),
        ignoreElements(),
      ),
    ).subscribe();
    teardown.add(writers, w => {
      stop$.next();
      w.unsubscribe();
    });
    return { starts, stops, events, retries, seen: { events: raw } };
  }

  it('starts no writer twice when etcd restarts, and follows changes made after', async () => {
    const prefix = nextPrefix();
    const store = teardown.add(new EtcdBindingStore(storeConfig(etcd.endpoint, prefix), recordingLogger().logger), s => s.close());
    await store.bind('app-a', TCP);
    await store.bind('app-b', TLS);
    const run = runAsRouter(store);
    await waitFor(() => run.starts.size === 2, { ...SOON, what: 'both writers started' });
    await watchIsUp(client, prefix, run.seen);

    await etcd.restart();
    // The resync is a second snapshot; the watch after it sees a new binding.
    await waitFor(() => run.events.filter(k => k === 'snapshot').length === 2, { ...SOON, what: 'a resync after the restart' });
    await store.bind('app-c', HTTPS);
    await waitFor(() => run.starts.size === 3, { ...SOON, what: 'the writer of a binding made after the resync' });

    expect(run.retries.length).toBeGreaterThanOrEqual(1);
    expect(Object.fromEntries(run.starts)).toEqual({ [`app-a ${TCP}`]: 1, [`app-b ${TLS}`]: 1, [`app-c ${HTTPS}`]: 1 });
    expect(Object.fromEntries(run.stops)).toEqual({});
  });

  it('stops a binding deleted while the router was cut off from etcd, and starts one added meanwhile, at the resync', async () => {
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    const prefix = nextPrefix();
    const viaProxy = teardown.add(new EtcdBindingStore(storeConfig(`http://127.0.0.1:${proxy.port}`, prefix), recordingLogger().logger), s => s.close());
    const direct = teardown.add(new EtcdBindingStore(storeConfig(etcd.endpoint, prefix), recordingLogger().logger), s => s.close());
    await direct.bind('app-a', TCP);
    await direct.bind('app-b', TLS);
    const run = runAsRouter(viaProxy);
    await waitFor(() => run.starts.size === 2, { ...SOON, what: 'both writers started' });
    await watchIsUp(client, prefix, run.seen);

    proxy.block();
    await waitFor(() => run.retries.length >= 2, { ...SOON, what: 'the router to notice it is cut off and fail a reconnect' });
    await direct.unbind('app-b', TLS);
    await direct.bind('app-c', HTTPS);
    const eventsBefore = run.events.length;
    proxy.unblock();

    await waitFor(() => run.stops.size === 1 && run.starts.size === 3, { ...SOON, what: 'the resync to stop app-b and start app-c' });
    // Learnt from a snapshot, not from a watched delete the router could not have seen.
    expect(run.events.slice(eventsBefore)[0]).toBe('snapshot');
    expect(run.events.slice(eventsBefore)).not.toContain('delete');
    expect(Object.fromEntries(run.starts)).toEqual({ [`app-a ${TCP}`]: 1, [`app-b ${TLS}`]: 1, [`app-c ${HTTPS}`]: 1 });
    expect(Object.fromEntries(run.stops)).toEqual({ [`app-b ${TLS}`]: 1 });
    await watchIsUp(client, prefix, run.seen);
  });

  it('lets a program exit once it has ended its subscription and closed the store', async () => {
    // In a child process, so that a leaked watcher shows as a process that never exits. The
    // subscription ends on its snapshot, before its watch is up, and the store is closed at once.
    const script = `
      const { EtcdBindingStore } = require('./dist/src/bindings/etcdBindingStore');
      const { loadConfig } = require('./dist/src/config/loadConfig');
      const { createLogger } = require('./dist/src/logger');
      const store = new EtcdBindingStore(loadConfig({ env: process.env }), createLogger('error', 'spec'));
      const subscription = store.events().subscribe({
        next: event => {
          subscription.unsubscribe();
          store.close().then(() => process.stdout.write('closed after ' + event.kind + '\\n'));
        },
        error: err => process.stdout.write('error ' + err.message + '\\n'),
      });
    `;
    const result = await run('node', ['-e', script], {
      env: {
        LOGGREGATOR_BINDINGS_STORE: 'etcd',
        LOGGREGATOR_ETCD_ENDPOINTS: etcd.endpoint,
        LOGGREGATOR_ETCD_DIAL_TIMEOUT_MS: String(DIAL_TIMEOUT_MS),
        LOGGREGATOR_BINDINGS_ETCD_PREFIX: nextPrefix(),
      },
      timeoutMs: 6_000, // a program with nothing left to do exits in well under a second
    });
    expect(result).toEqual({ code: 0, stdout: 'closed after snapshot\n', stderr: '' });
  });
});
