import { AddressInfo } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { shardOf } from '../../streams/appShard';
import { Config, routerWorkers } from '../config/loadConfig';
import { trustedCas } from '../drain/trustedCas';
import { DatagramOptions, splitDatagram } from '../envelope/codec';
import { Logger } from '../logger';
import { RejectionLog } from './rejectionLog';
import { Registration, registerIfEtcd } from './etcdRegistration';
import type { Router } from './router';
import { RouterFront } from './routerFront';
import { RouterMetrics } from './routerMetrics';
import { RouterWorkers } from './routerWorkers';
import { ShardDispatch } from './shardDispatch';
import { bindUdp } from './udpIngest';
import { routerIdOf } from '../cluster/routerDiscovery';

export interface ShardedRouter extends Router {
  /** Ends worker `index` at once, as a crash would: it is restarted like any worker that dies. */
  terminateWorker(index: number): Promise<void>;
}

/**
 * A router on several cores (router.workers > 1). Each worker thread owns a share of the apps
 * (shardOf) and runs the single router's pipeline for them: recent, tail, drains, in order. This
 * thread is the router's face:
 *   UDP datagrams → the datagram's own checks (size, signature, UTF-8) → each envelope's text,
 *   undecoded, to the worker of the app it names → (worker) decode, validate, recent, tail, drains
 *   HTTP /recent and /tail → the app's worker; /health, /ready, /metrics (every worker's, summed) here.
 * One reader keeps each sender's lines of an app in the order they came, as a single router does.
 */
export async function startShardedRouter(config: Config, logger: Logger): Promise<ShardedRouter> {
  const opts = config.router;
  const count = routerWorkers(config);
  // Read here once: every worker, and one restarted later, trusts the same CAs.
  const tlsCa = trustedCas({ caFile: opts.drains.tls.caFile, extraCaCerts: process.env.NODE_EXTRA_CA_CERTS }, logger.child({ component: 'drain' }));
  const metrics = new RouterMetrics({ appCount: 0, lineCount: 0, byteCount: 0 });
  const restarts = new Counter({
    name: 'loggregator_router_worker_restarts_total',
    help: 'Router worker threads that died and were started again (each loses the lines it held).',
    registers: [metrics.registry],
  });
  const running = new Gauge({ name: 'loggregator_router_workers', help: 'Router worker threads running.', registers: [metrics.registry] });
  const workers = new RouterWorkers({
    config,
    count,
    logger,
    tlsCa,
    onDrop: (reason, lines) => metrics.dropped.inc({ reason }, lines),
    onRestart: () => restarts.inc(),
    onRunning: n => running.set(n),
  });
  try {
    await workers.start();
  } catch (err) {
    metrics.close();
    throw err;
  }

  let udp: Awaited<ReturnType<typeof bindUdp>>;
  try {
    udp = await bindUdp(opts.udp, logger);
  } catch (err) {
    await workers.close();
    metrics.close();
    throw err;
  }
  const dispatch = new ShardDispatch(
    count,
    (shard, batch, lines) => workers.post(shard, batch, lines),
    shard => workers.idle(shard),
  );
  const rejections = new RejectionLog(logger, 'datagram rejected');
  const datagramOptions: DatagramOptions = { maxBytes: opts.udp.maxDatagramBytes, secret: config.sharedSecret ?? undefined };
  const reading = udp.datagram$.subscribe(datagram => {
    const parts = splitDatagram(datagram, datagramOptions);
    if (!Array.isArray(parts)) {
      if (parts.ok) return; // splitDatagram never returns an accepted envelope on its own
      metrics.rejected.inc({ reason: parts.reason });
      rejections.record(parts.reason, parts.detail);
      return;
    }
    // An envelope that names no app goes to worker 0, which rejects and counts it.
    for (const part of parts) dispatch.add(part.appId === undefined ? 0 : shardOf(part.appId, count), part.text);
  });

  const registry = async (): Promise<Registry> => {
    // A firehose client is one stream here and one per worker behind it: counted here, once.
    metrics.firehoseClients.set(front.firehoseClients);
    const ofWorkers = (await workers.metrics()).map(list => list.filter(m => m.name !== 'loggregator_router_firehose_clients'));
    const all = [await metrics.registry.getMetricsAsJSON(), ...ofWorkers];
    return AggregatorRegistry.aggregate(all);
  };
  const front = new RouterFront(
    {
      shards: count,
      workerPort: shard => workers.port(shard),
      linesPerApp: opts.recent.linesPerApp,
      maxClients: opts.tail.maxClients,
      allowedOrigins: opts.tail.allowedOrigins,
      registry,
      health: () => ({ workers: count, workersRunning: workers.running }),
      notReady: () => (workers.running < count ? `${count - workers.running} of ${count} router workers are restarting` : undefined),
      onRefused: refusal => metrics.refused.inc({ reason: refusal.reason }),
      firehose: opts.firehose,
      highWaterBytes: opts.tail.socketHighWaterBytes,
      keepaliveMs: opts.tail.keepaliveSeconds * 1000,
    },
    logger,
  );
  let registration: Registration | undefined;
  try {
    await front.listen(opts.http.host, opts.http.port);
    registration = registerIfEtcd(config, routerIdOf(config, udp.address.port), udp.address, front.server.address() as AddressInfo, () => metrics.registrationErrors.inc(), logger);
  } catch (err) {
    reading.unsubscribe();
    await udp.close();
    await workers.close();
    await front.close(0).catch(() => undefined);
    metrics.close();
    throw err;
  }
  logger.info('router workers running', { workers: count });

  return {
    id: routerIdOf(config, udp.address.port),
    udpAddress: udp.address,
    httpAddress: front.server.address() as AddressInfo,
    metricsRegistry: registry,
    terminateWorker: index => workers.terminate(index),
    close: async () => {
      await registration?.close();
      await udp.close();
      reading.unsubscribe();
      dispatch.flush();
      // Each worker flushes its drains and closes its tail clients (through the front door)
      // within the budget a single router has; the front door then stops.
      await Promise.all([workers.close(opts.shutdownSeconds * 1000 * 0.9), front.close((opts.shutdownSeconds * 1000) / 2)]);
      metrics.close();
    },
  };
}
