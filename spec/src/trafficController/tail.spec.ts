// websocket /tail through the traffic controller, against real routers on loopback:
//
//   UDP app-a 0..9 ──▶ r1 ──┐
//   UDP app-a 10..19 ─▶ r2 ──┼──▶ TC ws /tail?app=app-a ──▶ client: app-a 0..19 (each router's in order), no app-b
//   UDP app-b …  ──▶ r1, r2 ─┘
//
//   routers$  {r1,r2} ──▶ {r2}          "router r1 left…"     (LGR, sourceInstance traffic-controller)
//             {r2}    ──▶ {r2,r3}       "router r3 joined…", then r3's lines
//   r1.close()                           "lost the stream from router r1 (…)"  once, however many retries
//   r1 started again on its ports        "stream from router r1 resumed", then r1's lines
//
// The client's connection survives every one of these. An app's clients share one stream per
// router (closed with the last of them). recent=true: the routers' recent lines merged by
// timestamp first, then live, each line once.
import { Envelope } from '../../../src/envelope/envelope';
import { metricValue } from '../../support/routerMetricValue';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import {
  GateProxy,
  TC_SOURCE,
  TcRun,
  ingested,
  isRecent,
  isUpgrade,
  newToken,
  restartRouter,
  routerInfo,
  routerTailClients,
  startTc,
} from '../../support/trafficControllerHarness';
import { envelope, lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };

const messages = (lines: Envelope[]): string[] => lines.map(e => e.message);
/** The traffic controller's in-band lines a client received. */
const tcNotices = (client: TailClient): Envelope[] => client.received.filter(e => e.sourceType === 'LGR' && e.sourceInstance === TC_SOURCE);
const noticesMatching = (client: TailClient, pattern: RegExp): Envelope[] => tcNotices(client).filter(e => pattern.test(e.message));

async function waitForLine(client: TailClient, message: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => client.received.some(e => e.message === message), { what: `"${message}" at the client`, timeoutMs });
}

