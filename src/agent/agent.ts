import { AddressInfo } from 'node:net';
import { Subscription, filter, map, share, tap } from 'rxjs';
import { InstancesRead } from '../../streams/instance';
import { instanceLines } from '../../streams/instanceLines';
import { runKeyed } from '../../streams/runKeyed';
import { instanceSets } from '../../streams/instanceSets';
import { Config, ConfigError } from '../config/loadConfig';
import { UdpEmitter, parseUdpTarget } from '../emitter/udpEmitter';
import { nowNs } from '../envelope/envelope';
import { Logger } from '../logger';
import { serveMetrics } from '../metricsServer';
import { RejectionLog } from '../router/rejectionLog';
import { AgentMetrics } from './agentMetrics';
import { readTextFile, watchedFileEvents } from '../files/watchedFile';
import { parseInstances } from './instancesCodec';
import { unixSocketText } from './unixSocketText';

export interface Agent {
  readonly httpAddress: AddressInfo;
  readonly metrics: AgentMetrics;
  close(): Promise<void>;
}

/**
 * One agent's wiring:
 *   chokidar(instances.json) → settle → read + validate → instance set (invalid: kept the last)
 *   → diff by identity → per instance: stdout/stderr sockets → lines → envelopes → UDP
 */
export async function startAgent(config: Config, logger: Logger): Promise<Agent> {
  const opts = config.agent;
  const path = opts.instancesPath;
  if (path === null) throw new ConfigError('agent.instancesPath is not set: give --instances PATH (or LOGGREGATOR_AGENT_INSTANCES_PATH)');
  const metrics = new AgentMetrics();
  const fileRejections = new RejectionLog(logger, 'instances.json rejected');
  const socketFailures = new RejectionLog(logger, 'instance socket unavailable, retrying', 30_000);
  const emitter = new UdpEmitter(config.routers.static.map(r => parseUdpTarget(r.udp)), {
    secret: config.sharedSecret ?? undefined,
    maxDatagramBytes: config.router.udp.maxDatagramBytes,
    maxQueuedDatagrams: opts.maxQueuedDatagrams,
    onDropped: (reason, n) => metrics.dropped.inc({ reason }, n),
  });

  const sets$ = instanceSets(watchedFileEvents(path, logger), () => readTextFile(path), parseInstances, {
    settleMs: opts.settleMs,
  }).pipe(
    tap(read => {
      if (!read.ok) {
        metrics.instancesRejected.inc({ reason: read.reason });
        fileRejections.record(read.reason, `${path}: ${read.detail}; still reading the last valid set`);
      }
    }),
    filter((read): read is Extract<InstancesRead, { ok: true }> => read.ok),
    map(read => read.instances),
    share(),
  );

  const lines$ = runKeyed(
    sets$,
    (instance, stop$) =>
      instanceLines(instance, stop$, {
        connect: unixSocketText,
        nowNs,
        maxLineChars: opts.maxLineChars,
        backoff: { ...opts.reconnect, jitter: 0.2 },
        onRetry: (inst, stream, error, attempt, delayMs) => {
          metrics.reconnects.inc({ stream });
          const reason = (error as NodeJS.ErrnoException | undefined)?.code ?? 'ended';
          socketFailures.record(reason, `${inst.jobDir}/${stream}.sock (${inst.appId}/${inst.index}): retry ${attempt} in ${delayMs} ms`);
        },
      }),
    change => {
      metrics.instances.set(change.running);
      logger.info('instances changed', {
        added: change.added.map(i => `${i.appId}/${i.index}`),
        removed: change.removed.length,
        running: change.running,
      });
    },
  );

  const reading: Subscription = lines$.subscribe({
    next: envelope => {
      metrics.countLine(envelope.messageType === 'ERR');
      emitter.emit(envelope);
    },
    error: err => logger.error('agent pipeline failed', { error: String(err) }),
  });

  let http;
  try {
    http = await serveMetrics(metrics.registry, opts.http.host, opts.http.port);
  } catch (err) {
    reading.unsubscribe();
    await emitter.close();
    throw err;
  }
  const server = http.server;
  return {
    httpAddress: http.address,
    metrics,
    close: async () => {
      reading.unsubscribe();
      await emitter.close();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
