// Bad input at the traffic controller's edges, from clients and from routers:
//
//   client: bad app id, no app, bad limit, bad recent  → 400     unknown path → 404     POST → 405 (Allow)
//   router: frames that are not envelopes, or are another app's lines → skipped, counted in
//           loggregator_tc_invalid_router_lines_total; the valid lines around them still arrive.
import { encodeEnvelopeJson } from '../../../src/envelope/codec';
import { Teardown } from '../../support/teardown';
import { FakeRouter, newToken, routerInfo, routerTailClients, startTc } from '../../support/trafficControllerHarness';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };
const errorOf = (body: string): string => (JSON.parse(body) as { error: string }).error;

describe('traffic controller bad input', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('answers 400 to a bad app id, a missing app, a limit out of range and a bad recent, on /recent and on the upgrade', async () => {
    const tc = await startTc(teardown, { tokens, config: { recent: { maxLines: 50 } } });
    const cases: [string, RegExp][] = [
      ['app=bad%20app', /invalid app id "bad app"/],
      ['app=-starts-with-dash', /invalid app id/],
      [`app=${'a'.repeat(49)}`, /invalid app id/],
      ['', /missing query parameter "app"/],
      ['app=app-a&app=app-b', /"app" given more than once/],
      ['app=app-a&limit=0', /invalid limit "0": a whole number from 1 to 50/],
      ['app=app-a&limit=51', /invalid limit "51": a whole number from 1 to 50/],
      ['app=app-a&limit=-1', /invalid limit/],
      ['app=app-a&limit=abc', /invalid limit/],
      ['app=app-a&recent=yes', /invalid recent "yes"/],
    ];
    for (const [query, message] of cases) {
      const answer = await tc.get(`/recent?${query}`, { token: ADMIN });
      expect({ query, status: answer.status, error: errorOf(answer.body) }).toEqual({ query, status: 400, error: expect.stringMatching(message) });
      const refused = await tc.refusedUpgrade(`/tail?${query}`, { authorization: `Bearer ${ADMIN}` });
      expect({ query, status: refused.status, error: errorOf(refused.body) }).toEqual({ query, status: 400, error: expect.stringMatching(message) });
    }
    // The largest limit is fine.
    expect((await tc.get('/recent?app=app-a&limit=50', { token: ADMIN })).status).toBe(200);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'bad_request' })).toBe(2 * cases.length);
  });

  it('answers 404 to an unknown path, 405 with Allow to a POST, and 426 to a plain GET of /tail', async () => {
    const tc = await startTc(teardown, { tokens });

    const unknown = await tc.get('/logs?app=app-a', { token: ADMIN });
    expect([unknown.status, errorOf(unknown.body)]).toEqual([404, 'no such path /logs; try /recent, /tail, /health, /ready or /metrics']);
    const unknownWs = await tc.refusedUpgrade('/logs?app=app-a', { authorization: `Bearer ${ADMIN}` });
    expect(unknownWs.status).toBe(404);

    const post = await tc.get('/recent?app=app-a', { token: ADMIN, method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const del = await tc.get('/recent?app=app-a', { token: ADMIN, method: 'DELETE' });
    expect(del.status).toBe(405);

    const plainTail = await tc.get('/tail?app=app-a', { token: ADMIN });
    expect(plainTail.status).toBe(426);

    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'not_found' })).toBe(2);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'method_not_allowed' })).toBe(2);
  });

  it('refuses a tail client past maxClients (503) and a browser page from an origin not allowed (403)', async () => {
    const tc = await startTc(teardown, { tokens, config: { tail: { maxClients: 1, allowedOrigins: ['https://viewer.example.com'] } } });
    const auth = { authorization: `Bearer ${ADMIN}` };
    const foreign = await tc.refusedUpgrade('/tail?app=app-a', { ...auth, origin: 'https://evil.example.com' });
    expect([foreign.status, errorOf(foreign.body)]).toEqual([403, expect.stringMatching(/origin "https:\/\/evil.example.com" are not allowed/)]);
    await tc.tail('app=app-a', ADMIN, { origin: 'https://viewer.example.com' });
    const second = await tc.refusedUpgrade('/tail?app=app-a', auth);
    expect([second.status, errorOf(second.body)]).toEqual([503, 'tail client limit of 1 reached; try again later']);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'origin_not_allowed' })).toBe(1);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'too_many_clients' })).toBe(1);
  });

  it("skips and counts a router's tail frames that are not envelopes of the app, and still delivers its valid lines and the other routers'", async () => {
    const valid = envelope('app-a', 'the valid line');
    const fake = await FakeRouter.start(teardown, [
      'not json at all',
      JSON.stringify({ appId: 'app-a', message: 'fields missing' }),
      Buffer.from([0xff, 0xfe, 0x00, 0x01]),
      encodeEnvelopeJson(envelope('app-b', "another app's line")),
      encodeEnvelopeJson({ ...valid, timestamp: '01' }),
      encodeEnvelopeJson(valid),
    ]);
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [fake.info('fake'), routerInfo('r1', r1)], tokens });

    const client = await tc.tail('app=app-a', ADMIN);
    await waitFor(() => client.received.length >= 1, { what: "the fake router's valid line" });
    await routerTailClients(r1, 1);
    await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'from r1')]);
    await waitFor(() => client.received.length >= 2, { what: "r1's line" });

    expect(client.received.map(e => e.message)).toEqual(['the valid line', 'from r1']);
    expect(client.received[0]).toEqual(valid);
    expect(fake.tailRequests).toEqual(['/tail?app=app-a']);
    expect(await tc.metric('loggregator_tc_invalid_router_lines_total')).toBe(5);
    // Bad frames are not a broken stream: no reconnect, nothing said in-band.
    expect(await tc.metric('loggregator_tc_router_stream_errors_total', { router: 'fake' })).toBe(0);
    expect(client.notices).toEqual([]);
  });

  it("skips and counts a router's /recent lines that are not envelopes of the app, and returns the valid ones", async () => {
    const valid = envelope('app-a', 'the valid line');
    const body = ['garbage', '{"appId":"app-a"}', encodeEnvelopeJson(envelope('app-b', 'other app')), encodeEnvelopeJson(valid), ''].join('\n');
    const fake = await FakeRouter.start(teardown, [], body);
    const tc = await startTc(teardown, { routers: [fake.info('fake')], tokens });

    const answer = await tc.get('/recent?app=app-a', { token: ADMIN });
    expect(answer.status).toBe(200);
    expect(answer.envelopes).toEqual([valid]);
    expect(answer.headers.get('x-skipped-routers')).toBeNull();
    expect(await tc.metric('loggregator_tc_invalid_router_lines_total')).toBe(3);
  });
});
