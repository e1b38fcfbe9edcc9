import { AddressInfo } from 'node:net';
import { Etcd3 } from 'etcd3';
import { Observable, Subscription, filter, firstValueFrom, map, of, share, shareReplay, tap, timeout } from 'rxjs';
import { RouterInfo } from '../../streams/routerInfo';
import { routers$ as discoverRouters } from '../cluster/routerDiscovery';
import { createEtcdClient } from '../etcd/etcdClient';
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
export interface AgentDeps {
  /** The routers to send to; by default those config discovers (routers.static or etcd). */
  readonly routers$?: Observable<readonly RouterInfo[]>;
}

export async function startAgent(config: Config, logger: Logger, deps: AgentDeps = {}): Promise<Agent> {
  const opts = config.agent;
  const path = opts.instancesPath;
  if (path === null) throw new ConfigError('agent.instancesPath is not set: give --instances PATH (or LOGGREGATOR_AGENT_INSTANCES_PATH)');
  const metrics = new AgentMetrics();
  const fileRejections = new RejectionLog(logger, 'instances.json rejected');
  const socketFailures = new RejectionLog(logger, 'instance socket unavailable, retrying', 30_000);
  const emitter = new UdpEmitter([], {
    secret: config.sharedSecret ?? undefined,
    maxDatagramBytes: config.router.udp.maxDatagramBytes,
    maxQueuedDatagrams: opts.maxQueuedDatagrams,
    batchBytes: opts.batchBytes,
    onDropped: (reason, n) => metrics.dropped.inc({ reason }, n),
    onRouterRefused: (router, passedOverMs) => logger.warn('router refused datagrams (is it down?); its apps go to the others meanwhile', { router, passedOverMs }),
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

  if (deps.routers$ === undefined && config.routers.discovery === 'static' && config.routers.static.length === 0) {
    throw new ConfigError('invalid configuration: routers.static is empty: the agent has no router to send to (give --router HOST:PORT, list them, or use routers.discovery "etcd")');
  }
  let etcd: Etcd3 | undefined;
  let discovered$ = deps.routers$;
  if (discovered$ === undefined) {
    if (config.routers.discovery === 'etcd') etcd = createEtcdClient(config);
    discovered$ = discoverRouters(config, {
      client: etcd,
      logger,
      onError: () => metrics.discoveryErrors.inc(),
      onInvalid: reason => metrics.invalidRouterRecords.inc({ reason }),
    });
  }
  const routers$ = discovered$.pipe(shareReplay({ bufferSize: 1, refCount: true }));
  // Each app's lines go to the router that owns it in the latest set; a set with no router
  // leaves the apps' lines counted as dropped (no_router) until one is back.
  const following: Subscription = routers$.subscribe({
    next: routers => {
      emitter.setRouters(routers.map(r => ({ ...parseUdpTarget(r.udp), id: r.id })));
      metrics.routers.set(routers.length);
      logger.info('routers', { routers: routers.map(r => `${r.id}=${r.udp}`) });
    },
    error: err => logger.error('router discovery failed', { error: String(err) }),
  });

  // Lines are read once the routers are known (or etcd has had its dial timeout to say), so
  // that a start does not drop the first lines for want of a router.
  await firstValueFrom(routers$.pipe(timeout({ first: config.etcd.dialTimeoutMs, with: () => of(undefined) })), { defaultValue: undefined });
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
    following.unsubscribe();
    etcd?.close();
    await emitter.close();
    metrics.close();
    throw err;
  }
  const server = http.server;
  return {
    httpAddress: http.address,
    metrics,
    close: async () => {
      reading.unsubscribe();
      following.unsubscribe();
      etcd?.close();
      await emitter.close();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
      metrics.close();
    },
  };
}
