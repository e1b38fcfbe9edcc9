// GET /recent through the traffic controller, against real routers on loopback:
//
//   r1 recent: t50 t10 t70        ┐
//   r2 recent: t5  t20 t80 t40    ├──▶ TC /recent?app=app-a ──▶ t5 t10 t20 t30 t40 t50 t60 t70 t80   X-Routers-Asked: 3
//   r3 recent: t60 t30            ┘                   &limit=3 ──▶ t60 t70 t80  (the newest 3, oldest first)
//
//   a router that accepts and never answers ──▶ skipped after trafficController.recent.timeoutMs
//   a router whose port is closed           ──▶ skipped at once        both named in X-Skipped-Routers
import { Envelope } from '../../../src/envelope/envelope';
import { Teardown } from '../../support/teardown';
import { SilentServer, closedPort, ingested, newToken, routerInfo, routerTailClients, startTc } from '../../support/trafficControllerHarness';
import { envelope } from '../../support/udpSender';
import { waitFor, within } from '../../support/waitFor';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };
const BASE = 1_800_000_000_000_000_000n;
/** Timestamp n µs after BASE: 19 digits. */
const at = (n: number) => String(BASE + BigInt(n) * 1000n);
const messages = (lines: Envelope[]): string[] => lines.map(e => e.message);

