import { routerApiToken } from '../auth/routerApiToken';
import { mkdirSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { Observable, Subject, Subscription, defer, filter, map, takeUntil, tap } from 'rxjs';
import { AppChannels, publishToChannels } from '../../streams/appChannels';
import { shardOf } from '../../streams/appShard';
import { reconnectWithBackoff } from '../../streams/backoff';
import { bindingSets } from '../../streams/bindingSets';
import { Ingested, ingest, ingestWith } from '../../streams/ingest';
import { LogLine } from '../../streams/logLine';
import { RecentBuffer, retainRecent } from '../../streams/recentBuffer';
import { openBindingStore } from '../bindings/bindingStore';
import { FileBindingStore } from '../bindings/fileBindingStore';
import { Config, routerWorkers } from '../config/loadConfig';
import { DrainMetrics } from '../drain/drainMetrics';
import { runDrains } from '../drain/drains';
import { trustedCas } from '../drain/trustedCas';
import { Decoded, decodeEnvelopeLines } from '../envelope/codec';
import { Envelope } from '../envelope/envelope';
import { encodeSyslogMessage, octetCounted } from '../envelope/rfc5424';
import { Logger } from '../logger';
import { HttpApi } from './httpApi';
import { routerIdOf } from '../cluster/routerDiscovery';
import { Registration, registerIfEtcd } from './etcdRegistration';
import { RejectionLog } from './rejectionLog';
import { RouterMetrics } from './routerMetrics';
import { startShardedRouter } from './shardedRouter';
import { UdpIngest, bindUdp } from './udpIngest';

export interface Router {
  /** Its id in the cluster (routers.discovery etcd: its registration's key). */
  readonly id: string;
  readonly udpAddress: AddressInfo;
  readonly httpAddress: AddressInfo;
  /** Its self metrics as one registry (with several workers: theirs and the reader's, summed). */
  metricsRegistry(): Promise<Registry>;
  /** Stops ingest, closes tail clients with 1001 (going away), flushes drains (bounded), stops HTTP. */
  close(): Promise<void>;
}

/** One worker's share of a multi-worker router (see shardedRouter). */
export interface Shard {
  readonly index: number;
  readonly count: number;
  /** Envelope texts separated by "\n", already checked as datagrams by the router's reader. */
  readonly batch$: Observable<string>;
}

/** A worker's router: its own HTTP API on loopback (the reader's front door proxies to it). */
export interface RouterShard {
  readonly httpAddress: AddressInfo;
  readonly metrics: RouterMetrics;
  close(): Promise<void>;
}

/**
 * A router: one event loop, or with router.workers above 1, a UDP reader that hands each app's
 * envelopes to the worker thread that owns the app (startShardedRouter).
 */
export async function startRouter(config: Config, logger: Logger): Promise<Router> {
  if (routerWorkers(config) > 1) return startShardedRouter(config, logger);
  return startSingleRouter(config, logger);
}

/**
 * One event loop's router:
 *   UDP datagrams → ingest (decode, validate, count rejections) → recent buffer → app channels
 *   HTTP /recent reads the buffer; websocket /tail subscribes to a channel.
 *   binding store → binding sets → one drain writer per binding, on its app's channel.
 */
async function startSingleRouter(config: Config, logger: Logger): Promise<Router> {
  const opts = config.router;
  let udp: UdpIngest | undefined;
  const core = await startRouterCore(config, logger, {
    tlsCa: trustedCas({ caFile: opts.drains.tls.caFile, extraCaCerts: process.env.NODE_EXTRA_CA_CERTS }, logger.child({ component: 'drain' })),
    open: async () => (udp = await bindUdp(opts.udp, logger)),
    ingest: own$ => ingest(udp!.datagram$, { maxBytes: opts.udp.maxDatagramBytes, secret: config.sharedSecret ?? undefined, keepText: true }, own$),
    http: opts.http,
    recentShare: 1,
    owns: () => true,
    reportsInvalidBindings: true,
    defaultMetrics: true,
    stopIngest: async () => udp?.close(),
  });
  const id = routerIdOf(config, udp!.address.port);
  let registration: Registration | undefined;
  try {
    registration = registerIfEtcd(config, id, udp!.address, core.http.server.address() as AddressInfo, () => core.metrics.registrationErrors.inc(), logger);
  } catch (err) {
    await core.close();
    throw err;
  }
  return {
    id,
    udpAddress: udp!.address,
    httpAddress: core.http.server.address() as AddressInfo,
    metricsRegistry: async () => core.metrics.registry,
    close: async () => {
      await registration?.close();
      await core.close();
    },
  };
}

/**
 * A worker's share of a multi-worker router: the same pipeline, fed by the reader, on loopback;
 * its drains trust the CAs the reader read at start (`tlsCa`, see trustedCas).
 */
export async function startRouterShard(config: Config, logger: Logger, shard: Shard, tlsCa: string[] | undefined): Promise<RouterShard> {
  const core = await startRouterCore(config, logger, {
    tlsCa,
    open: async () => undefined,
    ingest: own$ => ingestWith(shard.batch$, batch => decodeEnvelopeLines(batch, true).map(decoded => ownedOnly(decoded, shard)), own$),
    http: { host: '127.0.0.1', port: 0 },
    recentShare: shard.count,
    owns: appId => shardOf(appId, shard.count) === shard.index,
    // Every worker reads every binding: one of them reports the invalid ones.
    reportsInvalidBindings: shard.index === 0,
    // Process-wide figures: the reader reports them once.
    defaultMetrics: false,
    stopIngest: async () => undefined,
  });
  return { httpAddress: core.http.server.address() as AddressInfo, metrics: core.metrics, close: () => core.close() };
}

/**
 * The reader sends an envelope to the worker of the app its text names first; JSON's last
 * repeated key wins in the decoded envelope. One that names two apps is refused, counted, by the
 * worker it reached instead of living where no reader of its app would look.
 */
function ownedOnly(decoded: Decoded, shard: Shard): Decoded {
  if (!decoded.ok || shardOf(decoded.envelope.appId, shard.count) === shard.index) return decoded;
  return { ok: false, reason: 'invalid_envelope', detail: 'appId is given more than once, with other values' };
}

interface CoreOptions {
  /** The CAs its TLS drains trust (trustedCas). */
  readonly tlsCa: string[] | undefined;
  /** Opens the input (a UDP port), after the binding store and before the HTTP API. */
  readonly open: () => Promise<unknown>;
  readonly ingest: (own$: Observable<Envelope>) => Observable<Ingested>;
  readonly http: { readonly host: string; readonly port: number };
  /** How many routers share router.recent's maxBytes (its workers). */
  readonly recentShare: number;
  /** Whether this router runs the drains of an app's bindings. */
  readonly owns: (appId: string) => boolean;
  readonly reportsInvalidBindings: boolean;
  readonly defaultMetrics: boolean;
  /** Stops the input; nothing more is ingested. */
  readonly stopIngest: () => Promise<unknown>;
}

interface RouterCore {
  readonly http: HttpApi;
  readonly metrics: RouterMetrics;
  close(): Promise<void>;
}

/**
 * The router's pipeline behind its input:
 *   input → ingest (decode, validate, count rejections) → recent buffer → app channels
 *   HTTP /recent reads the buffer; websocket /tail subscribes to a channel.
 *   binding store → binding sets (the apps it owns) → one drain writer per binding, on its app's channel.
 */
async function startRouterCore(config: Config, logger: Logger, core: CoreOptions): Promise<RouterCore> {
  const opts = config.router;
  let metrics: RouterMetrics | undefined;
  // Workers split maxBytes, so the router as a whole holds what it says. Not maxApps: the hash
  // gives one worker a few more apps than another, and a worker with room for exactly its even
  // share would evict an app on every write of a full set (an app costs its lines' bytes, which
  // maxBytes bounds, and a few words).
  const recent = new RecentBuffer({
    ...opts.recent,
    maxBytes: Math.ceil(opts.recent.maxBytes / core.recentShare),
    onEvicted: n => metrics?.dropped.inc({ reason: 'recent_evicted' }, n),
  });
  metrics = new RouterMetrics(recent, { defaultMetrics: core.defaultMetrics });
  const channels = new AppChannels();
  const rejections = new RejectionLog(logger, 'datagram rejected');
  const drainMetrics = new DrainMetrics(metrics.registry);
  const own$ = new Subject<Envelope>();

  // The store first: a store that cannot be opened fails the start before any port is taken.
  const drainLog = logger.child({ component: 'drain' });
  // The data directory is the router's: made at start, so the bindings file can be watched at once.
  if (config.bindings.store === 'file') mkdirSync(config.dataDir, { recursive: true });
  const store =
    config.bindings.store === 'file'
      ? new FileBindingStore(config.dataDir, drainLog, reason => {
          drainMetrics.storeErrors.inc();
          drainLog.error('bindings file unusable', { reason });
        })
      : openBindingStore(config, drainLog);
  try {
    await core.open();
  } catch (err) {
    await store.close();
    metrics.close();
    throw err;
  }
  const ingestion: Subscription = core
    .ingest(own$)
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
  const sets$ = bindingSets(storeEvent$, { maxPerApp: config.bindings.maxPerApp, batchMs: 50 }).pipe(
    map(set => ({ bindings: set.bindings.filter(b => core.owns(b.appId)), invalid: core.reportsInvalidBindings ? set.invalid : [] })),
  );
  const drains = runDrains(sets$, {
    config: opts.drains,
    appLines: appId => channels.channel(appId),
    publish: envelope => own$.next(envelope),
    frameOf: line => line.frame(encodeFrame),
    tlsCa: core.tlsCa,
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
      firehose: opts.firehose,
      ...(config.sharedSecret === null ? {} : { apiToken: routerApiToken(config.sharedSecret) }),
    },
    logger,
  );
  try {
    await http.listen(core.http.host, core.http.port);
  } catch (err) {
    drains.unsubscribe();
    ingestion.unsubscribe();
    await core.stopIngest();
    await http.close(0).catch(() => undefined);
    await store.close();
    metrics.close();
    throw err;
  }

  return {
    http,
    metrics,
    close: async () => {
      await core.stopIngest();
      // Drains flush what they hold (each for at most flushSeconds) while tail clients close.
      stopDrains$.next();
      // Each drain stops itself after flushSeconds (< shutdownSeconds) and counts what is left.
      const flushed = Promise.race([drainsFinished, new Promise(resolve => setTimeout(resolve, (opts.drains.flushSeconds + 0.5) * 1000).unref())]);
      // Half the shutdown budget for clients to close cleanly; then they are cut.
      await Promise.all([flushed, http.close((opts.shutdownSeconds * 1000) / 2)]);
      drains.unsubscribe();
      ingestion.unsubscribe();
      own$.complete();
      await store.close();
      metrics.close();
    },
  };
}
