// With sharedSecret set, a router's /recent and /tail want the routers' API token (derived from
// the secret); /health and /metrics stay open. The traffic controller, holding the same secret,
// sends it: clients notice nothing. One with another secret is refused, and says which router.
//
//   client ──(user token)──▶ TC ──(router API token)──▶ router(secret S)       lines
//   curl ────(nothing / wrong / S's token)──────────▶ router(secret S)         401 / 401 / 200
import { routerApiToken } from '../../../src/auth/routerApiToken';
import { Teardown } from '../../support/teardown';
import { TailClient, refusedTail } from '../../support/tailClient';
import { ingested, newToken, routerInfo, startTc } from '../../support/trafficControllerHarness';
import { envelope } from '../../support/udpSender';
import { metricValue as routerMetricValue } from '../../support/routerMetricValue';
import { waitFor } from '../../support/waitFor';

const SECRET = 'a-cluster-secret-of-some-length';
const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };

describe("routers' API token (sharedSecret)", () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('a router refuses /recent and /tail without the token or with a wrong one (401, counted), serves them with it, and leaves /health and /metrics open', async () => {
    const router = await teardown.router({ sharedSecret: SECRET });
    const base = `http://127.0.0.1:${router.httpAddress.port}`;
    const good = { Authorization: `Bearer ${routerApiToken(SECRET)}` };

    const none = await fetch(`${base}/recent?app=a`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="loggregator-router"');
    expect(((await none.json()) as { error: string }).error).toMatch(/needs the router API token .*no Authorization header/);
    const wrong = await fetch(`${base}/recent?app=a`, { headers: { Authorization: `Bearer ${routerApiToken('another-secret-of-16+')}` } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/wrong router API token/);
    const secretItself = await fetch(`${base}/recent?app=a`, { headers: { Authorization: `Bearer ${SECRET}` } });
    expect(secretItself.status).toBe(401);
    expect((await fetch(`${base}/recent?app=a`, { headers: good })).status).toBe(200);

    expect((await refusedTail(router.httpAddress, '/tail?app=a')).status).toBe(401);
    expect((await refusedTail(router.httpAddress, '/tail?app=a', { Authorization: 'Bearer 0123' })).status).toBe(401);
    const tail = teardown.add(await TailClient.open(router.httpAddress, 'app=a', { headers: good }), t => t.terminate());
    await teardown.sender(router).sendEnvelopes([envelope('a', 'signed line')], SECRET);
    await waitFor(() => tail.lines.some(e => e.message === 'signed line'), { what: 'the line on the authorized tail' });

    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect(await routerMetricValue(router, 'loggregator_http_refused_total', { reason: 'unauthorized' })).toBe(5);
  });

  it('the traffic controller with the same secret reads tail and recent through such routers; with another secret the router is named as refusing', async () => {
    const router = await teardown.router({ sharedSecret: SECRET });
    const same = await startTc(teardown, { routers: [routerInfo('r1', router)], tokens, sharedSecret: SECRET });
    const other = await startTc(teardown, { routers: [routerInfo('r1', router)], tokens, sharedSecret: 'not-the-cluster-secret' });

    const tail = await same.tail('app=a', ADMIN);
    await waitFor(async () => (await routerMetricValue(router, 'loggregator_tail_clients')) === 1, { what: "the TC's upstream tail at the router" });
    await teardown.sender(router).sendEnvelopes([envelope('a', 'through the front door')], SECRET);
    await waitFor(() => tail.lines.some(e => e.message === 'through the front door'), { what: 'the line through the TC tail' });
    await waitFor(async () => (await ingested(router)) === 1, { what: 'the line ingested' });

    const recent = await same.get('/recent?app=a', { token: ADMIN });
    expect(recent.status).toBe(200);
    expect(recent.body).toContain('through the front door');
    expect(recent.headers.get('x-skipped-routers')).toBeNull();

    // Every router refusing: a 502 naming them, not an empty 200 that reads as an app without lines.
    const refused = await other.get('/recent?app=a', { token: ADMIN });
    expect(refused.status).toBe(502);
    expect(refused.headers.get('x-skipped-routers')).toBe('r1 (refused)');
    expect((JSON.parse(refused.body) as { error: string }).error).toBe('no router answered: r1 (refused)');
    expect(await other.metric('loggregator_tc_recent_router_failures_total', { router: 'r1', reason: 'refused' })).toBe(1);
    expect(await other.metric('loggregator_tc_refused_total', { reason: 'routers_failed' })).toBe(1);
    // And the operator is told what to check, once (not per request).
    await other.get('/recent?app=a', { token: ADMIN });
    const warnings = other.logs.filter(l => l.includes('a router refused the traffic controller'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is sharedSecret the same on the traffic controller and the router\?/);
    // A router that leaves is forgotten (ids come and go): back, it is warned about again.
    other.routers$.next([]);
    other.routers$.next([routerInfo('r1', router)]);
    await other.get('/recent?app=a', { token: ADMIN });
    expect(other.logs.filter(l => l.includes('a router refused the traffic controller'))).toHaveLength(2);
  });
});
