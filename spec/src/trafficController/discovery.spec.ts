// The traffic controller finding its routers in a real etcd (spec/support/etcdServer.ts), through
// a proxy the test can block. Every bad input is a counted rejection, and good ones keep working:
//
//   <prefix>r1          {"udp": …, "http": "127.0.0.1:PORT"}   a real router ──▶ in the set, /recent and /tail
//   <prefix>bad-json    {"udp": "127.0.0.1:9", "http":        ──▶ left out, invalid_router_records{reason="not_json"}
//   <prefix>bad-address {"udp": …, "http": "127.0.0.1:99999"}  ──▶ left out, invalid_router_records{reason="bad_address"}
//   etcd cut off                                               ──▶ router_discovery_errors, the last set stays in use
//   etcd back, r2 registers                                    ──▶ [r1, r2]; the invalid records are not counted again
//
//   etcd unreachable from the start ──▶ discovery errors counted; /recent 503 (routers_unknown) until the first set
import { Etcd3 } from 'etcd3';
import { openTokensFileAuthorizer } from '../../../src/auth/tokensFile';
import { Config } from '../../../src/config/loadConfig';
import { Router } from '../../../src/router/router';
import { TrafficController, startTrafficController } from '../../../src/trafficController/trafficController';
import { captureLogger } from '../../support/drainWriterHarness';
import { EtcdServer, etcdForTests } from '../../support/etcdServer';
import { TcpProxy } from '../../support/tcpProxy';
import { Teardown } from '../../support/teardown';
import { ingested, newToken, promValue, routerTailClients, tcConfig, writeTokensFile } from '../../support/trafficControllerHarness';
import { TailClient } from '../../support/tailClient';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(30_000);

const ADMIN = newToken('admin');
/** Generous bound for "soon" on a loaded 2-core machine; nothing asserts how fast. */
const SOON = { timeoutMs: 10_000 };

let prefixes = 0;
const nextPrefix = () => `/lgr-tc-discovery-spec-${process.pid}-${++prefixes}/`;

const record = (router: Router): string =>
  JSON.stringify({ udp: `127.0.0.1:${router.udpAddress.port}`, http: `127.0.0.1:${router.httpAddress.port}` });

