// GET /apps on a router (one thread, or a front door merging its workers' lists):
//
//   UDP  app-a@100 app-c@200 app-b@300 app-a@400  ──▶  GET /apps          {"apps": [app-a@400, app-b@300, app-c@200], "more": false}
//                                                      GET /apps?limit=2  {"apps": [app-a@400, app-b@300], "more": true}
//
// limit=N lists the N apps written to last (what a router can find without looking at every app),
// ordered by their last lines' timestamps (the order that spans workers and routers).
//   ?limit=0, ?limit=x, POST, no router API token (with sharedSecret) ──▶ 400 / 405 / 401, counted
import { routerApiHeaders, routerApiToken } from '../../../src/auth/routerApiToken';
import { Router } from '../../../src/router/router';
import { httpGet } from '../../support/httpGet';
import { metricValue } from '../../support/routerMetricValue';
import { Teardown } from '../../support/teardown';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const SECRET = 'sixteen-chars-secret!';

async function sendAndWait(teardown: Teardown, router: Router, lines: ReturnType<typeof envelope>[], secret?: string): Promise<void> {
  await teardown.sender(router).sendEnvelopes(lines, secret);
  await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === lines.length, { what: `${lines.length} lines ingested` });
}

describe('router GET /apps', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("lists the apps with recent lines, the most recently active first, each with its last line's timestamp", async () => {
    const router = await teardown.router();
    // Apps spread over the workers (with two): the front door merges their lists.
    await sendAndWait(teardown, router, [
      envelope('app-d', 'd1', { timestamp: '50' }),
      envelope('app-e', 'e1', { timestamp: '60' }),
      envelope('app-a', 'a1', { timestamp: '100' }),
      envelope('app-c', 'c1', { timestamp: '200' }),
      envelope('app-b', 'b1', { timestamp: '300' }),
      envelope('app-a', 'a2', { timestamp: '400' }),
    ]);
    const all = await httpGet(router.httpAddress, '/apps');
    expect(all.status).toBe(200);
    expect(all.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(all.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(all.body)).toEqual({
      apps: [
        { appId: 'app-a', timestamp: '400' },
        { appId: 'app-b', timestamp: '300' },
        { appId: 'app-c', timestamp: '200' },
        { appId: 'app-e', timestamp: '60' },
        { appId: 'app-d', timestamp: '50' },
      ],
      more: false,
    });
    const two = await httpGet(router.httpAddress, '/apps?limit=2');
    expect(JSON.parse(two.body)).toEqual({ apps: [{ appId: 'app-a', timestamp: '400' }, { appId: 'app-b', timestamp: '300' }], more: true });
    const head = await httpGet(router.httpAddress, '/apps', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('answers an empty list when no app has lines', async () => {
    const router = await teardown.router();
    const none = await httpGet(router.httpAddress, '/apps');
    expect([none.status, JSON.parse(none.body)]).toEqual([200, { apps: [], more: false }]);
  });

  it('refuses a bad limit and another method than GET, saying why, counted', async () => {
    const router = await teardown.router();
    for (const query of ['limit=0', 'limit=1001', 'limit=x', 'limit=-1', 'limit=1&limit=2']) {
      const answer = await httpGet(router.httpAddress, `/apps?${query}`);
      expect([query, answer.status]).toEqual([query, 400]);
      expect(JSON.parse(answer.body).error).toMatch(/limit/);
    }
    const post = await httpGet(router.httpAddress, '/apps', 'POST');
    expect([post.status, post.headers.allow, JSON.parse(post.body)]).toEqual([405, 'GET, HEAD', { error: 'POST not allowed; use GET' }]);
    expect(await metricValue(router, 'loggregator_http_refused_total', { reason: 'bad_request' })).toBe(5);
    expect(await metricValue(router, 'loggregator_http_refused_total', { reason: 'method_not_allowed' })).toBe(1);
  });

  it('wants the routers API token when sharedSecret is set, as /recent does', async () => {
    const router = await teardown.router({ sharedSecret: SECRET });
    await sendAndWait(teardown, router, [envelope('app-a', 'signed', { timestamp: '100' })], SECRET);
    const without = await httpGet(router.httpAddress, '/apps');
    expect(without.status).toBe(401);
    expect(without.headers['www-authenticate']).toBe('Bearer realm="loggregator-router"');
    expect(JSON.parse(without.body).error).toMatch(/router API token/);
    const wrong = await httpGet(router.httpAddress, '/apps', 'GET', routerApiHeaders(routerApiToken('another-secret-of-16')));
    expect(wrong.status).toBe(401);
    const right = await httpGet(router.httpAddress, '/apps', 'GET', routerApiHeaders(routerApiToken(SECRET)));
    expect([right.status, JSON.parse(right.body)]).toEqual([200, { apps: [{ appId: 'app-a', timestamp: '100' }], more: false }]);
    expect(await metricValue(router, 'loggregator_http_refused_total', { reason: 'unauthorized' })).toBe(2);
  });
});