describe('traffic controller /recent', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("merges every router's recent lines by timestamp, the newest N oldest first with limit=N, and names how many routers it asked", async () => {
    const [r1, r2, r3] = [await teardown.router(), await teardown.router(), await teardown.router()];
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2), routerInfo('r3', r3)], tokens });
    const a = (label: string, ts: string) => envelope('app-a', label, { timestamp: ts });
    // Out of order within routers and across them; one timestamp shorter than the rest ("5").
    await teardown.sender(r1).sendEnvelopes([a('t50', at(50)), a('t10', at(10)), a('t70', at(70)), envelope('app-b', 'b1', { timestamp: at(15) })]);
    await teardown.sender(r2).sendEnvelopes([a('t5', '5'), a('t20', at(20)), a('t80', at(80)), a('t40', at(40))]);
    await teardown.sender(r3).sendEnvelopes([a('t60', at(60)), envelope('app-b', 'b2', { timestamp: at(65) }), a('t30', at(30))]);
    await waitFor(async () => (await ingested(r1)) === 4 && (await ingested(r2)) === 4 && (await ingested(r3)) === 3, { what: 'every line ingested' });

    const all = await tc.get('/recent?app=app-a', { token: ADMIN });
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(all.headers.get('x-routers-asked')).toBe('3');
    expect(all.headers.get('x-skipped-routers')).toBeNull();
    expect(all.headers.get('x-line-count')).toBe('9');
    expect(messages(all.envelopes)).toEqual(['t5', 't10', 't20', 't30', 't40', 't50', 't60', 't70', 't80']);
    expect(all.envelopes[1]).toEqual(a('t10', at(10))); // every field as sent

    const newest = await tc.get('/recent?app=app-a&limit=3', { token: ADMIN });
    expect(newest.status).toBe(200);
    expect(messages(newest.envelopes)).toEqual(['t60', 't70', 't80']);
    expect(newest.headers.get('x-line-count')).toBe('3');

    // The other app's lines, and only them.
    const other = await tc.get('/recent?app=app-b', { token: ADMIN });
    expect(messages(other.envelopes)).toEqual(['b1', 'b2']);
    expect(other.envelopes.every(e => e.appId === 'app-b')).toBe(true);
    const none = await tc.get('/recent?app=app-never-seen', { token: ADMIN });
    expect([none.status, none.body, none.headers.get('x-routers-asked')]).toEqual([200, '', '3']);
  });

  it('asks the routers of the current set', async () => {
    const [r1, r2] = [await teardown.router(), await teardown.router()];
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens });
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'on r1')]);
    await teardown.sender(r2).sendEnvelopes([envelope('app-a', 'on r2')]);
    await waitFor(async () => (await ingested(r1)) === 1 && (await ingested(r2)) === 1, { what: 'both lines ingested' });

    const before = await tc.get('/recent?app=app-a', { token: ADMIN });
    expect([messages(before.envelopes), before.headers.get('x-routers-asked')]).toEqual([['on r1'], '1']);
    tc.routers$.next([routerInfo('r1', r1), routerInfo('r2', r2)]);
    const after = await tc.get('/recent?app=app-a', { token: ADMIN });
    expect([messages(after.envelopes), after.headers.get('x-routers-asked')]).toEqual([['on r1', 'on r2'], '2']);
    tc.routers$.next([]);
    const empty = await tc.get('/recent?app=app-a', { token: ADMIN });
    expect([empty.status, empty.body, empty.headers.get('x-routers-asked')]).toEqual([200, '', '0']);
  });

  // One answer is sorted as several are: otherwise the same lines would come back in another
  // order, and limit=N pick other lines, once a router without lines of the app is in the set.
  it("orders a router's lines the same whether it is asked alone or beside a router without lines of the app", async () => {
    const [r1, r2] = [await teardown.router(), await teardown.router()];
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens });
    // Lines whose timestamps are not in arrival order (senders' clocks differ; one is behind).
    await teardown.sender(r1).sendEnvelopes([30, 10, 20].map(n => envelope('app-a', `t${n}`, { timestamp: at(n) })));
    await waitFor(async () => (await ingested(r1)) === 3, { what: 'the lines ingested' });

    const alone = await tc.get('/recent?app=app-a', { token: ADMIN });
    const aloneNewest = await tc.get('/recent?app=app-a&limit=2', { token: ADMIN });
    tc.routers$.next([routerInfo('r1', r1), routerInfo('r2', r2)]);
    const beside = await tc.get('/recent?app=app-a', { token: ADMIN });
    const besideNewest = await tc.get('/recent?app=app-a&limit=2', { token: ADMIN });
    expect(beside.headers.get('x-routers-asked')).toBe('2');
    expect(messages(alone.envelopes)).toEqual(messages(beside.envelopes));
    expect(messages(aloneNewest.envelopes)).toEqual(messages(besideNewest.envelopes));
  });

  it('skips a router that never answers (after timeoutMs) and one whose port is closed, names both, and returns the others\' lines', async () => {
    const timeoutMs = 400;
    const [r1, r2] = [await teardown.router(), await teardown.router()];
    const silent = await SilentServer.start(teardown);
    const closed = await closedPort();
    const tc = await startTc(teardown, {
      routers: [
        routerInfo('r1', r1),
        { id: 'r3', udp: '127.0.0.1:9', http: silent.address },
        routerInfo('r2', r2),
        { id: 'r4', udp: '127.0.0.1:9', http: `127.0.0.1:${closed}` },
      ],
      tokens,
      config: { recent: { timeoutMs } },
    });
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'r1 line', { timestamp: at(2) })]);
    await teardown.sender(r2).sendEnvelopes([envelope('app-a', 'r2 line', { timestamp: at(1) })]);
    await waitFor(async () => (await ingested(r1)) === 1 && (await ingested(r2)) === 1, { what: 'both lines ingested' });

    const started = Date.now();
    // Waited for the silent one, but not for ever: bounded by its deadline (plus slack for a loaded machine).
    const answer = await within(tc.get('/recent?app=app-a', { token: ADMIN }), timeoutMs + 1_500, 'the answer within the deadline');
    const tookMs = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(messages(answer.envelopes)).toEqual(['r2 line', 'r1 line']);
    expect(answer.headers.get('x-routers-asked')).toBe('4');
    const skipped = (answer.headers.get('x-skipped-routers') ?? '').split(', ').sort();
    expect(skipped).toEqual(['r3 (timeout)', 'r4 (unreachable)']);
    expect(silent.accepted).toBeGreaterThanOrEqual(1);
    expect(tookMs).toBeGreaterThanOrEqual(timeoutMs - 20); // it did wait for the silent router
    expect(await tc.metric('loggregator_tc_recent_router_failures_total', { router: 'r3', reason: 'timeout' })).toBe(1);
    expect(await tc.metric('loggregator_tc_recent_router_failures_total', { router: 'r4', reason: 'unreachable' })).toBe(1);
    expect(await tc.metric('loggregator_tc_recent_router_failures_total', { router: 'r1' })).toBe(0);
  });

  it('tells a recent=true tail client in-band which routers\' recent lines are missing, then goes live', async () => {
    const r1 = await teardown.router();
    const silent = await SilentServer.start(teardown);
    const tc = await startTc(teardown, {
      routers: [routerInfo('r1', r1), { id: 'r9', udp: '127.0.0.1:9', http: silent.address }],
      tokens,
      config: { recent: { timeoutMs: 300 } },
    });
    const s1 = teardown.sender(r1);
    await s1.sendEnvelopes([envelope('app-a', 'recent on r1')]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'the line ingested' });

    const client = await tc.tail('app=app-a&recent=true', ADMIN);
    await waitFor(() => client.received.length >= 2, { what: 'the recent line and the notice' });
    expect(client.received[0].message).toBe('recent on r1');
    expect(client.received[1]).toMatchObject({
      sourceType: 'LGR',
      sourceInstance: 'traffic-controller',
      message: 'recent lines from router r9 are missing (timeout)',
    });
    await routerTailClients(r1, 1, "the TC's live stream from r1 open");
    await s1.sendEnvelopes([envelope('app-a', 'live on r1')]);
    await waitFor(() => client.received.some(e => e.message === 'live on r1'), { what: 'the live line' });
    expect(client.lines.map(e => e.message)).toEqual(['recent on r1', 'live on r1']);
  });

  it('stops asking the routers for a plain /recent whose client leaves before the answer', async () => {
    const silent = await SilentServer.start(teardown);
    const tc = await startTc(teardown, { routers: [{ id: 'slow', udp: '127.0.0.1:9', http: silent.address }], tokens, config: { recent: { timeoutMs: 10_000 } } });
    const leaving = new AbortController();
    const asked = fetch(`http://127.0.0.1:${tc.address.port}/recent?app=app-a`, { headers: { Authorization: `Bearer ${ADMIN}` }, signal: leaving.signal }).catch(() => 'left');
    await waitFor(() => silent.accepted >= 1, { what: 'the TC at the silent router' });
    leaving.abort();
    expect(await asked).toBe('left');
    // Long before the 10 s deadline: the request to the router is cancelled with the client.
    await within(waitFor(() => silent.closed >= 1, { timeoutMs: 5_000, what: "the router's connection closed" }), 5_000, 'the cancelled request to the router');
    expect(await tc.metric('loggregator_tc_recent_router_failures_total')).toBe(0);
  });

  it('lets a recent=true tail wait for a recent slot (bounded) instead of skipping its recent lines while all 16 are busy', async () => {
    const r1 = await teardown.router();
    const silent = await SilentServer.start(teardown);
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), { id: 'r9', udp: '127.0.0.1:9', http: silent.address }], tokens, config: { recent: { timeoutMs: 3_000 } } });
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'recent on r1')]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'the line ingested' });
    // 16 plain /recent requests hold every slot, waiting for the silent router.
    const holders = Array.from({ length: 16 }, () => new AbortController());
    const held = holders.map(h => fetch(`http://127.0.0.1:${tc.address.port}/recent?app=app-a`, { headers: { Authorization: `Bearer ${ADMIN}` }, signal: h.signal }).catch(() => 'left'));
    await waitFor(() => silent.accepted >= 16, { what: 'the 16 requests at the silent router' });

    const client = await tc.tail('app=app-a&recent=true', ADMIN);
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(client.received).toEqual([]); // waiting, not skipped
    holders.forEach(h => h.abort());
    await Promise.all(held);
    await waitFor(() => client.received.length >= 2, { what: 'the recent line and the notice about r9', timeoutMs: 10_000 });
    expect(client.received.map(e => e.message)).toEqual(['recent on r1', 'recent lines from router r9 are missing (timeout)']);
  });

  it("cancels a tail's recent=true requests to the routers when the client goes", async () => {
    const silent = await SilentServer.start(teardown);
    const tc = await startTc(teardown, {
      routers: [{ id: 'slow', udp: '127.0.0.1:9', http: silent.address }],
      tokens,
      config: { recent: { timeoutMs: 1_500 } },
    });
    const client = await tc.tail('app=app-a&recent=true', ADMIN);
    await waitFor(() => silent.accepted >= 1, { what: 'the TC at the silent router' });
    client.terminate();
    // The wait for the live stream ends at 1.5 s; a /recent asked then would hang until 3 s.
    await new Promise(resolve => setTimeout(resolve, 2_200));
    // One connection only (the live stream's upgrade): no /recent was sent, and none counted as failed.
    expect({ accepted: silent.accepted, failures: await tc.metric('loggregator_tc_recent_router_failures_total') }).toEqual({ accepted: 1, failures: 0 });
  });
});
