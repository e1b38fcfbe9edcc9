// startRouter, for real on loopback: datagrams in on UDP, lines out on HTTP /recent and websocket
// /tail.
//
//   UDP  app-a 0, app-b 0, app-a 1, …  ──▶ router ──▶ GET /recent?app=app-a   app-a 0, app-a 1, …
//                                              └──▶ ws /tail?app=app-a      app-a 0, app-a 1, …
//                                              └──▶ ws /tail?app=app-b      app-b 0, …
//
// Each app's lines arrive in the order sent, unchanged, and only to that app's consumers;
// recent=true replays the buffer and then goes live with no gap and no duplicate at the seam.
import { encodeEnvelopeJson } from '../../../src/envelope/codec';
import { Envelope } from '../../../src/envelope/envelope';
import { httpGet, recent } from '../../support/httpGet';
import { metricValue } from '../../support/routerMetricValue';
import { TailClient, refusedTail } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { envelope, lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';
import { appsOfOneWorker, specWorkers } from '../../support/routerConfig';

const numbers = (lines: Envelope[]): number[] => lines.map(e => lineNumber(e.message));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

describe('router delivery: UDP in, /recent and /tail out', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('delivers an app\'s lines to /recent and to a tail client in order, every field unchanged', async () => {
    const router = await teardown.router();
    const client = await teardown.tail(router, 'app=app-a');
    const sent = [
      envelope('app-a', 'plain ascii'),
      envelope('app-a', 'unicode: żółć 日本語 🚀 \u00e9', { messageType: 'ERR' }),
      envelope('app-a', 'quotes " backslash \\ tab \t and a \u0001 control', { sourceType: 'RTR', sourceInstance: '10.0.0.1:8080' }),
      envelope('app-a', '', { sourceType: 'STG', sourceInstance: 'staging/7' }),
      envelope('app-a', 'x'.repeat(4000), { timestamp: '0' }),
      envelope('app-a', 'max timestamp', { timestamp: '9223372036854775807' }),
    ];
    await teardown.sender(router).sendEnvelopes(sent);

    await waitFor(() => client.received.length >= sent.length, { what: 'the tail client to receive 6 lines' });
    expect(client.received).toEqual(sent);
    expect(client.malformed).toEqual([]);

    const answer = await httpGet(router.httpAddress, '/recent?app=app-a');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(answer.headers['x-line-count']).toBe('6');
    // The canonical JSON, one line each, oldest first.
    expect(answer.body).toBe(sent.map(e => encodeEnvelopeJson(e) + '\n').join(''));
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(6);
  });

  it('keeps apps apart with several apps and several clients at once', async () => {
    const linesPerApp = 100;
    const router = await teardown.router({ router: { recent: { linesPerApp } } });
    const apps = ['app-a', 'app-b', 'app-c'];
    const clients = new Map<string, TailClient[]>();
    for (const app of apps) clients.set(app, [await teardown.tail(router, `app=${app}`), await teardown.tail(router, `app=${app}`)]);
    const idle = await teardown.tail(router, 'app=app-idle');
    expect(await metricValue(router, 'loggregator_tail_clients')).toBe(7);

    // 150 lines per app, interleaved: a0 b0 c0 a1 b1 c1 …
    const perApp = 150;
    const byApp = new Map(apps.map(app => [app, numbered(app, perApp)]));
    const interleaved = range(0, perApp).flatMap(k => apps.map(app => byApp.get(app)![k]));
    const sender = teardown.sender(router);
    await sender.sendEnvelopes(interleaved);

    for (const app of apps) {
      for (const client of clients.get(app)!) {
        await waitFor(() => client.received.length >= perApp, { what: `${app}'s clients to receive ${perApp} lines` });
      }
    }
    // A line for the idle app, sent after everything else: once it is there, anything misrouted
    // to this client would have arrived before it on the same connection.
    const last = envelope('app-idle', 'app-idle 0');
    await sender.sendEnvelopes([last]);
    await waitFor(() => idle.received.length >= 1, { what: 'the idle app\'s client to receive its line' });
    expect(idle.received).toEqual([last]);

    for (const app of apps) {
      for (const client of clients.get(app)!) {
        expect(client.received).toEqual(byApp.get(app));
      }
      // /recent holds the newest linesPerApp of this app only, oldest first.
      expect(await recent(router.httpAddress, `app=${app}`)).toEqual(byApp.get(app)!.slice(-linesPerApp));
    }
    expect(await recent(router.httpAddress, 'app=app-idle')).toEqual([last]);
    expect(await recent(router.httpAddress, 'app=app-never-seen')).toEqual([]);
  });

  it('answers /recent?limit=N with the newest N lines, oldest first, for N from 1 to linesPerApp', async () => {
    const router = await teardown.router({ router: { recent: { linesPerApp: 20 } } });
    const sent = numbered('app-a', 30);
    await teardown.sender(router).sendEnvelopes(sent);
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 30, { what: '30 lines ingested' });

    expect(numbers(await recent(router.httpAddress, 'app=app-a&limit=5'))).toEqual([25, 26, 27, 28, 29]);
    expect(numbers(await recent(router.httpAddress, 'app=app-a&limit=1'))).toEqual([29]);
    expect(numbers(await recent(router.httpAddress, 'limit=20&app=app-a'))).toEqual(range(10, 30));
    expect(numbers(await recent(router.httpAddress, 'app=app-a'))).toEqual(range(10, 30));
    const tooMany = await httpGet(router.httpAddress, '/recent?app=app-a&limit=21');
    expect(tooMany.status).toBe(400);
    expect(JSON.parse(tooMany.body).error).toMatch(/limit "21".*1 to 20/);
    const empty = await httpGet(router.httpAddress, '/recent?app=app-unknown&limit=3');
    expect([empty.status, empty.headers['x-line-count'], empty.body]).toEqual([200, '0', '']);
  });

  it('splices recent=true: lines sent before and after connecting arrive exactly once, in order', async () => {
    const router = await teardown.router();
    const sender = teardown.sender(router);
    await sender.sendEnvelopes(numbered('app-a', 40));
    await sender.sendEnvelopes(numbered('app-b', 10));
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 50, { what: '50 lines ingested' });

    const client = await teardown.tail(router, 'app=app-a&recent=true');
    const liveOnly = await teardown.tail(router, 'app=app-a');
    await sender.sendEnvelopes(numbered('app-a', 40, 40));

    await waitFor(() => client.received.length >= 80 && liveOnly.received.length >= 40, { what: 'all lines at both clients' });
    expect(numbers(client.received)).toEqual(range(0, 80));
    expect(client.received.every(e => e.appId === 'app-a')).toBe(true);
    expect(numbers(liveOnly.received)).toEqual(range(40, 80));
  });

  it('splices recent=true for clients that connect while lines are flowing: no gap, no duplicate', async () => {
    const total = 1500;
    const router = await teardown.router({ router: { recent: { linesPerApp: 2000 }, tail: { maxQueuedLines: 5000 } } });
    const sender = teardown.sender(router);
    const sending = sender.sendEnvelopes(numbered('app-a', total));

    const clients: TailClient[] = [];
    for (const after of [200, 600, 1000]) {
      await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) >= after, { what: `${after} lines ingested` });
      clients.push(await teardown.tail(router, 'app=app-a&recent=true'));
    }
    await sending;

    for (const client of clients) {
      await waitFor(() => client.received.length >= total, { what: `a recent=true client to receive ${total} lines`, timeoutMs: 10_000 });
      expect(numbers(client.received)).toEqual(range(0, total));
    }
    expect(await metricValue(router, 'loggregator_dropped_total')).toBe(0);
  });

  it('replays only the newest N recent lines for recent=true&limit=N, then goes live', async () => {
    const router = await teardown.router();
    const sender = teardown.sender(router);
    await sender.sendEnvelopes(numbered('app-a', 30));
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 30, { what: '30 lines ingested' });

    const client = await teardown.tail(router, 'app=app-a&recent=true&limit=10');
    await sender.sendEnvelopes(numbered('app-a', 5, 30));
    await waitFor(() => client.received.length >= 15, { what: '15 lines at the client' });
    expect(numbers(client.received)).toEqual(range(20, 35));
  });

  it('replays every recent line to a client that reads, even when linesPerApp exceeds maxQueuedLines', async () => {
    // A client that has just connected and reads at full speed is not a slow consumer: the
    // replay (here ~300 KB, past the socket's high-water mark) must not be pushed through its
    // 50-line queue all at once, and must not be announced or counted as drops.
    const router = await teardown.router({ router: { recent: { linesPerApp: 300 }, tail: { maxQueuedLines: 50 } } });
    const sender = teardown.sender(router);
    await sender.sendEnvelopes(numbered('app-a', 300, 0, ' ' + 'r'.repeat(1000)));
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 300, { what: '300 lines ingested' });

    const client = await teardown.tail(router, 'app=app-a&recent=true');
    await sender.sendEnvelopes(numbered('app-a', 1, 300));
    await waitFor(() => client.received.some(e => e.message === 'app-a 300'), { what: 'the live line after the replay' });
    expect(client.notices.map(e => e.message)).toEqual([]);
    expect(numbers(client.received)).toEqual(range(0, 301));
    expect(await metricValue(router, 'loggregator_dropped_total', { reason: 'tail_slow_consumer' })).toBe(0);
  });

  it('evicts the least recently written app past maxApps (reads do not count) and counts its lines', async () => {
    // With several workers each holds up to maxApps of the apps it owns: these four apps share one worker.
    const [appA, appB, appC, appD] = appsOfOneWorker(4, specWorkers());
    const router = await teardown.router({ router: { recent: { maxApps: 2 } } });
    const sender = teardown.sender(router);
    const ingested = (n: number) => waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === n, { what: `${n} lines ingested` });

    await sender.sendEnvelopes(numbered(appA, 3));
    await sender.sendEnvelopes(numbered(appB, 5));
    await sender.sendEnvelopes(numbered(appA, 1, 3)); // app-a written last: app-b is the oldest
    await ingested(9);
    await sender.sendEnvelopes(numbered(appC, 2));
    await ingested(11);
    expect(await recent(router.httpAddress, `app=${appB}`)).toEqual([]);
    expect(numbers(await recent(router.httpAddress, `app=${appA}`))).toEqual([0, 1, 2, 3]);
    expect(numbers(await recent(router.httpAddress, `app=${appC}`))).toEqual([0, 1]);
    expect(await metricValue(router, 'loggregator_dropped_total', { reason: 'recent_evicted' })).toBe(5);

    // Reading app-a just now does not make it recently written: app-a (written before app-c) goes.
    await sender.sendEnvelopes(numbered(appD, 1));
    await ingested(12);
    expect(await recent(router.httpAddress, `app=${appA}`)).toEqual([]);
    expect(numbers(await recent(router.httpAddress, `app=${appC}`))).toEqual([0, 1]);
    expect(await metricValue(router, 'loggregator_dropped_total', { reason: 'recent_evicted' })).toBe(9);
  });

  it('serves /health and /metrics, and refuses unknown paths, other methods and plain GET /tail', async () => {
    const router = await teardown.router();
    await teardown.sender(router).send([Buffer.from('not json')]);
    await waitFor(async () => (await metricValue(router, 'loggregator_rejected_total')) === 1, { what: 'the rejection counted' });

    const health = await httpGet(router.httpAddress, '/health');
    expect(health.status).toBe(200);
    // With several workers it says how many run, too.
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

    const metrics = await httpGet(router.httpAddress, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('loggregator_rejected_total{reason="not_json"} 1\n');
    expect(metrics.body).toContain('loggregator_rejected_total{reason="bad_signature"} 0\n');
    expect(metrics.body).toContain('loggregator_dropped_total{reason="tail_slow_consumer"} 0\n');

    const notFound = await httpGet(router.httpAddress, '/nope?app=a');
    expect(notFound.status).toBe(404);
    expect(notFound.headers['content-type']).toBe('application/json');
    expect(JSON.parse(notFound.body).error).toContain('/nope');

    const post = await httpGet(router.httpAddress, '/recent?app=app-a', 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect(JSON.parse(post.body).error).toContain('POST');

    const head = await httpGet(router.httpAddress, '/health', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);

    const plainTail = await httpGet(router.httpAddress, '/tail?app=app-a');
    expect(plainTail.status).toBe(426);
    expect(JSON.parse(plainTail.body).error).toContain('websocket');
  });

  it('refuses bad tail requests before the upgrade with a JSON reason, and clients past maxClients with 503', async () => {
    const router = await teardown.router({ router: { tail: { maxClients: 2 } } });
    const address = router.httpAddress;

    for (const [path, status] of [
      ['/tail', 400],
      ['/tail?app=', 400],
      ['/tail?app=a&app=b', 400],
      ['/tail?app=%ZZ', 400],
      ['/tail?app=a&recent=yes', 400],
      ['/tail?app=a&limit=0', 400],
      ['/recent?app=a', 404],
      ['/elsewhere', 404],
    ] as const) {
      const refused = await refusedTail(address, path);
      expect({ path, status: refused.status, type: refused.contentType }).toEqual({ path, status, type: 'application/json' });
      expect(typeof JSON.parse(refused.body).error).toBe('string');
    }

    const first = await teardown.tail(router, 'app=app-a');
    await teardown.tail(router, 'app=app-b');
    const third = await refusedTail(address, '/tail?app=app-c');
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body).error).toMatch(/limit of 2/);
    expect(await metricValue(router, 'loggregator_http_refused_total', { reason: 'too_many_clients' })).toBe(1);

    // A client leaving frees its place.
    first.ws.close();
    await first.closed;
    await waitFor(async () => (await metricValue(router, 'loggregator_tail_clients')) === 1, { what: 'the gauge to drop to 1' });
    const again = await teardown.tail(router, 'app=app-c');
    await teardown.sender(router).sendEnvelopes([envelope('app-c', 'app-c 0')]);
    await waitFor(() => again.received.length === 1, { what: 'the new client to receive its line' });
  });
});
