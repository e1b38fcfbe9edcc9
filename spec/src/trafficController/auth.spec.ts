// Who may read an app through the traffic controller, checked on GET /recent and on the websocket
// /tail upgrade, with a real tokens file and with a real platform API stand-in (callout):
//
//   no token              401  WWW-Authenticate: Bearer realm="loggregator"
//   malformed header      401  …, error="invalid_request"
//   unknown token         401  …, error="invalid_token"
//   token for other apps  403
//   token for the app/'*' 200 (websocket: 101)
//   ?access_token=        accepted on the websocket (browsers cannot set headers), 401 on /recent
//   callout: API 200 → 200, 403 → 403, 401 → 401, unreachable → 503 (Retry-After)
//
// A token is never written to the traffic controller's log, nor sent to a router.
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Teardown } from '../../support/teardown';
import {
  GateProxy,
  TcRun,
  closedPort,
  ingested,
  newToken,
  routerInfo,
  routerTailClients,
  startTc,
} from '../../support/trafficControllerHarness';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const ADMIN = newToken('admin');
const READER = newToken('reader'); // may read app-a only
const UNKNOWN = newToken('unknown');
const tokens = { [ADMIN]: '*' as const, [READER]: ['app-a'] };

const CHALLENGE = 'Bearer realm="loggregator"';

/** The first 6 characters in a row of a token's random part that `text` contains, if any. */
function pieceOf(token: string, text: string): string | undefined {
  const secret = token.slice(token.indexOf('.') + 1);
  for (let i = 0; i + 6 <= secret.length; i++) if (text.includes(secret.slice(i, i + 6))) return secret.slice(i, i + 6);
  return undefined;
}

function expectNoToken(text: string, ...secrets: string[]): void {
  for (const token of secrets) expect({ token: token.slice(0, token.indexOf('.')), piece: pieceOf(token, text) }).toEqual({ token: token.slice(0, token.indexOf('.')), piece: undefined });
}

const errorOf = (body: string): string => (JSON.parse(body) as { error: string }).error;