describe('traffic controller router discovery in etcd', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  const teardown = new Teardown();

  etcdForTests((e, c) => ([etcd, client] = [e, c]));
  afterEach(() => teardown.run());

  /** A TC that finds its routers under `prefix` in etcd through `proxy`; its /metrics and /recent. */
  async function startTcOnEtcd(prefix: string, proxy: TcpProxy) {
    const { logger, lines } = captureLogger('debug');
    const base = tcConfig();
    const config: Config = {
      ...base,
      etcd: { endpoints: [`http://127.0.0.1:${proxy.port}`], dialTimeoutMs: 1_000 },
      routers: { ...base.routers, discovery: 'etcd', etcdPrefix: prefix, reconnect: { initialMs: 100, maxMs: 500 } },
    };
    const authorizer = teardown.add(await openTokensFileAuthorizer(writeTokensFile(teardown, { [ADMIN]: '*' }), logger), a => a.close());
    const tc: TrafficController = teardown.add(await startTrafficController(config, logger, { authorizer }), t => t.close());
    const base$ = `http://127.0.0.1:${tc.httpAddress.port}`;
    return {
      tc,
      logs: lines,
      metric: async (name: string, labels: Record<string, string> = {}) => promValue(await (await fetch(`${base$}/metrics`)).text(), name, labels),
      recent: (app: string) => fetch(`${base$}/recent?app=${app}`, { headers: { authorization: `Bearer ${ADMIN}` }, signal: AbortSignal.timeout(10_000) }),
      tail: async (query: string) =>
        teardown.add(await TailClient.open({ ...tc.httpAddress, address: '127.0.0.1' }, query, { headers: { authorization: `Bearer ${ADMIN}` } }), c => c.terminate()),
    };
  }

  it('counts invalid router records by reason and failed reads of etcd, while the valid routers keep working', async () => {
    const prefix = nextPrefix();
    const [r1, r2] = [await teardown.router(), await teardown.router()];
    await client.put(`${prefix}r1`).value(record(r1));
    await client.put(`${prefix}bad-json`).value('{"udp": "127.0.0.1:9", "http":');
    await client.put(`${prefix}bad-address`).value(JSON.stringify({ udp: '127.0.0.1:9', http: '127.0.0.1:99999' }));
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    const tc = await startTcOnEtcd(prefix, proxy);

    await waitFor(async () => (await tc.metric('loggregator_tc_routers')) === 1, { ...SOON, what: 'the TC to find r1' });
    expect(await tc.metric('loggregator_tc_invalid_router_records_total', { reason: 'not_json' })).toBe(1);
    expect(await tc.metric('loggregator_tc_invalid_router_records_total', { reason: 'bad_address' })).toBe(1);
    expect(await tc.metric('loggregator_tc_invalid_router_records_total')).toBe(2);
    expect(await tc.metric('loggregator_tc_router_discovery_errors_total')).toBe(0);
    // Logged with the key, so an operator can find and fix it.
    expect(tc.logs.some(line => line.includes('invalid router record') && line.includes(`${prefix}bad-json`))).toBe(true);

    // r1 serves, beside the invalid records.
    const client1 = await tc.tail('app=app-a');
    await routerTailClients(r1, 1, "the TC's stream from r1 open");
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'on r1')]);
    await waitFor(() => client1.received.some(e => e.message === 'on r1'), { what: 'the live line from r1' });
    const answer = await tc.recent('app-a');
    expect([answer.status, answer.headers.get('x-routers-asked'), (await answer.text()).includes('"on r1"')]).toEqual([200, '1', true]);

    // etcd cut off: each failed read or watch is counted; the last known set stays in use.
    proxy.block();
    await waitFor(async () => ((await tc.metric('loggregator_tc_router_discovery_errors_total')) ?? 0) >= 2, { ...SOON, what: 'failed reads of etcd counted' });
    const meanwhile = await tc.recent('app-a');
    expect([meanwhile.status, meanwhile.headers.get('x-routers-asked'), (await meanwhile.text()).includes('"on r1"')]).toEqual([200, '1', true]);
    expect(client1.isClosed).toBe(false);

    // etcd back: the resync finds r2; the invalid records it reads again are not counted again.
    await client.put(`${prefix}r2`).value(record(r2));
    proxy.unblock();
    await waitFor(async () => (await tc.metric('loggregator_tc_routers')) === 2, { ...SOON, what: 'the TC to find r2 after etcd came back' });
    expect(await tc.metric('loggregator_tc_invalid_router_records_total')).toBe(2);
  });

  it('answers /recent 503 while etcd has not answered yet, counting the failed reads, and serves once it has', async () => {
    const prefix = nextPrefix();
    const r1 = await teardown.router();
    await client.put(`${prefix}r1`).value(record(r1));
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'on r1')]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'r1 to ingest its line' });
    const proxy = teardown.add(await TcpProxy.start(etcd.port), p => p.close());
    proxy.block();
    const tc = await startTcOnEtcd(prefix, proxy);

    await waitFor(async () => ((await tc.metric('loggregator_tc_router_discovery_errors_total')) ?? 0) >= 1, { ...SOON, what: 'a failed read of etcd counted' });
    const early = await tc.recent('app-a');
    expect([early.status, early.headers.get('retry-after')]).toEqual([503, '1']);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'routers_unknown' })).toBe(1);

    proxy.unblock();
    await waitFor(async () => (await tc.metric('loggregator_tc_routers')) === 1, { ...SOON, what: 'the TC to find r1 once etcd answers' });
    const later = await tc.recent('app-a');
    expect([later.status, (await later.text()).includes('"on r1"')]).toEqual([200, true]);
  });
});
