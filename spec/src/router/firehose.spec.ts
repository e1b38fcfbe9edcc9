// A router's websocket /firehose: every app's lines, as the router ingests them, to each client
// (a traffic controller); with router workers, the front door joins every worker's stream.
//
//   UDP  a0 b0 a1 b1 …  ──▶ router ──▶ /firehose client 1: every line, each app's in order
//                                 └──▶ /firehose client 2: the same
//   a client past router.firehose.maxClients: 503
import { routerApiToken } from '../../../src/auth/routerApiToken';
import { metricValue } from '../../support/routerMetricValue';
import { TailClient, refusedTail } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const DROPPED = /^dropped (\d+) messages since \S+: consumer too slow$/;
/** Lines a client was told it lost. */
const announced = (client: TailClient): number => client.notices.reduce((n, e) => n + Number(DROPPED.exec(e.message)?.[1] ?? NaN), 0);

describe('router /firehose', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  const open = async (address: Parameters<typeof TailClient.openPath>[0], headers: Record<string, string> = {}) =>
    teardown.add(await TailClient.openPath(address, '/firehose', { headers }), c => c.terminate());

  it("gives each client every app's lines, each app in order, and refuses clients past maxClients", async () => {
    const router = await teardown.router({ router: { firehose: { maxClients: 2 } } });
    const first = await open(router.httpAddress);
    const second = await open(router.httpAddress);
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 2, { what: 'both firehose clients counted' });
    const full = await refusedTail(router.httpAddress, '/firehose');
    expect(full.status).toBe(503);
    expect(JSON.parse(full.body)).toEqual({ error: 'firehose client limit of 2 reached; try again later' });

    const apps = ['app-1', 'app-2', 'app-3', 'app-4', 'app-5'];
    const sender = teardown.sender(router);
    for (let round = 0; round < 4; round++) for (const app of apps) await sender.sendEnvelopes(numbered(app, 10, round * 10));
    for (const client of [first, second]) {
      await waitFor(() => client.lines.length === 200, { what: 'all 200 lines at a firehose client' });
      for (const app of apps) {
        expect({ app, lines: client.lines.filter(e => e.appId === app).map(e => lineNumber(e.message)) }).toEqual({ app, lines: [...Array(40).keys()] });
      }
      expect(client.notices).toEqual([]);
    }
    // Tail clients are counted apart.
    expect(await metricValue(router, 'loggregator_tail_clients')).toBe(0);

    first.terminate();
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: 'the client gone from the count' });
    await open(router.httpAddress);
  });

  it('a client that stops reading loses its oldest lines at the router, counted and announced when it reads again; ingest and tails go on', async () => {
    const router = await teardown.router({ router: { firehose: { maxQueuedLines: 50, maxQueuedBytes: 65536 }, tail: { keepaliveSeconds: 60 } } });
    const slow = await open(router.httpAddress);
    const tail = await teardown.tail(router, 'app=app-1');
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: 'the firehose client counted' });
    slow.ws.pause();
    const sender = teardown.sender(router);
    const pad = ' ' + 'x'.repeat(2000);
    const drops = () => metricValue(router, 'loggregator_dropped_total', { reason: 'firehose_slow_consumer' });
    let sent = 0;
    // How much the kernel (and, with workers, the front door) absorbs depends on the machine:
    // send until drops begin (at most 30,000 lines, and none begun after 50 s). With each round's
    // wait and the last one below (10 s and 15 s at most), the test's timeout is 90 s.
    const lastRoundBy = Date.now() + 50_000;
    while (sent < 30_000 && Date.now() < lastRoundBy && (await drops()) === 0) {
      await sender.sendEnvelopes(numbered('app-1', 500, sent, pad));
      sent += 500;
      await waitFor(() => tail.lines.length === sent, { what: `the tail client to keep up (${sent})`, timeoutMs: 10_000 });
    }
    expect(await drops()).toBeGreaterThan(0);
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(sent);

    slow.ws.resume();
    await waitFor(async () => slow.lines.length + announced(slow) === sent && announced(slow) === (await drops()), {
      what: 'every line received or announced as dropped',
      timeoutMs: 15_000,
    });
    const numbers = slow.lines.map(e => lineNumber(e.message));
    expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
    expect(slow.notices.every(e => e.appId === 'firehose' && e.sourceInstance === 'router')).toBe(true);
  }, 90_000);

  it("wants the routers' API token with sharedSecret, and refuses browser origins not allowed", async () => {
    const SECRET = 'a-cluster-secret-of-some-length';
    const router = await teardown.router({ sharedSecret: SECRET });
    expect((await refusedTail(router.httpAddress, '/firehose')).status).toBe(401);
    const wrong = await refusedTail(router.httpAddress, '/firehose', { authorization: `Bearer ${routerApiToken('another-secret-of-16+')}` });
    expect(wrong.status).toBe(401);
    const good = { authorization: `Bearer ${routerApiToken(SECRET)}` };
    expect((await refusedTail(router.httpAddress, '/firehose', { ...good, origin: 'https://evil.example' })).status).toBe(403);
    const client = await open(router.httpAddress, good);
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: 'the client counted' });
    await teardown.sender(router).sendEnvelopes(numbered('app-9', 3), SECRET);
    await waitFor(() => client.lines.length === 3, { what: 'the signed lines' });
    const unknown = await refusedTail(router.httpAddress, '/nowhere', good);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'no websocket endpoint at /nowhere; use /tail?app=ID or /firehose' });
  });
});