describe('traffic controller auth', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  describe('with a tokens file', () => {
    it('on /recent: 401 without a token (with a challenge) or with an unknown one, 403 for another app, 200 for its app or "*"', async () => {
      const r1 = await teardown.router();
      const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens });
      await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'a line'), envelope('app-b', 'b line')]);
      await waitFor(async () => (await ingested(r1)) === 2, { what: 'both lines ingested' });

      const none = await tc.get('/recent?app=app-a');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(errorOf(none.body)).toMatch(/a token is required: send "Authorization: Bearer <token>"/);

      const unknown = await tc.get('/recent?app=app-a', { token: UNKNOWN });
      expect(unknown.status).toBe(401);
      expect(unknown.headers.get('www-authenticate')).toBe('Bearer realm="loggregator", error="invalid_token"');
      expect(errorOf(unknown.body)).toBe('unknown or expired token');

      const otherApp = await tc.get('/recent?app=app-b', { token: READER });
      expect(otherApp.status).toBe(403);
      expect(errorOf(otherApp.body)).toBe('token may not read app "app-b"');

      const own = await tc.get('/recent?app=app-a', { token: READER });
      expect([own.status, own.envelopes.map(e => e.message)]).toEqual([200, ['a line']]);
      const admin = await tc.get('/recent?app=app-b', { token: ADMIN });
      expect([admin.status, admin.envelopes.map(e => e.message)]).toEqual([200, ['b line']]);

      expect(await tc.metric('loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(2);
      expect(await tc.metric('loggregator_tc_refused_total', { reason: 'forbidden' })).toBe(1);
      expectNoToken(tc.logs.join('\n'), ADMIN, READER, UNKNOWN);
    });

    it('on /recent: refuses ?access_token= and malformed Authorization headers with 401', async () => {
      const tc = await startTc(teardown, { tokens });

      const query = await tc.get(`/recent?app=app-a&access_token=${ADMIN}`);
      expect(query.status).toBe(401);
      expect(errorOf(query.body)).toMatch(/access_token query parameter is not accepted here/);
      expect(query.headers.get('www-authenticate')).toBe('Bearer realm="loggregator", error="invalid_request"');
      // Not even beside the same token in the header.
      expect((await tc.get(`/recent?app=app-a&access_token=${ADMIN}`, { token: ADMIN })).status).toBe(401);

      for (const authorization of [`Basic ${Buffer.from('user:pass').toString('base64')}`, 'Bearer', `Bearer ${ADMIN} extra`, `Bearer ${ADMIN}!`, `${ADMIN}`]) {
        const answer = await tc.get('/recent?app=app-a', { headers: { authorization } });
        expect({ authorization: authorization.slice(0, 8), status: answer.status }).toEqual({ authorization: authorization.slice(0, 8), status: 401 });
        expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="loggregator", error="invalid_request"');
        expectNoToken(answer.body, ADMIN);
      }
      expect(await tc.metric('loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(7);
      expectNoToken(tc.logs.join('\n'), ADMIN);
    });

    it('on the websocket upgrade: 401 without a token or with an unknown or malformed one, 403 for another app; accepts its app, "*", and ?access_token=', async () => {
      const r1 = await teardown.router();
      const gate = await GateProxy.start(teardown, r1); // sees every request the TC makes to r1
      const tc = await startTc(teardown, { routers: [routerInfo('r1', r1, gate.address)], tokens });

      const none = await tc.refusedUpgrade('/tail?app=app-a');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe(CHALLENGE);
      expect(errorOf(none.body)).toMatch(/a token is required: send "Authorization: Bearer <token>" or \?access_token=<token>/);
      const unknown = await tc.refusedUpgrade('/tail?app=app-a', { authorization: `Bearer ${UNKNOWN}` });
      expect([unknown.status, unknown.headers['www-authenticate']]).toEqual([401, 'Bearer realm="loggregator", error="invalid_token"']);
      const unknownQuery = await tc.refusedUpgrade(`/tail?app=app-a&access_token=${UNKNOWN}`);
      expect(unknownQuery.status).toBe(401);
      const malformed = await tc.refusedUpgrade('/tail?app=app-a', { authorization: 'Basic dXNlcjpwYXNz' });
      expect([malformed.status, malformed.headers['www-authenticate']]).toEqual([401, 'Bearer realm="loggregator", error="invalid_request"']);
      const otherApp = await tc.refusedUpgrade('/tail?app=app-b', { authorization: `Bearer ${READER}` });
      expect(otherApp.status).toBe(403);
      expect(errorOf(otherApp.body)).toBe('token may not read app "app-b"');
      expect(await tc.metric('loggregator_tc_tail_clients')).toBe(0);

      const own = await tc.tail('app=app-a', READER);
      const admin = await tc.tail('app=app-b', ADMIN);
      const byQuery = await tc.tail(`app=app-a&access_token=${encodeURIComponent(READER)}`);
      // One stream from r1 per app, shared by that app's clients.
      await routerTailClients(r1, 2, "the TC's streams of app-a and app-b from r1");
      await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'a line'), envelope('app-b', 'b line')]);
      await waitFor(() => own.received.length === 1 && admin.received.length === 1 && byQuery.received.length === 1, { what: 'a line at each client' });
      expect([own, admin, byQuery].map(c => c.received[0].message)).toEqual(['a line', 'b line', 'a line']);

      expect(await tc.metric('loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(4);
      expect(await tc.metric('loggregator_tc_refused_total', { reason: 'forbidden' })).toBe(1);
      expectNoToken(tc.logs.join('\n'), ADMIN, READER, UNKNOWN);
      // The routers are asked for the app, never with the client's token.
      expect(gate.connections.map(c => c.head.split('\r\n')[0]).sort()).toEqual(['GET /tail?app=app-a HTTP/1.1', 'GET /tail?app=app-b HTTP/1.1']);
      expectNoToken(gate.connections.map(c => c.head).join('\n'), ADMIN, READER);
    });
  });

  describe('with a callout to the platform API', () => {
    const ALLOWED = newToken('allowed');
    const DENIED = newToken('denied');
    const EXPIRED = newToken('expired');

    /** The platform API: GET /v2/apps/<id>; the caller's token decides (allowed 200, denied 403, expired 401). */
    async function platformApi(): Promise<{ readonly url: string; readonly asked: string[] }> {
      const asked: string[] = [];
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        asked.push(`${req.url} ${req.headers.authorization ?? '-'}`);
        const status = { [`Bearer ${ALLOWED}`]: 200, [`Bearer ${DENIED}`]: 403, [`Bearer ${EXPIRED}`]: 401 }[req.headers.authorization ?? ''] ?? 500;
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
      teardown.add(server, s => {
        s.closeAllConnections();
        return new Promise(resolve => s.close(resolve));
      });
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/apps`, asked };
    }

    function startCalloutTc(url: string, routers: TcRun['routers$']['value'] = []): Promise<TcRun> {
      return startTc(teardown, {
        routers,
        authorizer: 'config',
        config: { auth: { mode: 'callout', callout: { url, timeoutMs: 1_000, cacheSeconds: 0 } } },
      });
    }

    it('answers as the API does: 200 → 200, 403 → 403, 401 → 401, on /recent and on the websocket upgrade', async () => {
      const r1 = await teardown.router();
      const api = await platformApi();
      const tc = await startCalloutTc(api.url, [routerInfo('r1', r1)]);
      await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'a line')]);
      await waitFor(async () => (await ingested(r1)) === 1, { what: 'the line ingested' });

      const allowed = await tc.get('/recent?app=app-a', { token: ALLOWED });
      expect([allowed.status, allowed.envelopes.map(e => e.message)]).toEqual([200, ['a line']]);
      expect(api.asked).toEqual([`/v2/apps/app-a Bearer ${ALLOWED}`]);
      const denied = await tc.get('/recent?app=app-a', { token: DENIED });
      expect(denied.status).toBe(403);
      const expired = await tc.get('/recent?app=app-a', { token: EXPIRED });
      expect([expired.status, expired.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="loggregator", error="invalid_token"']);

      expect((await tc.refusedUpgrade('/tail?app=app-a', { authorization: `Bearer ${DENIED}` })).status).toBe(403);
      expect((await tc.refusedUpgrade(`/tail?app=app-a&access_token=${EXPIRED}`)).status).toBe(401);
      const client = await tc.tail(`app=app-a&access_token=${ALLOWED}`);
      await routerTailClients(r1, 1);
      await teardown.sender(r1).sendEnvelopes([envelope('app-a', 'live line')]);
      await waitFor(() => client.received.length === 1, { what: 'the live line' });
      expect(client.received[0].message).toBe('live line');

      expect(api.asked.map(line => line.split(' ')[0])).toEqual(Array(6).fill('/v2/apps/app-a'));
      expectNoToken(tc.logs.join('\n'), ALLOWED, DENIED, EXPIRED);
    });

    it('answers 503 with Retry-After when the API cannot be reached, and logs why without the token', async () => {
      const tc = await startCalloutTc(`http://127.0.0.1:${await closedPort()}/v2/apps`);

      const recent = await tc.get('/recent?app=app-a', { token: ALLOWED });
      expect(recent.status).toBe(503);
      expect(recent.headers.get('retry-after')).toBe('1');
      expect(errorOf(recent.body)).toMatch(/cannot check authorization right now: cannot reach the authorization service \(ECONNREFUSED\)/);
      const upgrade = await tc.refusedUpgrade(`/tail?app=app-a&access_token=${ALLOWED}`);
      expect([upgrade.status, upgrade.headers['retry-after']]).toEqual([503, '1']);

      expect(await tc.metric('loggregator_tc_refused_total', { reason: 'authorizer_unavailable' })).toBe(2);
      // The failure is logged (so the log was captured), the token is not.
      await waitFor(() => tc.logs.some(line => line.includes('authorization callout failed')), { what: 'the callout failure logged' });
      expectNoToken([...tc.logs, recent.body, upgrade.body].join('\n'), ALLOWED);
    });
  });
});
