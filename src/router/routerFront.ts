import { IncomingHttpHeaders, IncomingMessage, ServerResponse, Server, createServer, request } from 'node:http';
import { Socket, connect } from 'node:net';
import { Duplex, pipeline } from 'node:stream';
import { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { shardOf } from '../../streams/appShard';
import { acceptApiRequest } from '../http/apiRequest';
import { isAppsRequest } from '../http/appsRequest';
import { Refusal, sendRefusal } from '../http/refusal';
import { answerClientErrors, listen } from '../http/serverLifecycle';
import { admitTailUpgrade } from '../http/tailUpgrade';
import { Logger } from '../logger';
import { relayFirehose } from './firehoseRelay';
import { answerWorkersApps } from './workerApps';

export interface RouterFrontOptions {
  readonly shards: number;
  /** The HTTP port of the worker that owns a shard, while it runs. */
  readonly workerPort: (shard: number) => number | undefined;
  readonly linesPerApp: number;
  readonly maxClients: number;
  readonly allowedOrigins: readonly string[];
  readonly registry: () => Promise<Registry>;
  readonly health: () => object;
  readonly notReady: () => string | undefined;
  readonly onRefused: (refusal: Refusal) => void;
  readonly firehose: { readonly maxClients: number };
  readonly highWaterBytes: number;
  readonly keepaliveMs: number;
}

/** The longest a worker may take over a /recent answer (a single router's answer is in memory). */
const RECENT_TIMEOUT_MS = 10_000;

/** How long a tail client may take to read the rest once its worker has closed the connection. */
const END_GRACE_MS = 10_000;

/** Headers that belong to one connection (RFC 9110 §7.6.1), and a body's framing: never passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'content-length', 'expect']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map(h => h.trim()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

/**
 * A multi-worker router's HTTP face, on router.http: /health, /ready and /metrics (every
 * worker's, summed) itself; /recent and websocket /tail handed to the worker that owns the app,
 * which answers them as a single router would (the same checks, token, queues and notices). A
 * tail is spliced at the TCP level once upgraded: its bytes pass through, its frames are never
 * parsed here. /firehose is the one stream made of every worker's: see relayFirehose.
 */
export class RouterFront {
  readonly server: Server;
  private readonly tails = new Set<Socket | Duplex>();
  private readonly firehoses = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });

  constructor(
    private readonly opts: RouterFrontOptions,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    answerClientErrors(this.server, () => opts.onRefused(new Refusal(400, 'bad_request', 'bad request')));
  }

  /** Firehose streams open (each fed by every worker's). */
  get firehoseClients(): number {
    return this.firehoses.clients.size;
  }

  listen(host: string, port: number): Promise<void> {
    return listen(this.server, host, port);
  }

  /** Stops accepting; tails still open after `graceMs` (their worker closes them first) are cut. */
  async close(graceMs: number): Promise<void> {
    let grace: NodeJS.Timeout | undefined;
    await new Promise<void>(resolve => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      grace = setTimeout(() => {
        for (const socket of this.tails) socket.destroy();
        for (const client of this.firehoses.clients) client.terminate();
        this.server.closeAllConnections();
      }, graceMs);
    });
    clearTimeout(grace);
  }

  private refuse(res: ServerResponse, refusal: Refusal): void {
    this.opts.onRefused(refusal);
    sendRefusal(res, refusal);
  }

  /** The worker port for a request's app (a missing or bad one goes to worker 0, which refuses it). */
  private portFor(url: URL): number | Refusal {
    const app = url.searchParams.get('app') ?? '';
    const shard = shardOf(app, this.opts.shards);
    const port = this.opts.workerPort(shard);
    if (port === undefined) return new Refusal(503, 'worker_unavailable', `the router's worker for this app is restarting; try again in a moment`, { 'Retry-After': '1' });
    return port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (isAppsRequest(req)) return void answerWorkersApps(req, res, { ...this.opts, refuse: refusal => this.refuse(res, refusal) });
    const url = acceptApiRequest(req, res, {
      registry: this.opts.registry,
      health: this.opts.health,
      notReady: this.opts.notReady,
      refuse: refusal => this.refuse(res, refusal),
    });
    if (url === undefined) return;
    // GET /recent: answered by the app's worker.
    const port = this.portFor(url);
    if (port instanceof Refusal) return this.refuse(res, port);
    // A connection of its own (no pooled keep-alive a caller's headers could desynchronise) and
    // only the end-to-end headers, both ways; a worker that stops answering is given up on.
    const upstream = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: endToEnd(req.headers), agent: false, timeout: RECENT_TIMEOUT_MS },
      answer => {
        res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
        // A worker that dies mid-answer ends the client's answer too, cut (not a hanging 200).
        pipeline(answer, res, err => err && res.destroy());
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error(`no answer in ${RECENT_TIMEOUT_MS / 1000} s`)));
    upstream.on('error', err => {
      if (!res.headersSent) return this.refuse(res, new Refusal(503, 'worker_unavailable', `the router's worker for this app did not answer (${(err as NodeJS.ErrnoException).code ?? err.message}); try again`, { 'Retry-After': '1' }));
      res.destroy();
    });
    // A client that leaves cancels the worker's answer.
    res.on('close', () => upstream.destroy());
    upstream.end();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const admitted = admitTailUpgrade(req, socket, {
      maxLimit: this.opts.linesPerApp,
      allowedOrigins: this.opts.allowedOrigins,
      originsKey: 'router.tail.allowedOrigins',
      clients: this.tails.size,
      maxClients: this.opts.maxClients,
      handle: (q, r) => this.handle(q, r),
      onRefused: this.opts.onRefused,
      firehose: { clients: this.firehoses.clients.size, maxClients: this.opts.firehose.maxClients },
    });
    if (admitted === undefined) return;
    if (admitted.kind === 'firehose') {
      const shards = Array.from({ length: this.opts.shards }, (_, shard) => shard);
      return relayFirehose(
        req,
        socket,
        head,
        this.firehoses,
        {
          workerPorts: () => shards.map(shard => this.opts.workerPort(shard)),
          highWaterBytes: this.opts.highWaterBytes,
          handshakeTimeoutMs: 10_000,
          keepaliveMs: this.opts.keepaliveMs,
          refuse: admitted.refuse,
        },
        this.logger,
      );
    }
    const port = this.portFor(admitted.url);
    if (port instanceof Refusal) return admitted.refuse(port);
    // The request as it came, to the worker; then the two connections joined.
    const upstream = connect({ host: '127.0.0.1', port });
    this.tails.add(socket);
    const end = () => {
      this.tails.delete(socket);
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', err => {
      this.logger.debug('tail connection to a worker failed', { error: err.message });
      end();
    });
    socket.on('error', end);
    socket.on('close', end);
    // The worker closed its side (a closing handshake, a shutdown's 1001): the client is sent
    // what is still on its way (pipe ends it once written), not cut; close() cuts it after its grace.
    upstream.on('close', () => {
      if (!socket.writableEnded) socket.end();
      // A client that does not take the rest within the grace is cut.
      setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
    });
    upstream.setNoDelay(true);
    let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(lines + '\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  }
}
