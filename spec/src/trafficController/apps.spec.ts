// GET /apps through the traffic controller: every router's apps, merged, then only those the
// caller's token may read:
//
//   r1  app-a@100 app-b@300       ┐                       admin    app-c@400 app-b@300 app-a@100
//   r2  app-c@400                 ├──▶ TC /apps ──▶       reader   app-c@400 app-a@100          (may read app-a, app-c)
//                                 ┘                       nobody   (none)                       (may read app-z only)
//
//   no token, an unknown token (with or without apps to list), ?access_token=, a bad limit ──▶ 401 / 400, counted
//   a router down ──▶ named in X-Skipped-Routers; every router down ──▶ 502
import { Teardown } from '../../support/teardown';
import { TcOverrides, closedPort, ingested, newToken, routerInfo, startTc } from '../../support/trafficControllerHarness';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const ADMIN = newToken('admin');
const READER = newToken('reader');
const NOBODY = newToken('nobody');
const tokens = { [ADMIN]: '*' as const, [READER]: ['app-a', 'app-c'], [NOBODY]: ['app-z'] };

// Every test needs the live routers' lists in the merge; the harness's 1 s deadline is for specs
// of the deadline. Under the 10 s the harness's own requests wait, so that a router too slow
// still shows as named in X-Skipped-Routers rather than as a request given up on.
const ROUTERS_ANSWER_WITHIN: TcOverrides = { recent: { timeoutMs: 8_000 } };

const listed = (body: string): string[] => (JSON.parse(body) as { apps: { appId: string; timestamp: string }[] }).apps.map(a => `${a.appId}@${a.timestamp}`);

describe('traffic controller GET /apps', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("lists every router's apps the token may read, the most recently active first, with their last line's time", async () => {
    const [r1, r2] = [await teardown.router(), await teardown.router()];
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), routerInfo('r2', r2)], tokens, config: ROUTERS_ANSWER_WITHIN });
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'a', { timestamp: '100' }), envelope('app-b', 'b', { timestamp: '300' })]);
    await teardown.sender(r2).sendEnvelopes([envelope('app-c', 'c', { timestamp: '400' })]);
    await waitFor(async () => (await ingested(r1)) === 2 && (await ingested(r2)) === 1, { what: 'every line ingested' });

    const admin = await tc.get('/apps', { token: ADMIN });
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(admin.headers.get('x-routers-asked')).toBe('2');
    expect(admin.headers.get('x-skipped-routers')).toBeNull();
    expect(listed(admin.body)).toEqual(['app-c@400', 'app-b@300', 'app-a@100']);
    expect(JSON.parse(admin.body).more).toBe(false);

    const reader = await tc.get('/apps', { token: READER });
    expect([reader.status, listed(reader.body)]).toEqual([200, ['app-c@400', 'app-a@100']]);
    const nobody = await tc.get('/apps', { token: NOBODY });
    expect([nobody.status, JSON.parse(nobody.body)]).toEqual([200, { apps: [], more: false }]);

    const one = await tc.get('/apps?limit=1', { token: READER });
    expect([listed(one.body), JSON.parse(one.body).more]).toEqual([['app-c@400'], true]);
  });

  it('refuses a caller without a valid token, a token in the URL and a bad limit, saying why, counted', async () => {
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens, config: ROUTERS_ANSWER_WITHIN });
    // No app has lines yet: an unknown token is refused all the same.
    const unknownEmpty = await tc.get('/apps', { token: newToken('unknown') });
    expect([unknownEmpty.status, JSON.parse(unknownEmpty.body)]).toEqual([401, { error: 'unknown or expired token' }]);
    expect(unknownEmpty.headers.get('www-authenticate')).toBe('Bearer realm="loggregator", error="invalid_token"');
    const validEmpty = await tc.get('/apps', { token: READER });
    expect([validEmpty.status, JSON.parse(validEmpty.body)]).toEqual([200, { apps: [], more: false }]);

    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'a')]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'the line ingested' });
    const none = await tc.get('/apps');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).error).toMatch(/a token is required: send "Authorization: Bearer <token>"/);
    const unknown = await tc.get('/apps', { token: newToken('unknown') });
    expect([unknown.status, JSON.parse(unknown.body)]).toEqual([401, { error: 'unknown or expired token' }]);
    const inUrl = await tc.get(`/apps?access_token=${ADMIN}`);
    expect(inUrl.status).toBe(401);
    expect(JSON.parse(inUrl.body).error).toMatch(/access_token query parameter is not accepted here/);
    expect(inUrl.body).not.toContain(ADMIN);
    for (const query of ['limit=0', 'limit=1001', 'limit=ten']) {
      const bad = await tc.get(`/apps?${query}`, { token: ADMIN });
      expect([query, bad.status]).toEqual([query, 400]);
      expect(JSON.parse(bad.body).error).toMatch(/^invalid limit/);
    }
    const post = await tc.get('/apps', { token: ADMIN, method: 'POST' });
    expect(post.status).toBe(405);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(4);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'bad_request' })).toBe(3);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'method_not_allowed' })).toBe(1);
    expect(tc.logs.join('\n')).not.toContain(ADMIN);
  });

  it('lists the apps of the routers that answer, names those that did not, and is a 502 when none did', async () => {
    const r1 = await teardown.router();
    const down = await closedPort();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), { id: 'r2', udp: '127.0.0.1:9', http: `127.0.0.1:${down}` }], tokens, config: ROUTERS_ANSWER_WITHIN });
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'a', { timestamp: '100' })]);
    await waitFor(async () => (await ingested(r1)) === 1, { what: 'the line ingested' });
    const partial = await tc.get('/apps', { token: ADMIN });
    expect([partial.status, listed(partial.body)]).toEqual([200, ['app-a@100']]);
    expect(partial.headers.get('x-routers-asked')).toBe('2');
    expect(partial.headers.get('x-skipped-routers')).toBe('r2 (unreachable)');

    tc.routers$.next([{ id: 'r2', udp: '127.0.0.1:9', http: `127.0.0.1:${down}` }]);
    const failed = await tc.get('/apps', { token: ADMIN });
    expect([failed.status, JSON.parse(failed.body)]).toEqual([502, { error: 'no router answered: r2 (unreachable)' }]);
    expect(await tc.metric('loggregator_tc_apps_router_failures_total', { reason: 'unreachable' })).toBe(2);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'routers_failed' })).toBe(1);
  });
});
