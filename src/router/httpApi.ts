import { IncomingMessage, ServerResponse, createServer, Server } from 'node:http';
import { checkRouterApiToken } from '../auth/routerApiToken';
import { acceptApiRequest } from '../http/apiRequest';
import { isAppsRequest } from '../http/appsRequest';
import { answerClientErrors, closeServer, listen } from '../http/serverLifecycle';
import { admitTailUpgrade } from '../http/tailUpgrade';
import { Duplex } from 'node:stream';
import { defer, from } from 'rxjs';
import { WebSocketServer } from 'ws';
import { AppChannels } from '../../streams/appChannels';
import { LogLine } from '../../streams/logLine';
import { RecentBuffer } from '../../streams/recentBuffer';
import { FIREHOSE_NOTICE_APP_ID } from '../../streams/routerNotice';
import { parseAppQuery } from '../http/appQuery';
import { sendNdjson } from '../http/ndjsonAnswer';
import { Refusal, sendRefusal } from '../http/refusal';
import { Logger } from '../logger';
import { answerRecentApps } from './recentAppsAnswer';
import { runTailSession } from './tailSession';
import { RouterMetrics } from './routerMetrics';

/** /recent answers being written at once; more are refused with 503 (each may be large). */
const MAX_RECENT_IN_FLIGHT = 64;

export interface HttpApiOptions {
  readonly linesPerApp: number;
  readonly maxClients: number;
  readonly maxQueuedLines: number;
  readonly maxQueuedBytes: number;
  readonly highWaterBytes: number;
  readonly allowedOrigins: readonly string[];
  readonly keepaliveMs: number;
  /** Streams of every app's lines (/firehose), one per traffic controller: far more lines than a tail, so bounds of their own. */
  readonly firehose: { readonly maxClients: number; readonly maxQueuedLines: number; readonly maxQueuedBytes: number };
  /** With sharedSecret: the token /recent and /tail require (routerApiToken); /health and /metrics stay open. */
  readonly apiToken?: string;
}

/**
 * The router's HTTP face: GET /recent, /health, /metrics, and websockets /tail and /firehose.
 * Every refusal is a JSON `{"error": ...}` body with a status that says whose fault it was.
 */
export class HttpApi {
  readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  private recentInFlight = 0;
  private firehoseClients = 0;

  constructor(
    private readonly recent: RecentBuffer,
    private readonly channels: AppChannels,
    private readonly metrics: RouterMetrics,
    private readonly opts: HttpApiOptions,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    answerClientErrors(this.server, () => this.metrics.refused.inc({ reason: 'bad_request' }));
  }

  listen(host: string, port: number): Promise<void> {
    return listen(this.server, host, port);
  }

  get tailClients(): number {
    return this.wss.clients.size;
  }

  /**
   * Closes every tail client with 1001 (going away) and stops the HTTP server. Clients that do
   * not finish the closing handshake, and requests still in flight, are cut after `graceMs`.
   */
  async close(graceMs = 1000): Promise<void> {
    await closeServer(this.server, this.wss, graceMs, 'router shutting down');
  }

  private refuse(res: ServerResponse, refusal: Refusal): void {
    this.metrics.refused.inc({ reason: refusal.reason });
    sendRefusal(res, refusal);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (isAppsRequest(req)) return answerRecentApps(req, res, this.recent, { apiToken: this.opts.apiToken, refuse: refusal => this.refuse(res, refusal) });
    const url = acceptApiRequest(req, res, {
      registry: this.metrics.registry,
      health: () => ({}),
      refuse: refusal => this.refuse(res, refusal),
    });
    if (url === undefined) return;
    // GET /recent: the only path left.
    const unauthorized = this.opts.apiToken === undefined ? undefined : checkRouterApiToken(req.headers, this.opts.apiToken);
    if (unauthorized) return this.refuse(res, unauthorized);
    const query = parseAppQuery(url, this.opts.linesPerApp);
    if (query instanceof Refusal) return this.refuse(res, query);
    if (this.recentInFlight >= MAX_RECENT_IN_FLIGHT) {
      return this.refuse(res, new Refusal(503, 'too_many_clients', `${MAX_RECENT_IN_FLIGHT} /recent answers are being sent already; try again later`));
    }
    this.sendRecent(res, this.recent.lines(query.app, query.limit)).catch(err => {
      this.logger.error('/recent answer failed', { error: String(err) });
      res.destroy();
    });
  }

  private async sendRecent(res: ServerResponse, lines: LogLine[]): Promise<void> {
    this.recentInFlight++;
    try {
      await sendNdjson(res, lines.map(line => line.json));
    } finally {
      this.recentInFlight--;
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const admitted = admitTailUpgrade(req, socket, {
      maxLimit: this.opts.linesPerApp,
      allowedOrigins: this.opts.allowedOrigins,
      originsKey: 'router.tail.allowedOrigins',
      clients: this.wss.clients.size,
      maxClients: this.opts.maxClients,
      handle: (q, r) => this.handle(q, r),
      onRefused: refusal => this.metrics.refused.inc({ reason: refusal.reason }),
      firehose: { clients: this.firehoseClients, maxClients: this.opts.firehose.maxClients },
    });
    if (admitted === undefined) return;
    const unauthorized = this.opts.apiToken === undefined ? undefined : checkRouterApiToken(req.headers, this.opts.apiToken);
    if (unauthorized) return admitted.refuse(unauthorized);
    if (admitted.kind === 'firehose') return this.startFirehose(req, socket, head);
    const { query } = admitted;
    this.wss.handleUpgrade(req, socket, head, ws => {
      this.metrics.tailClients.inc();
      ws.once('close', () => this.metrics.tailClients.dec());
      // Read when the splice subscribes to it, i.e. after the live channel: no gap at the seam.
      const recent$ = query.recent ? defer(() => from(this.recent.lines(query.app, query.limit))) : undefined;
      runTailSession(
        ws,
        this.channels.channel(query.app),
        recent$,
        {
          appId: query.app,
          socket,
          // The recent lines are already in memory: they do not count against the client's queue.
          maxQueued: this.opts.maxQueuedLines + (query.recent ? (query.limit ?? this.opts.linesPerApp) : 0),
          maxQueuedBytes: this.opts.maxQueuedBytes + (query.recent ? this.recent.appBytes(query.app) : 0),
          highWaterBytes: this.opts.highWaterBytes,
          keepaliveMs: this.opts.keepaliveMs,
          onDrop: n => this.metrics.dropped.inc({ reason: 'tail_slow_consumer' }, n),
        },
        this.logger,
      );
    });
  }

  /** Every app's lines to one client (a traffic controller), through its own bounded queue. */
  private startFirehose(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // ws calls back synchronously (no verifyClient), so the count cannot be overtaken meanwhile.
    this.wss.handleUpgrade(req, socket, head, ws => {
      this.firehoseClients++;
      this.metrics.firehoseClients.inc();
      ws.once('close', () => {
        this.firehoseClients--;
        this.metrics.firehoseClients.dec();
      });
      runTailSession(
        ws,
        this.channels.everyApp(),
        undefined,
        {
          appId: FIREHOSE_NOTICE_APP_ID,
          socket,
          maxQueued: this.opts.firehose.maxQueuedLines,
          maxQueuedBytes: this.opts.firehose.maxQueuedBytes,
          highWaterBytes: this.opts.highWaterBytes,
          keepaliveMs: this.opts.keepaliveMs,
          onDrop: n => this.metrics.dropped.inc({ reason: 'firehose_slow_consumer' }, n),
        },
        this.logger,
      );
    });
  }
}
