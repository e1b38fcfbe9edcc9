// A router on two worker threads (router.workers 2), for real on loopback: each app lives in the
// worker that owns it (shardOf); a worker that dies is restarted, counted and logged, and costs
// only what it held: the other worker's apps, their tail clients and their recent lines go on
// untouched; the dead worker's apps are served again once it is back.
import { shardOf } from '../../../streams/appShard';
import { encodeEnvelopeJson } from '../../../src/envelope/codec';
import { RouterWorkers } from '../../../src/router/routerWorkers';
import { ShardedRouter, startShardedRouter } from '../../../src/router/shardedRouter';
import { captureLogger } from '../../support/agentHarness';
import { httpGet, rawHttp, recent } from '../../support/httpGet';
import { routerConfig } from '../../support/routerConfig';
import { metricValue } from '../../support/routerMetricValue';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

/** The first app id of the form app-N that worker `shard` of 2 owns. */
function appOf(shard: number): string {
  for (let k = 0; ; k++) if (shardOf(`app-${k}`, 2) === shard) return `app-${k}`;
}

describe('router with two workers', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  async function start(): Promise<{ router: ShardedRouter; messages: () => unknown[] }> {
    const { logger, entries } = captureLogger();
    const router = teardown.add(await startShardedRouter(routerConfig({ router: { workers: 2 } }), logger), r => r.close());
    return { router, messages: () => entries.map(e => e.message) };
  }

  it('serves every app from the worker that owns it: recent, tail and the summed metrics', async () => {
    const { router } = await start();
    const [a, b] = [appOf(0), appOf(1)];
    const [tailA, tailB] = [await teardown.tail(router, `app=${a}`), await teardown.tail(router, `app=${b}`)];
    const sender = teardown.sender(router);
    await sender.sendEnvelopes([...numbered(a, 50), ...numbered(b, 70)]);
    await waitFor(() => tailA.lines.length === 50 && tailB.lines.length === 70, { what: 'every line at its tail client' });
    expect(tailA.lines.map(e => lineNumber(e.message))).toEqual([...Array(50).keys()]);
    expect(tailB.lines.every(e => e.appId === b)).toBe(true);
    expect((await recent(router.httpAddress, `app=${b}`)).length).toBe(70);
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(120);
    expect(await metricValue(router, 'loggregator_tail_clients')).toBe(2);
    expect(await metricValue(router, 'loggregator_router_workers')).toBe(2);
    expect(JSON.parse((await httpGet(router.httpAddress, '/health')).body)).toEqual({ status: 'ok', workers: 2, workersRunning: 2 });
  });

  it('restarts a worker that dies (counted, logged); the other worker\'s clients and lines are untouched', async () => {
    const { router, messages } = await start();
    const [a, b] = [appOf(0), appOf(1)];
    const [tailA, tailB] = [await teardown.tail(router, `app=${a}`), await teardown.tail(router, `app=${b}`)];
    const sender = teardown.sender(router);
    await sender.sendEnvelopes([...numbered(a, 20), ...numbered(b, 20)]);
    await waitFor(() => tailA.lines.length === 20 && tailB.lines.length === 20, { what: 'the first lines' });

    await router.terminateWorker(0);
    // Worker 0's tail clients lose their connection (they reconnect, as the CLI and the traffic controller do).
    await waitFor(() => tailA.isClosed, { what: "worker 0's tail client to be disconnected" });
    // Lines for worker 0 while it restarts: each is counted as dropped (handed to it as it died,
    // or while it was away), or reaches the new worker.
    await sender.sendEnvelopes(numbered(a, 10, 100));
    await sender.sendEnvelopes(numbered(b, 30, 20));
    await waitFor(() => tailB.lines.length === 50, { what: "worker 1's client to get every line" });
    expect(tailB.isClosed).toBe(false);
    expect(tailB.lines.map(e => lineNumber(e.message))).toEqual([...Array(50).keys()]);
    expect(tailB.notices).toEqual([]);

    await waitFor(async () => (await metricValue(router, 'loggregator_router_workers')) === 2, { what: 'worker 0 running again' });
    expect(await metricValue(router, 'loggregator_router_worker_restarts_total')).toBe(1);
    expect(messages()).toContain('router worker died; starting it again (its apps lose the lines it held)');
    // Worker 0's recent lines went with it (those sent while it restarted may be there); worker 1's are all there.
    expect((await recent(router.httpAddress, `app=${b}`)).length).toBe(50);
    const afterDeath = (await recent(router.httpAddress, `app=${a}`)).map(e => lineNumber(e.message));
    expect(afterDeath.every(n => n >= 100)).toBe(true);
    const dropped = async (reason: string) => metricValue(router, 'loggregator_dropped_total', { reason });
    expect(afterDeath.length + (await dropped('worker_restarting')) + (await dropped('worker_died'))).toBe(10);
    const again = await teardown.tail(router, `app=${a}`);
    await sender.sendEnvelopes(numbered(a, 10, 20));
    await waitFor(() => again.lines.length === 10, { what: "the restarted worker's new client to get new lines" });
    expect((await recent(router.httpAddress, `app=${a}`)).map(e => lineNumber(e.message))).toEqual([...afterDeath, ...[...Array(10).keys()].map(i => i + 20)]);
  });

  it("joins both workers' firehose streams into one; a worker that dies closes it with 1011, and a new one is served once it is back", async () => {
    const { router } = await start();
    const [a, b] = [appOf(0), appOf(1)];
    const firehose = teardown.add(await TailClient.openPath(router.httpAddress, '/firehose'), c => c.terminate());
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: 'the firehose client counted once' });
    const sender = teardown.sender(router);
    await sender.sendEnvelopes([...numbered(a, 30), ...numbered(b, 30)]);
    await waitFor(() => firehose.lines.length === 60, { what: "both workers' lines on the one stream" });
    for (const app of [a, b]) expect(firehose.lines.filter(e => e.appId === app).map(e => lineNumber(e.message))).toEqual([...Array(30).keys()]);

    await router.terminateWorker(1);
    expect(await firehose.closed).toEqual({ code: 1011, reason: 'a worker of this router went away; reconnect' });
    await waitFor(async () => (await metricValue(router, 'loggregator_router_workers')) === 2, { what: 'worker 1 running again' });
    const again = teardown.add(await TailClient.openPath(router.httpAddress, '/firehose'), c => c.terminate());
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: 'the new client counted' });
    await sender.sendEnvelopes([...numbered(a, 5, 30), ...numbered(b, 5, 30)]);
    await waitFor(() => again.lines.length === 10, { what: "both workers' new lines" });
  });
});

