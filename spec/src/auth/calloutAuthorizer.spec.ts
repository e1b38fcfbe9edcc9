// The callout authorizer against a real platform API stand-in on 127.0.0.1:
//
//   GET <callout.url>/<app id>, Authorization: Bearer <token>
//     200 → allowed          401 → 401 unknown_token       403, 404 → 403 forbidden
//     500, 302, timeout, refused → 503 authorizer_unavailable (fail closed, never cached)
//   allowed and denied answers are cached per (token digest, app); concurrent asks share one callout.
//   The token is sent to the API and nowhere else: not in a log line, not in a message.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { AuthDecision } from '../../../src/auth/authDecision';
import { openAuthorizer } from '../../../src/auth/authorizer';
import { CalloutAuthorizer, CalloutOptions } from '../../../src/auth/calloutAuthorizer';
import { loadConfig } from '../../../src/config/loadConfig';
import { captureLogger, sleep } from '../../support/drainWriterHarness';
import { Teardown } from '../../support/teardown';
import { waitFor, within } from '../../support/waitFor';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJ1c2VyIjoiZGV2In0.c2VjcmV0LXNpZ25hdHVyZQ';
const OTHER_TOKEN = 'another-token-9f8e7d6c5b4a';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A platform API that answers GET /v2/apps/<id> as the test says, and remembers what it was asked. */
class FakeApi {
  readonly requests: { path: string; authorization: string | undefined }[] = [];
  constructor(
    readonly server: Server,
    public handler: Handler,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v2/apps`;
  }

  static async start(teardown: Teardown, handler: Handler): Promise<FakeApi> {
    const api: FakeApi = new FakeApi(
      createServer((req, res) => {
        api.requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
        api.handler(req, res);
      }),
      handler,
    );
    await new Promise<void>(resolve => api.server.listen(0, '127.0.0.1', resolve));
    return teardown.add(api, a => {
      a.server.closeAllConnections();
      return new Promise(resolve => a.server.close(resolve));
    });
  }
}

const answer =
  (status: number, body = ''): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

describe('CalloutAuthorizer', () => {
  const teardown = new Teardown();
  let logs: string[];
  afterEach(() => teardown.run());

  function authorizer(api: FakeApi | string, opts: Partial<CalloutOptions> = {}): CalloutAuthorizer {
    const { logger, lines } = captureLogger('debug');
    logs = lines;
    const url = typeof api === 'string' ? api : api.base;
    return teardown.add(new CalloutAuthorizer({ url, timeoutMs: 2000, cacheSeconds: 30, maxCached: 100, ...opts }, logger), a => a.close());
  }

  /** Every log line and the decision's message, checked not to hold the token. */
  function expectNoToken(...decisions: AuthDecision[]): void {
    const said = [...logs, ...decisions.map(d => JSON.stringify(d))].join('\n');
    expect(said).not.toContain(TOKEN);
    expect(said).not.toContain(TOKEN.slice(0, 20));
  }

  describe('the answer decides', () => {
    it('200 allows; the token goes to <url>/<app id> as a Bearer header', async () => {
      const api = await FakeApi.start(teardown, answer(200, '{"guid":"my-app"}'));
      expect(await authorizer(api).authorize(TOKEN, 'my-app')).toEqual({ allowed: true });
      expect(api.requests).toEqual([{ path: '/v2/apps/my-app', authorization: `Bearer ${TOKEN}` }]);
      expectNoToken();
    });

    it('joins the URL with exactly one slash, however the base ends, keeping its query', async () => {
      const api = await FakeApi.start(teardown, answer(200));
      await authorizer(`${api.base}/`).authorize(TOKEN, 'app-a');
      await authorizer(`${api.base}///`).authorize(TOKEN, 'app-b');
      await authorizer(`${api.base}?fields=guid`).authorize(TOKEN, 'app-c');
      expect(api.requests.map(r => r.path)).toEqual(['/v2/apps/app-a', '/v2/apps/app-b', '/v2/apps/app-c?fields=guid']);
    });

    it('asks <url>/firehose for the firehose: 200 allows, 403 and 404 forbid it, 401 is an unknown token', async () => {
      const allowing = await FakeApi.start(teardown, answer(200));
      expect(await authorizer(allowing).authorizeFirehose(TOKEN)).toEqual({ allowed: true });
      expect(allowing.requests).toEqual([{ path: '/v2/apps/firehose', authorization: `Bearer ${TOKEN}` }]);
      for (const status of [403, 404]) {
        const api = await FakeApi.start(teardown, answer(status));
        const decision = await authorizer(api).authorizeFirehose(TOKEN);
        expect(decision).toEqual({ allowed: false, status: 403, reason: 'forbidden', message: `token may not read the firehose (${api.base}/firehose said no)` });
        expectNoToken(decision);
      }
      const unknown = await FakeApi.start(teardown, answer(401));
      expect(await authorizer(unknown).authorizeFirehose(TOKEN)).toMatchObject({ allowed: false, status: 401 });
    });

    it('401 is an unknown token', async () => {
      const api = await FakeApi.start(teardown, answer(401, '{"error":"invalid_token"}'));
      expect(await authorizer(api).authorize(TOKEN, 'my-app')).toEqual({ allowed: false, status: 401, reason: 'unknown_token', message: 'unknown or expired token' });
    });

    it('403 and 404 forbid the app', async () => {
      for (const status of [403, 404]) {
        const api = await FakeApi.start(teardown, answer(status));
        expect(await authorizer(api).authorize(TOKEN, 'my-app')).toEqual({ allowed: false, status: 403, reason: 'forbidden', message: 'token may not read app "my-app"' });
      }
    });

    it('500 is a 503, logged with the app URL and the cause, without the token', async () => {
      const api = await FakeApi.start(teardown, answer(500, `{"error":"boom for ${TOKEN}"}`));
      const decision = await authorizer(api).authorize(TOKEN, 'my-app');
      expect(decision).toEqual({
        allowed: false,
        status: 503,
        reason: 'authorizer_unavailable',
        message: 'cannot check authorization right now: the authorization service answered 500; try again',
      });
      expect(logs.some(l => l.includes(`GET ${api.base}/my-app: the authorization service answered 500`))).toBe(true);
      expectNoToken(decision);
    });

    it('a redirect is a 503, and the token does not follow it', async () => {
      const api = await FakeApi.start(teardown, (req, res) => {
        if (req.url === '/elsewhere') res.end();
        else res.writeHead(302, { location: '/elsewhere' }).end();
      });
      expect(await authorizer(api).authorize(TOKEN, 'my-app')).toMatchObject({ status: 503, message: expect.stringContaining('answered 302') });
      expect(api.requests.map(r => r.path)).toEqual(['/v2/apps/my-app']);
    });

    it('an API that does not answer in time is a 503 after timeoutMs', async () => {
      const api = await FakeApi.start(teardown, () => undefined); // never answers
      const started = Date.now();
      const decision = await within(authorizer(api, { timeoutMs: 200 }).authorize(TOKEN, 'my-app'), 3000, 'the timeout');
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(decision).toMatchObject({ status: 503, reason: 'authorizer_unavailable', message: expect.stringContaining('did not answer within 200 ms') });
      expect(logs.some(l => l.includes(`GET ${api.base}/my-app`) && l.includes('200 ms'))).toBe(true);
      expectNoToken(decision);
    });

    it('an API that cannot be reached is a 503 naming the cause', async () => {
      const closed = createServer();
      await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise(resolve => closed.close(resolve));

      const decision = await authorizer(`http://127.0.0.1:${port}/v2/apps`).authorize(TOKEN, 'my-app');
      expect(decision).toMatchObject({ status: 503, reason: 'authorizer_unavailable', message: expect.stringContaining('cannot reach the authorization service (ECONNREFUSED)') });
      expect(logs.some(l => l.includes(`GET http://127.0.0.1:${port}/v2/apps/my-app`) && l.includes('ECONNREFUSED'))).toBe(true);
      expectNoToken(decision);
    });

    it('reads at most 64 KiB of a body: an endless one is cut off', async () => {
      let cutOff = false;
      const api = await FakeApi.start(teardown, (_req, res) => {
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', pump);
        res.on('close', () => (cutOff = true));
        pump();
      });
      expect(await authorizer(api, { timeoutMs: 10_000 }).authorize(TOKEN, 'my-app')).toEqual({ allowed: true });
      await waitFor(() => cutOff, { timeoutMs: 3000, what: 'the body to be cancelled' });
    });
  });

  describe('the app id', () => {
    it('is URL-encoded as one path segment', async () => {
      const api = await FakeApi.start(teardown, answer(200));
      await authorizer(api).authorize(TOKEN, 'a b/c?d#e%f');
      expect(api.requests.map(r => r.path)).toEqual(['/v2/apps/a%20b%2Fc%3Fd%23e%25f']);
    });

    it('"", "." and ".." are forbidden without a callout (they would address another resource)', async () => {
      const api = await FakeApi.start(teardown, answer(200));
      const auth = authorizer(api);
      for (const appId of ['', '.', '..']) expect(await auth.authorize(TOKEN, appId)).toMatchObject({ allowed: false, status: 403 });
      expect(api.requests).toEqual([]);
    });
  });

  it('answers a token that could never be valid 401 without a callout', async () => {
    const api = await FakeApi.start(teardown, answer(200));
    const auth = authorizer(api);
    for (const token of ['', 'has space', 'line\nbreak', 'x'.repeat(5000)]) expect(await auth.authorize(token, 'my-app')).toMatchObject({ status: 401 });
    expect(api.requests).toEqual([]);
  });

  describe('the cache', () => {
    it('reuses an allowed answer for the same token and app, not for another token or app', async () => {
      const api = await FakeApi.start(teardown, answer(200));
      const auth = authorizer(api);
      await auth.authorize(TOKEN, 'my-app');
      await sleep(50);
      expect(await auth.authorize(TOKEN, 'my-app')).toEqual({ allowed: true });
      expect(api.requests).toHaveLength(1);

      await auth.authorize(OTHER_TOKEN, 'my-app');
      await auth.authorize(TOKEN, 'other-app');
      expect(api.requests.map(r => [r.path, r.authorization])).toEqual([
        ['/v2/apps/my-app', `Bearer ${TOKEN}`],
        ['/v2/apps/my-app', `Bearer ${OTHER_TOKEN}`],
        ['/v2/apps/other-app', `Bearer ${TOKEN}`],
      ]);
    });

    it('reuses denied answers (401, 403)', async () => {
      const api = await FakeApi.start(teardown, () => undefined);
      api.handler = (req, res) => answer(req.url === '/v2/apps/unknown' ? 401 : 403)(req, res);
      const auth = authorizer(api);
      for (let i = 0; i < 3; i++) {
        expect(await auth.authorize(TOKEN, 'unknown')).toMatchObject({ status: 401 });
        expect(await auth.authorize(TOKEN, 'hidden')).toMatchObject({ status: 403 });
      }
      expect(api.requests.map(r => r.path)).toEqual(['/v2/apps/unknown', '/v2/apps/hidden']);
    });

    it('never keeps a 503: the next ask calls out again', async () => {
      const api = await FakeApi.start(teardown, answer(500));
      const auth = authorizer(api);
      expect(await auth.authorize(TOKEN, 'my-app')).toMatchObject({ status: 503 });
      api.handler = answer(200);
      expect(await auth.authorize(TOKEN, 'my-app')).toEqual({ allowed: true });
      expect(api.requests).toHaveLength(2);
    });

    it('keeps answers cacheSeconds and no longer; 0 keeps none', async () => {
      const api = await FakeApi.start(teardown, answer(200));
      // 2 s, not less: the second ask must come while the answer is still cached, even if a
      // loaded machine stalls this process for a while between the two.
      const auth = authorizer(api, { cacheSeconds: 2 });
      await auth.authorize(TOKEN, 'my-app');
      await sleep(50);
      await auth.authorize(TOKEN, 'my-app');
      expect(api.requests).toHaveLength(1);
      await sleep(2_000); // past the 2 s since the answer was cached (it was, before the 50 ms above)
      await auth.authorize(TOKEN, 'my-app');
      expect(api.requests).toHaveLength(2);

      const uncached = authorizer(api, { cacheSeconds: 0 });
      await uncached.authorize(TOKEN, 'my-app');
      await sleep(5);
      await uncached.authorize(TOKEN, 'my-app');
      expect(api.requests).toHaveLength(4);
    });

    it('makes one callout for concurrent asks of the same token and app', async () => {
      const pending: ServerResponse[] = [];
      const api = await FakeApi.start(teardown, (_req, res) => pending.push(res));
      const auth = authorizer(api);
      const decisions = Promise.all(Array.from({ length: 5 }, () => auth.authorize(TOKEN, 'my-app')));
      await waitFor(() => pending.length === 1, { what: 'the callout' });
      await sleep(50); // room for a second callout, if there were one
      pending[0].end();
      expect(await decisions).toEqual(Array.from({ length: 5 }, () => ({ allowed: true })));
      expect(api.requests).toHaveLength(1);
    });

    it('gives every concurrent asker the 503 of a shared failed callout, and keeps nothing', async () => {
      const api = await FakeApi.start(teardown, () => undefined);
      const auth = authorizer(api, { timeoutMs: 150 });
      const decisions = await Promise.all(Array.from({ length: 3 }, () => auth.authorize(TOKEN, 'my-app')));
      expect(decisions.map(d => (d.allowed ? 200 : d.status))).toEqual([503, 503, 503]);
      expect(api.requests).toHaveLength(1);
      api.handler = answer(200);
      expect(await auth.authorize(TOKEN, 'my-app')).toEqual({ allowed: true });
    });
  });

  it('logs repeated failures once per interval, not once per request', async () => {
    const api = await FakeApi.start(teardown, answer(502));
    const auth = authorizer(api, { cacheSeconds: 0 });
    for (let i = 0; i < 5; i++) await auth.authorize(TOKEN, `app-${i}`);
    expect(logs.filter(l => l.includes('authorization callout failed'))).toHaveLength(1);
    expectNoToken();
  });

  it('answers 503 once closed, and cuts short a callout still running', async () => {
    const api = await FakeApi.start(teardown, () => undefined);
    const auth = authorizer(api);
    const running = auth.authorize(TOKEN, 'my-app');
    await waitFor(() => api.requests.length === 1, { what: 'the callout' });
    await auth.close();
    expect(await within(running, 1000, 'the cut-short callout')).toMatchObject({ status: 503, message: expect.stringContaining('shutting down') });
    expect(await auth.authorize(TOKEN, 'my-app')).toMatchObject({ status: 503 });
  });

  it('refuses a callout URL with credentials or of another scheme', () => {
    const { logger } = captureLogger();
    const make = (url: string) => () => new CalloutAuthorizer({ url, timeoutMs: 100, cacheSeconds: 1, maxCached: 1 }, logger);
    expect(make('http://user:pw@127.0.0.1/v2/apps')).toThrow(/user:password/);
    expect(make('ftp://127.0.0.1/apps')).toThrow(/http:\/\/ or https:\/\//);
    expect(make('not a url')).toThrow(/not a URL/);
  });

  it('is what openAuthorizer gives in "callout" mode', async () => {
    const api = await FakeApi.start(teardown, answer(200));
    const config = loadConfig({ env: { LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_MODE: 'callout', LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_CALLOUT_URL: api.base } });
    const auth = teardown.add(await openAuthorizer(config, captureLogger().logger), a => a.close());
    expect(auth).toBeInstanceOf(CalloutAuthorizer);
    expect(auth.description).toBe(`callout to ${api.base}`);
    expect(await auth.authorize(TOKEN, 'my-app')).toEqual({ allowed: true });
  });
});
