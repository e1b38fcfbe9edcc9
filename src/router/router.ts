import { routerApiToken } from '../auth/routerApiToken';
import { mkdirSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { rootCertificates } from 'node:tls';
import { Subject, Subscription, defer, filter, map, takeUntil, tap } from 'rxjs';
import { AppChannels, publishToChannels } from '../../streams/appChannels';
import { reconnectWithBackoff } from '../../streams/backoff';
import { bindingSets } from '../../streams/bindingSets';
import { ingest } from '../../streams/ingest';
import { LogLine } from '../../streams/logLine';
import { RecentBuffer, retainRecent } from '../../streams/recentBuffer';
import { BindingStore, openBindingStore } from '../bindings/bindingStore';
import { FileBindingStore } from '../bindings/fileBindingStore';
import { Config, ConfigError } from '../config/loadConfig';
import { DrainMetrics } from '../drain/drainMetrics';
import { runDrains } from '../drain/drains';
import { Envelope } from '../envelope/envelope';
import { encodeSyslogMessage, octetCounted } from '../envelope/rfc5424';
import { Logger } from '../logger';
import { HttpApi } from './httpApi';
import { Etcd3 } from 'etcd3';
import { RouterRegistration, registerRouter } from '../cluster/routerRegistration';
import { advertisedAddress, routerIdOf } from '../cluster/routerDiscovery';
import { createEtcdClient, describeEtcdError } from '../etcd/etcdClient';
import { RejectionLog } from './rejectionLog';
import { RouterMetrics } from './routerMetrics';
import { bindUdp } from './udpIngest';

export interface Router {
  /** Its id in the cluster (routers.discovery etcd: its registration's key). */
  readonly id: string;
  readonly udpAddress: AddressInfo;
  readonly httpAddress: AddressInfo;
  readonly metrics: RouterMetrics;
  /** Stops ingest, closes tail clients with 1001 (going away), flushes drains (bounded), stops HTTP. */
  close(): Promise<void>;
}

export interface RouterDeps {
  /** Where bindings come from; by default the store the config names (closed with the router). */
  readonly bindingStore?: BindingStore;
}

/**
 * One router process's wiring:
 *   UDP datagrams → ingest (decode, validate, count rejections) → recent buffer → app channels
 *   HTTP /recent reads the buffer; websocket /tail subscribes to a channel.
 *   binding store → binding sets → one drain writer per binding, on its app's channel.
 */
export async function startRouter(config: Config, logger: Logger, deps: RouterDeps = {}): Promise<Router> {
  const opts = config.router;
  let metrics: RouterMetrics | undefined;
  const recent = new RecentBuffer({
    ...opts.recent,
    onEvicted: n => metrics?.dropped.inc({ reason: 'recent_evicted' }, n),
  });
  metrics = new RouterMetrics(recent);
  const channels = new AppChannels();
  const rejections = new RejectionLog(logger, 'datagram rejected');
  const drainMetrics = new DrainMetrics(metrics.registry);
  const tlsCa = trustedCas(opts.drains.tls.caFile);
  const own$ = new Subject<Envelope>();

  // The store first: a store that cannot be opened fails the start before any port is taken.
  const drainLog = logger.child({ component: 'drain' });
  // The data directory is the router's: made at start, so the bindings file can be watched at once.
  if (deps.bindingStore === undefined && config.bindings.store === 'file') mkdirSync(config.dataDir, { recursive: true });
  const store =
    deps.bindingStore ??
    (config.bindings.store === 'file'
      ? new FileBindingStore(config.dataDir, drainLog, reason => {
          drainMetrics.storeErrors.inc();
          drainLog.error('bindings file unusable', { reason });
        })
      : openBindingStore(config, drainLog));
  let udp: Awaited<ReturnType<typeof bindUdp>>;
  try {
    udp = await bindUdp(opts.udp, logger);
  } catch (err) {
    if (deps.bindingStore === undefined) await store.close();
    throw err;
  }
  const ingestion: Subscription = ingest(
    udp.datagram$,
    { maxBytes: opts.udp.maxDatagramBytes, secret: config.sharedSecret ?? undefined },
    own$,
  )
    .pipe(
      tap(result => {
        if (!result.ok) {
          metrics.rejected.inc({ reason: result.reason });
          rejections.record(result.reason, result.detail);
        }
      }),
      filter(result => result.ok),
      map(result => (result as { line: LogLine }).line),
      tap(() => metrics.countIngested()),
      retainRecent(recent),
      publishToChannels(channels),
    )
    .subscribe({ error: err => logger.error('ingest pipeline failed', { error: String(err) }) });

  const stopDrains$ = new Subject<void>();
  const storeEvent$ = defer(() => store.events()).pipe(
    reconnectWithBackoff(stopDrains$, {
      ...config.bindings.reconnect,
      jitter: 0.5,
      onRetry: (error, attempt, retryInMs) => {
        drainMetrics.storeErrors.inc();
        drainLog.warn('binding store unavailable; drains keep the last known bindings', {
          store: store.description,
          error: error === undefined ? 'watch ended' : String((error as Error).message ?? error),
          attempt,
          retryInMs,
        });
      },
    }),
    takeUntil(stopDrains$),
  );
  const hostnameField = opts.drains.hostname ?? hostname();
  const encodeFrame = (envelope: Envelope) => octetCounted(encodeSyslogMessage(envelope, hostnameField));
  let drainsDone: () => void = () => undefined;
  const drainsFinished = new Promise<void>(resolve => (drainsDone = resolve));
  const drains = runDrains(bindingSets(storeEvent$, { maxPerApp: config.bindings.maxPerApp, batchMs: 50 }), {
    config: opts.drains,
    appLines: appId => channels.channel(appId),
    publish: envelope => own$.next(envelope),
    frameOf: line => line.frame(encodeFrame),
    tlsCa,
    metrics: drainMetrics,
    logger: drainLog,
  }).subscribe({ complete: () => drainsDone(), error: () => drainsDone() });
  drainLog.info('drains follow bindings', { store: store.description });

  const http = new HttpApi(
    recent,
    channels,
    metrics,
    {
      linesPerApp: opts.recent.linesPerApp,
      maxClients: opts.tail.maxClients,
      maxQueuedLines: opts.tail.maxQueuedLines,
      maxQueuedBytes: opts.tail.maxQueuedBytes,
      allowedOrigins: opts.tail.allowedOrigins,
      highWaterBytes: opts.tail.socketHighWaterBytes,
      keepaliveMs: opts.tail.keepaliveSeconds * 1000,
      ...(config.sharedSecret === null ? {} : { apiToken: routerApiToken(config.sharedSecret) }),
    },
    logger,
  );
  const id = routerIdOf(config, udp.address.port);
  let registration: RouterRegistration | undefined;
  let etcd: Etcd3 | undefined;
  try {
    await http.listen(opts.http.host, opts.http.port);
    if (config.routers.discovery === 'etcd') {
      // Registered once both ports listen: whoever finds it can use it at once.
      const info = { id, udp: advertisedAddress(config, udp.address, 'udp'), http: advertisedAddress(config, http.server.address() as AddressInfo, 'http') };
      etcd = createEtcdClient(config);
      const endpoints = config.etcd.endpoints.join(',');
      registration = registerRouter(etcd, {
        prefix: config.routers.etcdPrefix,
        ttlSeconds: config.routers.leaseTtlSeconds,
        info,
        reconnect: config.routers.reconnect,
        logger: logger.child({ component: 'registration' }),
        onError: () => metrics.registrationErrors.inc(),
        describe: err => describeEtcdError(err, endpoints, config.etcd.dialTimeoutMs),
        // Bounded so that the revoke, the linger and the drains' flush fit in shutdownSeconds.
        closeTimeoutMs: REVOKE_TIMEOUT_MS,
      });
      logger.info('registering in etcd', { id, key: config.routers.etcdPrefix + id, udp: info.udp, http: info.http, ttlSeconds: config.routers.leaseTtlSeconds });
    }
  } catch (err) {
    drains.unsubscribe();
    ingestion.unsubscribe();
    await udp.close();
    await http.close(0).catch(() => undefined);
    if (deps.bindingStore === undefined) await store.close();
    throw err;
  }

  return {
    id,
    udpAddress: udp.address,
    httpAddress: http.server.address() as AddressInfo,
    metrics,
    close: async () => {
      // Deregistered first: agents and traffic controllers move away before ingest stops.
      if (registration) {
        await registration.close();
        // Agents hear of the deregistration through their etcd watch, a moment later: ingest
        // goes on meanwhile, so that what they send until then is not refused.
        await new Promise(resolve => setTimeout(resolve, DEREGISTERED_LINGER_MS));
      }
      etcd?.close();
      await udp.close();
      // Drains flush what they hold (each for at most flushSeconds) while tail clients close.
      stopDrains$.next();
      // Each drain stops itself after flushSeconds (< shutdownSeconds) and counts what is left.
      const flushed = Promise.race([drainsFinished, new Promise(resolve => setTimeout(resolve, (opts.drains.flushSeconds + 0.5) * 1000).unref())]);
      // Half the shutdown budget for clients to close cleanly; then they are cut.
      await Promise.all([flushed, http.close((opts.shutdownSeconds * 1000) / 2)]);
      drains.unsubscribe();
      ingestion.unsubscribe();
      own$.complete();
      if (deps.bindingStore === undefined) await store.close();
    },
  };
}

/** Longest wait for the lease revoke on close (etcd away: the lease then expires by itself). */
const REVOKE_TIMEOUT_MS = 750;
/** Ingest kept open after deregistering, while agents' watches catch up. */
const DEREGISTERED_LINGER_MS = 500;

/** The host's CA bundle (Debian's; what update-ca-certificates maintains), if it has one. */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * CAs for TLS drains: node's bundled roots, the host's bundle (node does not read it by itself,
 * so a CA an operator added with update-ca-certificates would not count), and the configured
 * file's; undefined (node's roots alone) when there is neither.
 */
function trustedCas(caFile: string | null): string[] | undefined {
  const extra: string[] = [];
  try {
    extra.push(readFileSync(HOST_CA_BUNDLE, 'utf8'));
  } catch {
    // no host bundle: node's roots and the configured file
  }
  if (caFile !== null) {
    let pem: string;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`router.drains.tls.caFile ${caFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`router.drains.tls.caFile ${caFile}: holds no PEM certificate`);
    extra.push(pem);
  }
  return extra.length === 0 ? undefined : [...rootCertificates, ...extra];
}
