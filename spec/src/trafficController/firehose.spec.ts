// websocket /firehose?subscription=ID through the traffic controller, against real routers:
//
//   UDP apps 0..9  ──▶ r1 ──┐                    ┌──▶ team-a consumer 1: apps it hashes to, each in order
//   UDP apps 10..19 ─▶ r2 ──┴──▶ TC /firehose ───┼──▶ team-a consumer 2: the other apps (disjoint; union = all)
//                        (one stream per router) └──▶ team-b consumer:   every line
//
// A consumer that stops reading loses its own oldest lines and is told how many; nobody else
// loses a line. Notices about the routers behind the stream go to every consumer. Only tokens
// allowed the firehose ("*", "firehose") get in.
import { Envelope } from '../../../src/envelope/envelope';
import { routerApiToken } from '../../../src/auth/routerApiToken';
import { metricValue } from '../../support/routerMetricValue';
import { TailClient, refusedTail } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { TC_SOURCE, TcRun, newToken, routerInfo, startTc } from '../../support/trafficControllerHarness';
import { lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';
import type { Router } from '../../../src/router/router';

jest.setTimeout(60_000);

const ADMIN = newToken('admin');
const NOZZLE = newToken('nozzle');
const APP_ONLY = newToken('app-only');
const tokens = { [ADMIN]: '*' as const, [NOZZLE]: 'firehose' as const, [APP_ONLY]: ['app-0'] };
const apps = Array.from({ length: 20 }, (_, k) => `app-${k}`);
const DROPPED = /^dropped (\d+) messages since (\S+): consumer too slow$/;

/** Lines by app, in the order a client received them. */
function byApp(received: Envelope[]): Map<string, number[]> {
  const lines = new Map<string, number[]>();
  for (const e of received.filter(x => x.sourceType !== 'LGR')) lines.set(e.appId, [...(lines.get(e.appId) ?? []), lineNumber(e.message)]);
  return lines;
}

const count = (n: number) => Array.from({ length: n }, (_, k) => k);

/** Waits until every router holds the TC's firehose stream (with router workers, once all of them feed it). */
async function firehoseStreamsOpen(routers: Router[]): Promise<void> {
  for (const router of routers) {
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: "the TC's firehose stream at the router" });
  }
}

async function consumersJoined(tc: TcRun, subscription: string, n: number): Promise<void> {
  await waitFor(async () => (await tc.metric('loggregator_tc_firehose_consumers', { subscription })) === n, { what: `${n} consumer(s) of ${subscription}` });
}

