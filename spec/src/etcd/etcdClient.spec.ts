// The etcd client every part uses (createEtcdClient): once closed, it holds
// nothing that keeps a process alive. etcd3 arms a timer of its watch backoff whenever a watch
// stream ends, close() included; with its default backoff that timer kept a process (a router
// that had closed its binding store, a jest worker) open for a while after close().
import { createHook } from 'node:async_hooks';
import { Etcd3 } from 'etcd3';
import { loadConfig } from '../../../src/config/loadConfig';
import { createEtcdClient } from '../../../src/etcd/etcdClient';
import { PrefixEvent, prefixEvents } from '../../../src/etcd/prefixEvents';
import { EtcdServer, startEtcd } from '../../support/etcdServer';
import { routerConfig } from '../../support/routerConfig';
import { waitFor } from '../../support/waitFor';

describe('createEtcdClient against a real etcd', () => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(() => etcd?.stop());

  it('arms no delayed timer when closed after its watch ran, so a process can exit at once', async () => {
    const client: Etcd3 = createEtcdClient(loadConfig({ env: { LOGGREGATOR_ETCD_ENDPOINTS: etcd.endpoint } }));
    const armed: { ms: number; by: string }[] = [];
    const setTimeoutOf = global.setTimeout;
    try {
      const events: PrefixEvent[] = [];
      const subscription = prefixEvents(client, '/close-spec/', 5_000).subscribe({ next: e => events.push(e) });
      await waitFor(() => events.length === 1, { what: 'the snapshot' });
      // A put seen through the watch: the watch stream is up.
      await client.put('/close-spec/k').value('v');
      await waitFor(() => events.some(e => e.kind === 'put'), { what: 'the put, through the watch' });

      jest.spyOn(global, 'setTimeout').mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
        armed.push({ ms: ms ?? 0, by: new Error().stack ?? '' });
        return setTimeoutOf(callback, ms, ...args);
      }) as typeof setTimeout);
      subscription.unsubscribe();
      client.close();
      // The watch stream ends (cancelled, then the channel closed) and etcd3 arms its timer.
      const byWatch = () => armed.filter(a => /etcd3[\\/](lib|src)[\\/]watch/.test(a.by));
      await waitFor(() => byWatch().length > 0, { what: "etcd3's watch to see its stream end" });
      expect(byWatch().map(a => a.ms)).toEqual(byWatch().map(() => 0));
    } finally {
      jest.restoreAllMocks();
      client.close();
    }
  });
});

describe('createEtcdClient while etcd is away', () => {
  it('closes a connection still being tried at once, leaving no timer of gRPC running', async () => {
    // Timers that gRPC or etcd3 set and that have neither run nor been cleared (gRPC's own
    // backoff and cleanup timers are unref'd: they hold no process open).
    const grpcTimers = new Map<number, { hasRef(): boolean }>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === 'Timeout' && /node_modules[\\/](@grpc|etcd3)[\\/]/.test(new Error().stack ?? '')) grpcTimers.set(id, resource as { hasRef(): boolean });
      },
      destroy(id) {
        grpcTimers.delete(id);
      },
    }).enable();
    try {
      // Port 9 (discard) refuses: the channel keeps connecting and failing.
      const client = createEtcdClient({ ...routerConfig(), etcd: { endpoints: ['http://127.0.0.1:9'], dialTimeoutMs: 5000 } });
      const answer = client.get('/some/key').string().catch((e: Error) => e);
      await new Promise(resolve => setImmediate(resolve));
      client.close();
      expect(await answer).toBeInstanceOf(Error);
      await new Promise(resolve => setTimeout(resolve, 100));
      expect([...grpcTimers.values()].filter(timer => timer.hasRef()).length).toBe(0);
    } finally {
      hook.disable();
    }
  });
});
