// The traffic controller's self metrics over HTTP (GET /metrics, Prometheus text, no token needed)
// and /health: tail clients connected now, requests refused by reason, routers in the set.
import { Teardown } from '../../support/teardown';
import { closedPort, newToken, promValue, routerInfo, startTc } from '../../support/trafficControllerHarness';
import { waitFor } from '../../support/waitFor';

const ADMIN = newToken('admin');
const READER = newToken('reader');
const tokens = { [ADMIN]: '*' as const, [READER]: ['app-a'] };

describe('traffic controller /metrics and /health', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('shows the tail clients connected, the requests refused by reason, and the routers', async () => {
    const [r1, r2] = [await teardown.router(), await teardown.router()];
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens });
    const scrape = async () => {
      const answer = await tc.get('/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return answer.body;
    };

    const idle = await scrape();
    expect(promValue(idle, 'loggregator_tc_tail_clients')).toBe(0);
    expect(promValue(idle, 'loggregator_tc_routers')).toBe(2);
    for (const reason of ['unauthorized', 'forbidden', 'bad_request', 'not_found', 'method_not_allowed', 'authorizer_unavailable']) {
      expect({ reason, value: promValue(idle, 'loggregator_tc_refused_total', { reason }) }).toEqual({ reason, value: 0 });
    }
    expect(promValue(idle, 'loggregator_tc_invalid_router_lines_total')).toBe(0);

    const a = await tc.tail('app=app-a', READER);
    await tc.tail('app=app-b', ADMIN);
    await tc.get('/recent?app=app-a'); // 401
    await tc.refusedUpgrade('/tail?app=app-a', { authorization: `Bearer ${newToken('unknown')}` }); // 401
    await tc.get('/recent?app=app-b', { token: READER }); // 403
    await tc.get('/recent?app=not%20an%20app', { token: ADMIN }); // 400
    await tc.get('/nowhere'); // 404
    await tc.get('/recent?app=app-a', { token: ADMIN, method: 'PUT' }); // 405

    const busy = await scrape();
    expect(promValue(busy, 'loggregator_tc_tail_clients')).toBe(2);
    expect(promValue(busy, 'loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(2);
    expect(promValue(busy, 'loggregator_tc_refused_total', { reason: 'forbidden' })).toBe(1);
    expect(promValue(busy, 'loggregator_tc_refused_total', { reason: 'bad_request' })).toBe(1);
    expect(promValue(busy, 'loggregator_tc_refused_total', { reason: 'not_found' })).toBe(1);
    expect(promValue(busy, 'loggregator_tc_refused_total', { reason: 'method_not_allowed' })).toBe(1);

    a.terminate();
    await waitFor(async () => promValue(await scrape(), 'loggregator_tc_tail_clients') === 1, { what: 'one tail client left' });

    tc.routers$.next([routerInfo('r1', r1)]);
    expect(promValue(await scrape(), 'loggregator_tc_routers')).toBe(1);
    const health = await tc.get('/health');
    expect([health.status, JSON.parse(health.body)]).toEqual([200, { status: 'ok', routers: 1, routersKnown: true }]);
  });

  it("drops a router's series when it leaves the set, so router ids that come and go do not grow the registry", async () => {
    const r1 = await teardown.router();
    const gone = { id: 'r9', udp: '127.0.0.1:9', http: `127.0.0.1:${await closedPort()}` };
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), gone], tokens });
    expect((await tc.get('/recent?app=app-a', { token: ADMIN })).status).toBe(200);
    const before = (await tc.get('/metrics')).body;
    expect(promValue(before, 'loggregator_tc_recent_router_failures_total', { router: 'r9', reason: 'unreachable' })).toBe(1);

    tc.routers$.next([routerInfo('r1', r1)]);
    const after = (await tc.get('/metrics')).body;
    expect(after).not.toContain('router="r9"');
  });
});