describe('traffic controller /firehose', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("splits a subscription's lines between its consumers by app, each app in order at one of them, and gives another subscription every line", async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const a1 = await tc.firehose('team-a', ADMIN);
    const a2 = await tc.firehose('team-a', NOZZLE);
    const b = await tc.firehose('team-b', NOZZLE);
    await consumersJoined(tc, 'team-a', 2);
    await firehoseStreamsOpen([r1, r2]);

    // 1,000 lines over 20 apps, 50 each; apps 0..9 on r1, 10..19 on r2, interleaved.
    const s1 = teardown.sender(r1);
    const s2 = teardown.sender(r2);
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 10; k++) {
        await s1.sendEnvelopes(numbered(apps[k], 10, round * 10));
        await s2.sendEnvelopes(numbered(apps[10 + k], 10, round * 10));
      }
    }
    await waitFor(() => a1.received.length + a2.received.length >= 1000 && b.received.length >= 1000, { what: '1,000 lines at team-a and at team-b' });

    const first = byApp(a1.received);
    const second = byApp(a2.received);
    // Disjoint, together every app, each app whole and in order where it went.
    expect([...first.keys()].filter(app => second.has(app))).toEqual([]);
    expect([...first.keys(), ...second.keys()].sort()).toEqual([...apps].sort());
    for (const [app, lines] of [...first, ...second]) expect({ app, lines }).toEqual({ app, lines: count(50) });
    expect(first.size).toBeGreaterThan(0);
    expect(second.size).toBeGreaterThan(0);
    expect(a1.received.length + a2.received.length).toBe(1000);
    // The other subscription: all 1,000, each app in order.
    const all = byApp(b.received);
    expect(all.size).toBe(20);
    for (const [app, lines] of all) expect({ app, lines }).toEqual({ app, lines: count(50) });
    expect(b.received).toHaveLength(1000);
    expect([...a1.malformed, ...a2.malformed, ...b.malformed]).toEqual([]);

    // One stream per router for all three consumers; counted per subscription.
    await waitFor(async () => (await tc.metric('loggregator_tc_firehose_sent_total', { subscription: 'team-a' })) === 1000, { what: "team-a's sent count" });
    expect(await tc.metric('loggregator_tc_firehose_sent_total', { subscription: 'team-b' })).toBe(1000);
    expect(await tc.metric('loggregator_tc_firehose_consumers', { subscription: 'team-b' })).toBe(1);
    expect(await metricValue(r1, 'loggregator_router_firehose_clients')).toBe(1);
    expect(await tc.metric('loggregator_tc_firehose_dropped_total')).toBe(0);
  });

  it("moves a consumer's apps to the others when it leaves, and ends the routers' streams with the last consumer", async () => {
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens });
    const a1 = await tc.firehose('team-a', ADMIN);
    const a2 = await tc.firehose('team-a', ADMIN);
    await consumersJoined(tc, 'team-a', 2);
    await firehoseStreamsOpen([r1]);
    const sender = teardown.sender(r1);
    for (const app of apps) await sender.sendEnvelopes(numbered(app, 5, 0));
    await waitFor(() => a1.received.length + a2.received.length >= 100, { what: 'the first 100 lines' });
    const leaverApps = [...byApp(a1.received).keys()];
    expect(leaverApps.length).toBeGreaterThan(0);

    a1.terminate();
    await consumersJoined(tc, 'team-a', 1);
    for (const app of apps) await sender.sendEnvelopes(numbered(app, 5, 5));
    await waitFor(() => a2.received.length >= 100 - leaverApps.length * 5 + 100, { what: 'the next 100 lines at the one consumer left' });
    const stayed = byApp(a2.received);
    for (const app of apps) expect({ app, later: (stayed.get(app) ?? []).filter(n => n >= 5) }).toEqual({ app, later: [5, 6, 7, 8, 9] });

    a2.terminate();
    await waitFor(async () => (await metricValue(r1, 'loggregator_router_firehose_clients')) === 0, { what: "the router's firehose stream to end" });
    // The subscription's series went with it.
    expect(await tc.metric('loggregator_tc_firehose_consumers')).toBe(0);
  });

  it('tells a consumer that stops reading how many lines it lost, and the other consumers lose none', async () => {
    const r1 = await teardown.router();
    const tc = await startTc(teardown, {
      routers: [routerInfo('r1', r1)],
      tokens,
      // Room for a round's burst (the routers' lines come in bursts), little for a consumer that stops.
      config: { firehose: { maxQueuedLines: 600, maxQueuedBytes: 2 * 1024 * 1024 }, tail: { keepaliveSeconds: 60 } },
    });
    const slow = await tc.firehose('team-a', ADMIN);
    const fast = await tc.firehose('team-a', ADMIN);
    const other = await tc.firehose('team-b', ADMIN);
    await consumersJoined(tc, 'team-a', 2);
    await firehoseStreamsOpen([r1]);
    slow.ws.pause(); // no longer read: the kernel's buffers fill, then its queue of 50

    const sender = teardown.sender(r1);
    const pad = ' ' + 'x'.repeat(2000);
    const drops = () => tc.metric('loggregator_tc_firehose_dropped_total', { subscription: 'team-a' });
    let rounds = 0;
    const sendRound = async () => {
      for (const app of apps) await sender.sendEnvelopes(numbered(app, 25, rounds * 25, pad));
      rounds++;
      await waitFor(() => other.received.length >= rounds * 500, { what: `team-b to receive ${rounds * 500} lines`, timeoutMs: 15_000 });
    };
    // How much the kernel absorbs depends on the machine: send until drops begin (at most 40
    // rounds, and none begun after 90 s), then once more. With each round's wait and the three
    // below (15 s each at most), the test's timeout is 180 s.
    const lastRoundBy = Date.now() + 90_000;
    while (rounds < 40 && Date.now() < lastRoundBy && (await drops()) === 0) await sendRound();
    expect(await drops()).toBeGreaterThan(0);
    await sendRound();
    const sent = rounds * 25;

    // The fast consumer of the same subscription got every line of its apps, the other subscription every line.
    const slowApps = new Set([...byApp(slow.received).keys()]);
    for (const [app, lines] of byApp(other.received)) expect({ app, lines }).toEqual({ app, lines: count(sent) });
    expect(other.notices).toEqual([]);
    await waitFor(() => [...byApp(fast.received).values()].every(l => l.length === sent) && byApp(fast.received).size > 0, { what: "the fast consumer's apps complete" });
    for (const [app, lines] of byApp(fast.received)) expect({ app, lines }).toEqual({ app, lines: count(sent) });
    expect(fast.notices).toEqual([]);
    for (const app of byApp(fast.received).keys()) expect(slowApps.has(app)).toBe(false);

    // Reading again, the slow one is told, once per gap, exactly how many it lost.
    slow.ws.resume();
    const lostAt = await drops();
    await waitFor(() => slow.notices.length > 0, { what: 'the drop notice at the slow consumer', timeoutMs: 15_000 });
    await waitFor(async () => {
      const got = slow.received.filter(e => e.sourceType !== 'LGR').length;
      const told = slow.notices.reduce((n, e) => n + Number(DROPPED.exec(e.message)?.[1] ?? NaN), 0);
      return got + told === sent * (apps.length - byApp(fast.received).size);
    }, { what: 'every line of its share either received or announced as dropped', timeoutMs: 15_000 });
    for (const notice of slow.notices) {
      expect(notice).toMatchObject({ appId: 'firehose', sourceType: 'LGR', sourceInstance: TC_SOURCE, messageType: 'ERR' });
      expect(notice.message).toMatch(DROPPED);
    }
    const announced = slow.notices.reduce((n, e) => n + Number(DROPPED.exec(e.message)![1]), 0);
    expect(announced).toBe(await drops());
    expect(lostAt).toBeGreaterThan(0);
    expect(await tc.metric('loggregator_tc_dropped_total', { reason: 'firehose_slow_consumer' })).toBe(announced);
    expect(await metricValue(r1, 'loggregator_dropped_total', { reason: 'firehose_slow_consumer' })).toBe(0);
  }, 180_000);

  it('tells every consumer of every subscription when a router leaves the set', async () => {
    const r1 = await teardown.router();
    const r2 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const consumers = [await tc.firehose('team-a', ADMIN), await tc.firehose('team-a', ADMIN), await tc.firehose('team-b', ADMIN)];
    await consumersJoined(tc, 'team-a', 2);
    await firehoseStreamsOpen([r1, r2]);

    tc.routers$.next([routerInfo('r2', r2)]);
    for (const consumer of consumers) {
      await waitFor(() => consumer.notices.some(e => /^router r1 left; lines it had not forwarded yet are lost$/.test(e.message)), { what: 'the notice at every consumer' });
    }
    // Still connected, still served by r2.
    await teardown.sender(r2).sendEnvelopes(numbered('app-7', 3, 0));
    await waitFor(() => consumers[2].lines.length === 3, { what: "r2's lines at team-b" });
    await waitFor(() => consumers[0].lines.length + consumers[1].lines.length === 3, { what: "r2's lines at team-a" });
    expect(consumers.some(c => c.isClosed)).toBe(false);
  });

  it('lets in only tokens allowed the firehose, with a valid subscription, up to maxConsumers', async () => {
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens, config: { firehose: { maxConsumers: 2 } } });
    const path = '/firehose?subscription=team-a';
    const refusal = (status: number, body: string) => ({ status, error: (JSON.parse(body) as { error: string }).error });

    const none = await tc.refusedUpgrade(path);
    expect(refusal(none.status, none.body)).toEqual({ status: 401, error: expect.stringMatching(/a token is required/) });
    const appOnly = await tc.refusedUpgrade(path, { authorization: `Bearer ${APP_ONLY}` });
    expect(refusal(appOnly.status, appOnly.body)).toEqual({ status: 403, error: expect.stringMatching(/^token may not read the firehose \(grant it "firehose" in .*tokens\.json\)$/) });
    const unknown = await tc.refusedUpgrade(path, { authorization: `Bearer ${newToken('stranger')}` });
    expect(unknown.status).toBe(401);
    for (const bad of ['/firehose', '/firehose?subscription=', `/firehose?subscription=${'x'.repeat(129)}`, '/firehose?subscription=a%20b', '/firehose?subscription=%C3%A9']) {
      const answer = await tc.refusedUpgrade(bad, { authorization: `Bearer ${ADMIN}` });
      expect({ bad, ...refusal(answer.status, answer.body) }).toEqual({ bad, status: 400, error: expect.stringMatching(/^query parameter subscription: .*; use 1-128 characters of A-Z a-z 0-9 \. _ : -/) });
    }
    const browser = await tc.refusedUpgrade(path, { authorization: `Bearer ${ADMIN}`, origin: 'https://evil.example' });
    expect(browser.status).toBe(403);
    // The access_token query parameter works as for /tail.
    const byQuery = teardown.add(await TailClient.openPath({ ...tc.address, address: '127.0.0.1' }, `${path}&access_token=${NOZZLE}`), c => c.terminate());
    await tc.firehose('team-b', ADMIN);
    const full = await tc.refusedUpgrade(path, { authorization: `Bearer ${ADMIN}` });
    expect(refusal(full.status, full.body)).toEqual({ status: 503, error: 'firehose client limit of 2 reached; try again later' });
    // Tails have a limit of their own: the firehose does not use it up.
    await tc.tail('app=app-0', APP_ONLY);
    expect(byQuery.isClosed).toBe(false);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'forbidden' })).toBe(1);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'too_many_clients' })).toBe(1);
  });

  it('answers /firehose without an upgrade with what the upgrade would refuse, or 426 when the token would be let in (the web console asks it)', async () => {
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens, config: { firehose: { maxConsumers: 1 } } });
    const path = '/firehose?subscription=console-1';
    const answer = async (pathAndQuery: string, token?: string) => {
      const got = await tc.get(pathAndQuery, { token });
      return { status: got.status, error: (JSON.parse(got.body) as { error: string }).error };
    };

    expect(await answer(path)).toEqual({ status: 401, error: 'a token is required: send "Authorization: Bearer <token>"' });
    expect(await answer(path, newToken('stranger'))).toEqual({ status: 401, error: expect.stringMatching(/unknown or expired token/) });
    expect(await answer(path, APP_ONLY)).toEqual({ status: 403, error: expect.stringMatching(/^token may not read the firehose \(grant it "firehose" in .*tokens\.json\)$/) });
    expect(await answer('/firehose', ADMIN)).toEqual({ status: 400, error: expect.stringMatching(/^query parameter subscription: missing; use 1-128 characters/) });
    // The token in the URL is refused, not read: the check is for pages, whose URLs end up in logs.
    expect(await answer(`${path}&access_token=${NOZZLE}`)).toEqual({ status: 401, error: expect.stringMatching(/access_token query parameter is not accepted here/) });
    const allowed = await tc.get(path, { token: NOZZLE });
    expect({ status: allowed.status, upgrade: allowed.headers.get('upgrade') }).toEqual({ status: 426, upgrade: 'websocket' });
    expect(JSON.parse(allowed.body)).toEqual({ error: '/firehose is a websocket endpoint: connect with a websocket client (this token may read the firehose)' });
    expect((await tc.get(path, { token: ADMIN, method: 'POST' })).status).toBe(405);

    // At the consumer limit: 503, as the upgrade would answer.
    await tc.firehose('team-a', ADMIN);
    expect(await answer(path, ADMIN)).toEqual({ status: 503, error: 'firehose client limit of 1 reached; try again later' });
    // Counted as refusals, except the 426 (not a refusal: the answer to a check that passed).
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'forbidden' })).toBe(1);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(3);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'bad_request' })).toBe(1);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'too_many_clients' })).toBe(1);
    expect(tc.logs.join('\n')).not.toContain(NOZZLE);
  });

  it("asks routers for their firehose with the routers' API token when sharedSecret is set; a router refuses it without", async () => {
    const SECRET = 'a-cluster-secret-of-some-length';
    const r1 = await teardown.router({ sharedSecret: SECRET });
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens, sharedSecret: SECRET });
    const consumer = await tc.firehose('team-a', ADMIN);
    await firehoseStreamsOpen([r1]);
    await teardown.sender(r1).sendEnvelopes(numbered('app-3', 2, 0), SECRET);
    await waitFor(() => consumer.lines.length === 2, { what: 'the signed lines through the firehose' });

    expect((await refusedTail(r1.httpAddress, '/firehose')).status).toBe(401);
    expect((await refusedTail(r1.httpAddress, '/firehose', { authorization: `Bearer ${routerApiToken('another-secret-of-16+')}` })).status).toBe(401);
  });
});