describe('router with two workers: bad input at its edges', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('refuses, counted, an envelope that names two apps of two workers (the reader routes by the first)', async () => {
    const router = teardown.add(await startShardedRouter(routerConfig({ router: { workers: 2 } }), captureLogger().logger), r => r.close());
    const [a, b] = [appOf(0), appOf(1)];
    const twice = encodeEnvelopeJson(numbered(a, 1)[0]).replace(/}$/, `,"appId":"${b}"}`);
    await teardown.sender(router).send([Buffer.from(twice), Buffer.from(encodeEnvelopeJson(numbered(b, 1)[0]))]);
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 1, { what: 'the good line' });
    await waitFor(async () => (await metricValue(router, 'loggregator_rejected_total', { reason: 'invalid_envelope' })) === 1, { what: 'the rejection' });
    expect((await recent(router.httpAddress, `app=${b}`)).length).toBe(1);
    expect(await metricValue(router, 'loggregator_recent_lines')).toBe(1);
  });

  it('passes no connection-level header between caller and worker: a GET with a Content-Length does not upset the next caller, HTTP/1.0 gets HTTP/1.0', async () => {
    const router = teardown.add(await startShardedRouter(routerConfig({ router: { workers: 2 } }), captureLogger().logger), r => r.close());
    const a = appOf(0);
    await teardown.sender(router).sendEnvelopes(numbered(a, 3));
    await waitFor(async () => (await recent(router.httpAddress, `app=${a}`)).length === 3, { what: 'the lines' });
    await rawHttp(router.httpAddress, `GET /recent?app=${a} HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nConnection: close\r\n\r\n`);
    for (let i = 0; i < 3; i++) expect((await recent(router.httpAddress, `app=${a}`)).length).toBe(3);
    const old = await rawHttp(router.httpAddress, `GET /recent?app=${a} HTTP/1.0\r\n\r\n`);
    expect(old).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(old.toLowerCase()).not.toContain('transfer-encoding');
    expect(old.split('\r\n\r\n')[1].trim().split('\n').length).toBe(3);
  });
});

describe('router workers: the queue to a worker', () => {
  it('is bounded by router.workerQueueBytes: what does not fit is dropped and counted, the rest is ingested', async () => {
    const drops: { reason: string; lines: number }[] = [];
    const config = routerConfig({ router: { workers: 2, workerQueueBytes: 65_536 } });
    const workers = new RouterWorkers({
      config,
      count: 2,
      logger: captureLogger().logger,
      tlsCa: undefined,
      onDrop: (reason, lines) => drops.push({ reason, lines }),
      onRestart: () => undefined,
      onRunning: () => undefined,
    });
    await workers.start();
    try {
      const app = appOf(0);
      const lines = numbered(app, 200, 0, ' ' + 'x'.repeat(100)).map(encodeEnvelopeJson);
      // Ten batches of 200 lines (about 50 KiB each) in one turn: the worker cannot have taken
      // the first before the second comes, and two do not fit in 64 KiB.
      for (let k = 0; k < 10; k++) workers.post(0, new TextEncoder().encode(lines.join('\n')), 200);
      const dropped = drops.filter(d => d.reason === 'worker_behind').reduce((n, d) => n + d.lines, 0);
      expect(dropped).toBeGreaterThanOrEqual(200);
      expect(dropped % 200).toBe(0);
      const ingested = async () => {
        const [first] = await workers.metrics();
        return first.find(m => m.name === 'loggregator_ingested_total')?.values[0]?.value ?? 0;
      };
      await waitFor(async () => (await ingested()) === 2000 - dropped, { what: 'the batches that fit to be ingested' });
    } finally {
      await workers.close();
    }
  });
});