describe('traffic controller /tail', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("merges the app's lines from every router, each router's in order, and no other app's", async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const a = await tc.tail('app=app-a', ADMIN);
    const b = await tc.tail('app=app-b', ADMIN);
    await routerTailClients(r1, 2, 'the TC streaming both apps from r1');
    await routerTailClients(r2, 2, 'the TC streaming both apps from r2');

    const toR1 = numbered('app-a', 10, 0);
    const toR2 = numbered('app-a', 10, 10);
    const otherApp = [...numbered('app-b', 5, 0), ...numbered('app-b', 5, 5)];
    const s1 = teardown.sender(r1);
    const s2 = teardown.sender(r2);
    // Interleaved across routers, app-b among them.
    for (let k = 0; k < 10; k++) {
      await s1.sendEnvelopes([toR1[k], ...(k < 5 ? [otherApp[k]] : [])]);
      await s2.sendEnvelopes([toR2[k], ...(k >= 5 ? [otherApp[k]] : [])]);
    }
    await waitFor(() => a.received.length >= 20 && b.received.length >= 10, { what: '20 app-a lines and 10 app-b lines at their clients' });

    // Each router's lines in the order sent; both routers' lines all there; nothing else.
    expect(a.received.filter(e => lineNumber(e.message) < 10)).toEqual(toR1);
    expect(a.received.filter(e => lineNumber(e.message) >= 10)).toEqual(toR2);
    expect(a.received).toHaveLength(20);
    expect(a.malformed).toEqual([]);
    expect(b.received.map(e => e.appId)).toEqual(Array(10).fill('app-b'));
    expect([...b.received].sort((x, y) => lineNumber(x.message) - lineNumber(y.message))).toEqual(otherApp);
    expect(await tc.metric('loggregator_tc_tail_clients')).toBe(2);
  });

  it('keeps a client connected when a router leaves the set, says so, and stops its lines; a router that joins is said and its lines arrive', async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const r3 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await routerTailClients(r1, 1);
    await routerTailClients(r2, 1);
    const s1 = teardown.sender(r1);
    const s2 = teardown.sender(r2);
    const s3 = teardown.sender(r3);
    await s1.sendEnvelopes([envelope('app-a', 'from r1 before')]);
    await waitForLine(client, 'from r1 before');

    tc.routers$.next([routerInfo('r2', r2)]);
    await waitFor(() => noticesMatching(client, /router r1 left/).length === 1, { what: 'a "router r1 left" line' });
    const [left] = noticesMatching(client, /router r1 left/);
    expect(left).toMatchObject({ appId: 'app-a', sourceType: 'LGR', sourceInstance: TC_SOURCE, messageType: 'ERR' });
    expect(left.message).toBe('router r1 left; lines of this app it had not forwarded yet are lost');
    await routerTailClients(r1, 0, 'the TC to stop streaming from r1');

    // r1's lines no longer come; r2's still do (the fence: sent after, arrives on a stream of its own).
    await s1.sendEnvelopes([envelope('app-a', 'from r1 after it left')]);
    await waitFor(async () => (await ingested(r1)) === 2, { what: 'r1 to ingest its second line' });
    await s2.sendEnvelopes([envelope('app-a', 'from r2 after r1 left')]);
    await waitForLine(client, 'from r2 after r1 left');

    tc.routers$.next([routerInfo('r2', r2), routerInfo('r3', r3)]);
    await waitFor(() => noticesMatching(client, /router r3 joined/).length === 1, { what: 'a "router r3 joined" line' });
    expect(noticesMatching(client, /router r3 joined/)[0]).toMatchObject({ sourceType: 'LGR', sourceInstance: TC_SOURCE, appId: 'app-a' });
    await routerTailClients(r3, 1, 'the TC streaming from r3');
    await s3.sendEnvelopes([envelope('app-a', 'from r3')]);
    await waitForLine(client, 'from r3');

    expect(messages(client.lines)).toEqual(['from r1 before', 'from r2 after r1 left', 'from r3']);
    expect(messages(tcNotices(client))).toEqual([
      'router r1 left; lines of this app it had not forwarded yet are lost',
      'router r3 joined; its lines of this app are included from now on',
    ]);
    expect(client.isClosed).toBe(false);
    expect(await tc.metric('loggregator_tc_routers')).toBe(2);
  });

  it("says 'lost' once when a router dies (however many reconnects fail), 'resumed' once it is back on its ports, and the client stays", async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await routerTailClients(r1, 1);
    await routerTailClients(r2, 1);
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'r1 before')]);
    await waitForLine(client, 'r1 before');

    await r1.close();
    await waitFor(() => noticesMatching(client, /lost the stream from router r1/).length >= 1, { what: 'a "lost" line for r1' });
    // Reconnecting fails again and again (ECONNREFUSED) while r1 is down: each failure is counted…
    await waitFor(async () => (await tc.metric('loggregator_tc_router_stream_errors_total', { router: 'r1' })) >= 5, {
      what: '5 failed streams from r1',
    });
    // …but the client hears of the outage once. r2 goes on meanwhile.
    const s2 = teardown.sender(r2);
    await s2.sendEnvelopes([envelope('app-a', 'r2 while r1 is down')]);
    await waitForLine(client, 'r2 while r1 is down');
    expect(noticesMatching(client, /lost the stream/)).toHaveLength(1);
    expect(noticesMatching(client, /lost the stream/)[0]).toMatchObject({ sourceType: 'LGR', sourceInstance: TC_SOURCE, appId: 'app-a', messageType: 'ERR' });
    expect(noticesMatching(client, /lost the stream/)[0].message).toMatch(/^lost the stream from router r1 \(.+\); reconnecting/);

    const again = await restartRouter(teardown, r1);
    await waitFor(() => noticesMatching(client, /stream from router r1 resumed/).length === 1, { what: 'a "resumed" line for r1' });
    await routerTailClients(again, 1, 'the TC streaming from the restarted r1');
    await teardown.sender(again).sendEnvelopes([envelope('app-a', 'r1 after restart')]);
    await waitForLine(client, 'r1 after restart');

    expect(messages(client.lines)).toEqual(['r1 before', 'r2 while r1 is down', 'r1 after restart']);
    expect(messages(tcNotices(client)).map(m => m.replace(/\(.*\)/, '(…)'))).toEqual([
      'lost the stream from router r1 (…); reconnecting, lines it receives meanwhile are not shown',
      'stream from router r1 resumed',
    ]);
    expect(client.isClosed).toBe(false);
    expect(await tc.metric('loggregator_tc_tail_clients')).toBe(1);
  });

  it("shares one stream per router among an app's clients, kept while any of them is connected, made again for the next", async () => {
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens });
    const s1 = teardown.sender(r1);
    const a = await tc.tail('app=app-a', ADMIN);
    const b = await tc.tail('app=app-a', ADMIN);
    await routerTailClients(r1, 1, 'one stream of app-a from r1');
    await s1.sendEnvelopes([envelope('app-a', 'to both')]);
    await waitFor(() => a.received.length === 1 && b.received.length === 1, { what: 'the line at both clients' });

    // A client that joins the shared stream with recent=true: the recent lines, then live, each once.
    const late = await tc.tail('app=app-a&recent=true', ADMIN);
    await waitForLine(late, 'to both');
    a.terminate();
    await waitFor(async () => (await tc.metric('loggregator_tc_tail_clients')) === 2, { what: 'the TC to see a leave' });
    await s1.sendEnvelopes([envelope('app-a', 'after a left')]);
    await waitForLine(b, 'after a left');
    await waitForLine(late, 'after a left');
    expect(await metricValue(r1, 'loggregator_tail_clients')).toBe(1);
    expect(messages(late.received)).toEqual(['to both', 'after a left']);

    b.terminate();
    late.terminate();
    await routerTailClients(r1, 0, 'the stream from r1 closed with the last client');
    const next = await tc.tail('app=app-a', ADMIN);
    await routerTailClients(r1, 1, 'a new stream from r1 for the next client');
    await s1.sendEnvelopes([envelope('app-a', 'to the next')]);
    await waitForLine(next, 'to the next');
    expect(messages(next.received)).toEqual(['to the next']);
  });

  it('on close tells its tail clients 1001 (going away) and ends its streams from the routers', async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const a = await tc.tail('app=app-a', ADMIN);
    const b = await tc.tail('app=app-b&recent=true', ADMIN);
    await routerTailClients(r1, 2);
    await routerTailClients(r2, 2);

    await tc.tc.close();
    expect(await a.closed).toEqual({ code: 1001, reason: 'traffic controller shutting down' });
    expect(await b.closed).toEqual({ code: 1001, reason: 'traffic controller shutting down' });
    await routerTailClients(r1, 0, "the TC's streams from r1 ended");
    await routerTailClients(r2, 0, "the TC's streams from r2 ended");
    await expect(fetch(`http://127.0.0.1:${tc.address.port}/health`)).rejects.toThrow();
  });

  it('with recent=true sends every router\'s recent lines merged by timestamp first, then live lines, each once', async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const at = (n: number) => String(1_800_000_000_000_000_000n + BigInt(n) * 1000n);
    const s1 = teardown.sender(r1);
    const s2 = teardown.sender(r2);
    // Timestamps interleaved across routers and out of order within r2.
    await s1.sendEnvelopes([1, 3, 5].map(n => envelope('app-a', `t${n}`, { timestamp: at(n) })));
    await s2.sendEnvelopes([6, 2, 4].map(n => envelope('app-a', `t${n}`, { timestamp: at(n) })));
    await s2.sendEnvelopes([envelope('app-b', 'other app', { timestamp: at(0) })]);
    await waitFor(async () => (await ingested(r1)) === 3 && (await ingested(r2)) === 4, { what: 'the recent lines ingested' });

    const client = await tc.tail('app=app-a&recent=true', ADMIN);
    await waitFor(() => client.received.length >= 6, { what: 'the 6 recent lines' });
    await routerTailClients(r1, 1);
    await routerTailClients(r2, 1);
    await s2.sendEnvelopes([envelope('app-a', 'live 1', { timestamp: at(7) })]);
    await waitForLine(client, 'live 1');
    await s1.sendEnvelopes([envelope('app-a', 'live 2', { timestamp: at(8) })]);
    await waitForLine(client, 'live 2');

    expect(messages(client.received)).toEqual(['t1', 't2', 't3', 't4', 't5', 't6', 'live 1', 'live 2']);
  });

  it('with recent=true shows once a line that is both in a router\'s recent answer and in its live stream', async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const gate = await GateProxy.start(teardown, r1);
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1, gate.address), routerInfo('r2', r2)], tokens });
    const s1 = teardown.sender(r1);
    await s1.sendEnvelopes([envelope('app-a', 'before')]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'r1 to ingest "before"' });

    // r1's /recent is held at the gate while its live stream is open: a line sent now reaches the
    // TC live, and then is in r1's recent answer too.
    gate.hold(isRecent);
    const client = await tc.tail('app=app-a&recent=true', ADMIN);
    await waitFor(() => gate.held === 1, { what: "r1's /recent request held at the gate" });
    await routerTailClients(r1, 1, "the TC's live stream from r1 open");
    await s1.sendEnvelopes([envelope('app-a', 'at the seam')]);
    await waitFor(() => gate.fromTarget(isUpgrade).includes('at the seam'), { what: '"at the seam" sent live to the TC' });
    gate.release();
    await waitForLine(client, 'at the seam');
    await s1.sendEnvelopes([envelope('app-a', 'after')]);
    await waitForLine(client, 'after');

    expect(messages(client.received)).toEqual(['before', 'at the seam', 'after']);
  });

  // The TC asks for recent lines once each router's live stream is open (within
  // recent.timeoutMs, here longer than the upgrade is held): a line a router receives between
  // answering /recent and completing the websocket upgrade would otherwise be in neither.
  it('with recent=true loses no line a router receives after answering /recent but before its live stream is open', async () => {
    const r1 = await teardown.router();
    const gate = await GateProxy.start(teardown, r1);
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1, gate.address)], tokens, config: { recent: { timeoutMs: 10_000 } } });
    const s1 = teardown.sender(r1);
    await s1.sendEnvelopes([envelope('app-a', 'before')]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'r1 to ingest "before"' });

    // The websocket upgrade to r1 is held (as a slow network would delay it).
    gate.hold(isUpgrade);
    const client = await tc.tail('app=app-a&recent=true', ADMIN);
    await waitFor(() => gate.held === 1, { what: 'the upgrade to r1 held at the gate' });
    // If the TC asks for recent lines before its live stream is open, let r1 answer first (a
    // correct TC does not ask yet: this wait then ends without it, after a second).
    await waitFor(() => gate.fromTarget(isRecent).includes('HTTP/1.1 200'), { what: "r1's /recent answer", timeoutMs: 1_000 }).catch(() => undefined);
    await s1.sendEnvelopes([envelope('app-a', 'while connecting')]);
    await waitFor(async () => (await ingested(r1)) === 2, { what: 'r1 to ingest "while connecting"' });
    gate.release();
    await routerTailClients(r1, 1, "the TC's live stream from r1 open");
    await s1.sendEnvelopes([envelope('app-a', 'after')]);
    await waitForLine(client, 'after');

    expect(messages(client.received)).toEqual(['before', 'while connecting', 'after']);
  });

  // routerFeeds says "joined; its lines of this app
  // are included from now on" when the router enters the set, before its stream is open; lines
  // it receives until the connection is up are missing, though the client was told otherwise.
  it("says 'joined' only once the new router's stream is open: a line sent to it on hearing the notice arrives", async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const gate = await GateProxy.start(teardown, r2);
    const tc: TcRun = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await routerTailClients(r1, 1);
    const s2 = teardown.sender(r2);

    gate.hold(isUpgrade);
    tc.routers$.next([routerInfo('r1', r1), routerInfo('r2', r2, gate.address)]);
    await waitFor(() => gate.held === 1, { what: 'the upgrade to r2 held at the gate' });
    // A client that reads "joined" and then has a line sent to r2 (here: as soon as it hears it).
    const heard = await waitFor(() => noticesMatching(client, /router r2 joined/).length > 0, { what: '"joined"', timeoutMs: 1_000 }).catch(() => false);
    if (heard) {
      await s2.sendEnvelopes([envelope('app-a', 'sent on hearing joined')]);
      await waitFor(async () => (await ingested(r2)) === 1, { what: 'r2 to ingest the line' });
    }
    gate.release();
    await waitFor(() => noticesMatching(client, /router r2 joined/).length > 0, { what: '"joined" once r2 is connected' });
    if (!heard) await s2.sendEnvelopes([envelope('app-a', 'sent on hearing joined')]);
    await waitForLine(client, 'sent on hearing joined');
    expect(await metricValue(r2, 'loggregator_tail_clients')).toBe(1);
  });
});
