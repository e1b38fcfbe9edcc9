// `emit` finds the app's router where the config says: with etcd discovery, from the routers
// registered in a real etcd (not only from a static list, which answers synchronously).
import { emit } from '../../../src/cli/emit';
import { createEtcdClient } from '../../../src/etcd/etcdClient';
import { EtcdServer, startEtcd } from '../../support/etcdServer';
import { routerConfig } from '../../support/routerConfig';
import { UdpReceiver } from '../../support/udpReceiver';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(30_000);

describe('emit', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(() => etcd.stop());

  it('sends to the router registered in etcd that owns the app', async () => {
    const receiver = await UdpReceiver.start();
    const base = routerConfig();
    const routing = {
      ...base,
      etcd: { endpoints: [etcd.endpoint], dialTimeoutMs: 2000 },
      routers: { ...base.routers, discovery: 'etcd' as const, etcdPrefix: '/emit-spec/routers/' },
    };
    const client = createEtcdClient(routing);
    try {
      await client.put('/emit-spec/routers/r1').value(JSON.stringify({ udp: receiver.target, http: '127.0.0.1:9' }));
      const errors: string[] = [];
      const code = await emit(
        { app: 'emit-app', message: 'via etcd', sourceType: 'APP', instance: '0', stderr: false, routing, maxDatagramBytes: 65507 },
        t => errors.push(t),
      );
      expect({ code, errors }).toEqual({ code: 0, errors: [] });
      await waitFor(() => receiver.messages('emit-app').length === 1, { what: 'the line at the registered router' });
      expect(receiver.messages('emit-app')).toEqual(['via etcd']);
    } finally {
      client.close();
      await receiver.close();
    }
  });

  it('says so and exits 1 when etcd does not answer', async () => {
    const base = routerConfig();
    const routing = { ...base, etcd: { endpoints: ['http://127.0.0.1:9'], dialTimeoutMs: 300 }, routers: { ...base.routers, discovery: 'etcd' as const } };
    const errors: string[] = [];
    const code = await emit({ app: 'emit-app', message: 'x', sourceType: 'APP', instance: '0', stderr: false, routing, maxDatagramBytes: 65507 }, t => errors.push(t));
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(/cannot find the routers: etcd at http:\/\/127\.0\.0\.1:9 did not answer within 300 ms/);
  });
});
