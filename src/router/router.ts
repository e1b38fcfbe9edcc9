import { AddressInfo } from 'node:net';
import { Subscription, filter, map, tap } from 'rxjs';
import { AppChannels, publishToChannels } from '../../streams/appChannels';
import { ingest } from '../../streams/ingest';
import { LogLine } from '../../streams/logLine';
import { RecentBuffer, retainRecent } from '../../streams/recentBuffer';
import { Config } from '../config/loadConfig';
import { Logger } from '../logger';
import { HttpApi } from './httpApi';
import { RejectionLog } from './rejectionLog';
import { RouterMetrics } from './routerMetrics';
import { bindUdp } from './udpIngest';

export interface Router {
  readonly udpAddress: AddressInfo;
  readonly httpAddress: AddressInfo;
  readonly metrics: RouterMetrics;
  /** Stops ingest, closes tail clients with 1001 (going away), stops HTTP. */
  close(): Promise<void>;
}

/**
 * One router process's wiring:
 *   UDP datagrams → ingest (decode, validate, count rejections) → recent buffer → app channels
 *   HTTP /recent reads the buffer; websocket /tail subscribes to a channel.
 */
export async function startRouter(config: Config, logger: Logger): Promise<Router> {
  const opts = config.router;
  let metrics: RouterMetrics | undefined;
  const recent = new RecentBuffer({
    ...opts.recent,
    onEvicted: n => metrics?.dropped.inc({ reason: 'recent_evicted' }, n),
  });
  metrics = new RouterMetrics(recent);
  const channels = new AppChannels();
  const rejections = new RejectionLog(logger, 'datagram rejected');

  const udp = await bindUdp(opts.udp, logger);
  const ingestion: Subscription = ingest(udp.datagram$, {
    maxBytes: opts.udp.maxDatagramBytes,
    secret: config.sharedSecret ?? undefined,
  })
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
    },
    logger,
  );
  try {
    await http.listen(opts.http.host, opts.http.port);
  } catch (err) {
    ingestion.unsubscribe();
    await udp.close();
    throw err;
  }

  return {
    udpAddress: udp.address,
    httpAddress: http.server.address() as AddressInfo,
    metrics,
    close: async () => {
      await udp.close();
      ingestion.unsubscribe();
      // Half the shutdown budget for clients to close cleanly; then they are cut.
      await http.close((opts.shutdownSeconds * 1000) / 2);
    },
  };
}
