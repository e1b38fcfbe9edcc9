import { IncomingMessage, ServerResponse, createServer, Server } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { defer, from } from 'rxjs';
import { WebSocketServer } from 'ws';
import { AppChannels } from '../../streams/appChannels';
import { LogLine } from '../../streams/logLine';
import { RecentBuffer } from '../../streams/recentBuffer';
import { isValidAppId } from '../envelope/codec';
import { Logger } from '../logger';
import { GOING_AWAY, runTailSession } from './tailSession';
import { RefusedReason, RouterMetrics } from './routerMetrics';

/** /recent answers being written at once; more are refused with 503 (each may be large). */
const MAX_RECENT_IN_FLIGHT = 64;
const RECENT_CHUNK_CHARS = 64 * 1024;

export interface HttpApiOptions {
  readonly linesPerApp: number;
  readonly maxClients: number;
  readonly maxQueuedLines: number;
  readonly maxQueuedBytes: number;
  readonly highWaterBytes: number;
  readonly allowedOrigins: readonly string[];
  readonly keepaliveMs: number;
}

class Refusal {
  constructor(
    readonly status: number,
    readonly reason: RefusedReason,
    readonly message: string,
  ) {}
}

type Query = { app: string; limit?: number; recent: boolean };

/** Parses and checks `?app=ID[&limit=N][&recent=true]`; a Refusal says what is wrong. */
function parseQuery(url: URL, linesPerApp: number): Query | Refusal {
  const bad = (message: string) => new Refusal(400, 'bad_request', message);
  const apps = url.searchParams.getAll('app');
  if (apps.length === 0) return bad('missing query parameter "app" (the app id)');
  if (apps.length > 1) return bad('query parameter "app" given more than once');
  const app = apps[0];
  if (!isValidAppId(app)) {
    return bad(`invalid app id ${JSON.stringify(app.slice(0, 64))}: 1-48 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
  }
  const query: Query = { app, recent: false };
  const limit = url.searchParams.get('limit');
  if (limit !== null) {
    if (!/^[0-9]{1,9}$/.test(limit) || Number(limit) < 1 || Number(limit) > linesPerApp) {
      return bad(`invalid limit ${JSON.stringify(limit.slice(0, 32))}: a whole number from 1 to ${linesPerApp}`);
    }
    query.limit = Number(limit);
  }
  const recent = url.searchParams.get('recent');
  if (recent !== null) {
    if (recent !== 'true' && recent !== 'false') return bad(`invalid recent ${JSON.stringify(recent.slice(0, 32))}: true or false`);
    query.recent = recent === 'true';
  }
  return query;
}

function parseUrl(req: IncomingMessage): URL | Refusal {
  try {
    return new URL(req.url ?? '/', 'http://router');
  } catch {
    return new Refusal(400, 'bad_request', 'malformed request URL');
  }
}

/** Resolves when a response can take more, or is gone; leaves no listener behind. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function errorBody(message: string): string {
  return JSON.stringify({ error: message }) + '\n';
}

/**
 * The router's HTTP face: GET /recent, /health, /metrics, and websocket /tail.
 * Every refusal is a JSON `{"error": ...}` body with a status that says whose fault it was.
 */
export class HttpApi {
  readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  private recentInFlight = 0;

  constructor(
    private readonly recent: RecentBuffer,
    private readonly channels: AppChannels,
    private readonly metrics: RouterMetrics,
    private readonly opts: HttpApiOptions,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // A client that went away mid-request is not a bad request: nothing to answer or count.
      if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
      this.metrics.refused.inc({ reason: 'bad_request' });
      const status =
        err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get tailClients(): number {
    return this.wss.clients.size;
  }

  /**
   * Closes every tail client with 1001 (going away) and stops the HTTP server. Clients that do
   * not finish the closing handshake, and requests still in flight, are cut after `graceMs`.
   */
  async close(graceMs = 1000): Promise<void> {
    for (const ws of this.wss.clients) ws.close(GOING_AWAY, 'router shutting down');
    let grace: NodeJS.Timeout | undefined;
    await new Promise<void>(resolve => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      grace = setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
        this.server.closeAllConnections();
      }, graceMs);
    });
    clearTimeout(grace);
  }

  private refuse(res: ServerResponse, refusal: Refusal): void {
    this.metrics.refused.inc({ reason: refusal.reason });
    res.writeHead(refusal.status, { 'Content-Type': 'application/json' }).end(errorBody(refusal.message));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = parseUrl(req);
    if (url instanceof Refusal) return this.refuse(res, url);
    const known = ['/recent', '/health', '/metrics', '/tail'];
    if (!known.includes(url.pathname)) return this.refuse(res, new Refusal(404, 'not_found', `no such path ${url.pathname}; try /recent, /tail, /health or /metrics`));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.refuse(res, new Refusal(405, 'method_not_allowed', `${req.method} not allowed; use GET`));
    }
    switch (url.pathname) {
      case '/health':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok' }) + '\n');
        return;
      case '/metrics':
        this.metrics.registry.metrics().then(
          text => res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(text),
          err => res.writeHead(500, { 'Content-Type': 'application/json' }).end(errorBody(String(err))),
        );
        return;
      case '/tail':
        return this.refuse(res, new Refusal(426, 'bad_request', '/tail is a websocket endpoint: connect with a websocket client'));
      case '/recent': {
        const query = parseQuery(url, this.opts.linesPerApp);
        if (query instanceof Refusal) return this.refuse(res, query);
        if (this.recentInFlight >= MAX_RECENT_IN_FLIGHT) {
          return this.refuse(res, new Refusal(503, 'too_many_clients', `${MAX_RECENT_IN_FLIGHT} /recent answers are being sent already; try again later`));
        }
        this.sendRecent(res, this.recent.lines(query.app, query.limit)).catch(err => {
          this.logger.error('/recent answer failed', { error: String(err) });
          res.destroy();
        });
        return;
      }
    }
  }

  /**
   * An app's recent lines as NDJSON, written in chunks as the client takes them: the answer is
   * never built whole (100 lines of 64 KB messages can be tens of MB of JSON), and a client
   * that does not read holds at most a chunk beyond the socket's buffer.
   */
  private async sendRecent(res: ServerResponse, lines: LogLine[]): Promise<void> {
    this.recentInFlight++;
    try {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'X-Line-Count': String(lines.length) });
      let chunk = '';
      for (const line of lines) {
        chunk += line.json + '\n';
        if (chunk.length < RECENT_CHUNK_CHARS) continue;
        const more = res.write(chunk);
        chunk = '';
        if (!more) await drainedOrClosed(res);
        if (res.destroyed) return;
      }
      res.end(chunk);
    } finally {
      this.recentInFlight--;
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      // Another protocol offered (h2c, as curl --http2 and Java's HttpClient do): decline it by
      // answering the request in HTTP/1.1, as if no upgrade had been asked for.
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      res.shouldKeepAlive = false;
      res.once('finish', () => {
        res.detachSocket(socket as Socket);
        socket.end();
      });
      return this.handle(req, res);
    }
    const refuse = (refusal: Refusal) => {
      this.metrics.refused.inc({ reason: refusal.reason });
      const body = errorBody(refusal.message);
      const statusText = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[refusal.status] ?? 'Error';
      socket.end(
        `HTTP/1.1 ${refusal.status} ${statusText}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const url = parseUrl(req);
    if (url instanceof Refusal) return refuse(url);
    if (url.pathname !== '/tail') return refuse(new Refusal(404, 'not_found', `no websocket endpoint at ${url.pathname}; use /tail?app=ID`));
    const query = parseQuery(url, this.opts.linesPerApp);
    if (query instanceof Refusal) return refuse(query);
    // A browser page from elsewhere must not read an app's logs through the user's browser
    // (cross-site websocket hijacking): an Origin header, which only browsers send, must be allowed.
    const origin = req.headers.origin;
    if (origin !== undefined && !this.opts.allowedOrigins.includes(origin)) {
      return refuse(new Refusal(403, 'origin_not_allowed', `websocket connections from origin ${JSON.stringify(origin.slice(0, 100))} are not allowed (router.tail.allowedOrigins)`));
    }
    if (this.wss.clients.size >= this.opts.maxClients) {
      return refuse(new Refusal(503, 'too_many_clients', `tail client limit of ${this.opts.maxClients} reached; try again later`));
    }
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
}
