// A router on two worker threads (router.workers 2), for real on loopback: each app lives in the
// worker that owns it (shardOf); a worker that dies is restarted, counted and logged, and costs
// only what it held: the other worker's apps, their tail clients and their recent lines go on
// untouched; the dead worker's apps are served again once it is back.
import { shardOf } from '../../../streams/appShard';
import { ShardedRouter, startShardedRouter } from '../../../src/router/shardedRouter';
import { captureLogger } from '../../support/agentHarness';
import { httpGet, recent } from '../../support/httpGet';
import { routerConfig } from '../../support/routerConfig';
import { metricValue } from '../../support/routerMetricValue';
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
    await sender.sendEnvelopes(numbered(b, 30, 20));
    await waitFor(() => tailB.lines.length === 50, { what: "worker 1's client to get every line" });
    expect(tailB.isClosed).toBe(false);
    expect(tailB.lines.map(e => lineNumber(e.message))).toEqual([...Array(50).keys()]);
    expect(tailB.notices).toEqual([]);

    await waitFor(async () => (await metricValue(router, 'loggregator_router_workers')) === 2, { what: 'worker 0 running again' });
    expect(await metricValue(router, 'loggregator_router_worker_restarts_total')).toBe(1);
    expect(messages()).toContain('router worker died; starting it again (its apps lose the lines it held)');
    // Worker 0's recent lines went with it; worker 1's are all there.
    expect((await recent(router.httpAddress, `app=${b}`)).length).toBe(50);
    expect(await recent(router.httpAddress, `app=${a}`)).toEqual([]);
    const again = await teardown.tail(router, `app=${a}`);
    await sender.sendEnvelopes(numbered(a, 10, 20));
    await waitFor(() => again.lines.length === 10, { what: "the restarted worker's new client to get new lines" });
    expect((await recent(router.httpAddress, `app=${a}`)).map(e => lineNumber(e.message))).toEqual([...Array(10).keys()].map(i => i + 20));
  });
});
