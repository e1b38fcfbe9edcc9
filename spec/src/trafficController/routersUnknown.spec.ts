// Before router discovery has given its first set (the TC just started, etcd not answering yet)
// the TC does not know which routers to ask. That is not "the app has no lines":
//
//   routers$: ─────────────────(r1)──────
//   GET /recent      503 Retry-After: 1   │ 200, r1's lines           (refused{reason="routers_unknown"})
//   /tail            "not known yet"      │ "known now (1 router)", then r1's live lines
//   /tail&recent=true  waits (≤ recent.timeoutMs) for the set, then r1's recent lines, then live;
//                      past the wait: "recent lines unavailable: … not known within …", then live
import { ReplaySubject } from 'rxjs';
import { openTokensFileAuthorizer } from '../../../src/auth/tokensFile';
import { Router } from '../../../src/router/router';
import { TrafficController, startTrafficController } from '../../../src/trafficController/trafficController';
import { RouterInfo } from '../../../streams/routerInfo';
import { captureLogger } from '../../support/drainWriterHarness';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { TC_SOURCE, TcOverrides, ingested, newToken, routerInfo, routerTailClients, tcConfig, writeTokensFile } from '../../support/trafficControllerHarness';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const ADMIN = newToken('admin');

interface Unknown {
  readonly tc: TrafficController;
  /** Nothing emitted yet: the test says when discovery answers. */
  readonly routers$: ReplaySubject<readonly RouterInfo[]>;
  get(pathAndQuery: string, token?: string): Promise<Response>;
  tail(query: string): Promise<TailClient>;
  refused(reason: string): Promise<number>;
}

async function startBeforeDiscovery(teardown: Teardown, config: TcOverrides = {}): Promise<Unknown> {
  const { logger } = captureLogger('error');
  const authorizer = teardown.add(await openTokensFileAuthorizer(writeTokensFile(teardown, { [ADMIN]: '*' }), logger), a => a.close());
  const routers$ = new ReplaySubject<readonly RouterInfo[]>(1);
  const tc = teardown.add(await startTrafficController(tcConfig(config), logger, { routers$, authorizer }), t => t.close());
  const address = { ...tc.httpAddress, address: '127.0.0.1' };
  return {
    tc,
    routers$,
    get: (pathAndQuery, token) =>
      fetch(`http://127.0.0.1:${address.port}${pathAndQuery}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      }),
    tail: async query => teardown.add(await TailClient.open(address, query, { headers: { authorization: `Bearer ${ADMIN}` } }), c => c.terminate()),
    refused: async reason => (await tc.metrics.refused.get()).values.find(v => v.labels.reason === reason)?.value ?? 0,
  };
}

const messages = (client: TailClient): string[] => client.received.map(e => e.message);
const tcNotices = (client: TailClient): string[] => client.received.filter(e => e.sourceType === 'LGR' && e.sourceInstance === TC_SOURCE).map(e => e.message);

async function routerWithLine(teardown: Teardown, message: string): Promise<Router> {
  const r1 = await teardown.router();
  await teardown.sender(r1).sendEnvelopes([envelope('app-a', message)]);
  await waitFor(async () => (await ingested(r1)) === 1, { what: `r1 to ingest "${message}"` });
  return r1;
}

describe('traffic controller before the first router set', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('answers /recent with 503 and Retry-After, counted, until the set is known; then the routers\' lines', async () => {
    const r1 = await routerWithLine(teardown, 'on r1');
    const tc = await startBeforeDiscovery(teardown);

    const early = await tc.get('/recent?app=app-a', ADMIN);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    expect(early.headers.get('content-type')).toBe('application/json');
    expect((JSON.parse(await early.text()) as { error: string }).error).toMatch(/^the router set is not known yet \(router discovery has not answered/);
    expect(await tc.refused('routers_unknown')).toBe(1);
    expect(await (await tc.get('/health')).json()).toEqual({ status: 'ok', routers: 0, routersKnown: false });
    const notReady = await tc.get('/ready');
    expect([notReady.status, notReady.headers.get('retry-after'), await notReady.json()]).toEqual([
      503,
      '1',
      { status: 'not ready', reason: 'the router set is not known yet (router discovery has not answered)' },
    ]);
    // Authorization comes first: a caller without a token learns nothing more than 401.
    expect((await tc.get('/recent?app=app-a')).status).toBe(401);
    expect(await tc.refused('routers_unknown')).toBe(1);

    tc.routers$.next([routerInfo('r1', r1)]);
    const ready = await tc.get('/ready');
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    const later = await tc.get('/recent?app=app-a', ADMIN);
    expect([later.status, later.headers.get('x-routers-asked')]).toEqual([200, '1']);
    expect((await later.text()).trimEnd().split('\n').map(line => (JSON.parse(line) as { message: string }).message)).toEqual(['on r1']);
  });

  it('tells a tail opened then that it waits for the set, and when the set is known; then the live lines come', async () => {
    const r1 = await teardown.router();
    const tc = await startBeforeDiscovery(teardown);
    const client = await tc.tail('app=app-a');
    await waitFor(() => tcNotices(client).length === 1, { what: 'a "not known yet" line' });

    tc.routers$.next([routerInfo('r1', r1)]);
    await waitFor(() => tcNotices(client).length === 2, { what: 'a "known now" line' });
    await routerTailClients(r1, 1, "the TC's stream from r1 open");
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'live')]);
    await waitFor(() => messages(client).includes('live'), { what: 'the live line' });

    expect(messages(client)).toEqual([
      'the router set is not known yet (router discovery has not answered); lines of this app are shown once it is',
      'the router set is known now (1 router)',
      'live',
    ]);
    expect(client.received[0]).toMatchObject({ appId: 'app-a', sourceType: 'LGR', sourceInstance: TC_SOURCE });
  });

  it('with recent=true waits for the set, so the recent lines are not answered as none', async () => {
    const r1 = await routerWithLine(teardown, 'before');
    const tc = await startBeforeDiscovery(teardown, { recent: { timeoutMs: 10_000 } });
    const client = await tc.tail('app=app-a&recent=true');

    tc.routers$.next([routerInfo('r1', r1)]);
    await waitFor(() => messages(client).includes('before'), { what: "r1's recent line" });
    await routerTailClients(r1, 1, "the TC's stream from r1 open");
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'live')]);
    await waitFor(() => messages(client).includes('live'), { what: 'the live line' });
    expect(messages(client)).toEqual(['before', 'live']);
  });

  it('with recent=true says the recent lines are unavailable when no set comes within recent.timeoutMs; live lines follow once it comes', async () => {
    const r1 = await routerWithLine(teardown, 'before');
    const tc = await startBeforeDiscovery(teardown, { recent: { timeoutMs: 300 } });
    const client = await tc.tail('app=app-a&recent=true');
    await waitFor(() => tcNotices(client).length === 1, { what: 'a "recent lines unavailable" line' });

    tc.routers$.next([routerInfo('r1', r1)]);
    await routerTailClients(r1, 1, "the TC's stream from r1 open");
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'live')]);
    await waitFor(() => messages(client).includes('live'), { what: 'the live line' });
    expect(messages(client)).toEqual([
      'recent lines unavailable: the router set was not known within 300 ms (router discovery has not answered); live lines are shown once it is',
      'live',
    ]);
  });
});
