// A stand-in for the traffic controller on a loopback ephemeral port, for `logs` specs: real HTTP
// and websockets, answering from a script. The first requests (to /tail or /recent) get the
// refusals queued, in order; after that /recent answers `recentBody` and /tail upgrades and
// hands the socket to `onTail`.
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface ScriptedRefusal {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly error?: string;
}

export interface SeenRequest {
  readonly path: string;
  /** /tail asked for the recent lines too. */
  readonly recent: boolean;
  readonly atMs: number;
}

export class FakeTarget {
  /** Refusals still to give, in order, whatever the request. */
  readonly refusals: ScriptedRefusal[] = [];
  readonly requests: SeenRequest[] = [];
  recentBody = '';
  /** Headers of a 200 /recent answer (X-Skipped-Routers, as the traffic controller sends them). */
  recentHeaders: Record<string, string> = {};
  /** Called with each accepted tail; `index` counts accepted tails from 0. */
  onTail: (ws: WebSocket, request: SeenRequest, index: number) => void = () => undefined;
  url!: URL;
  private server!: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private tails = 0;

  static async start(): Promise<FakeTarget> {
    const target = new FakeTarget();
    target.server = createServer((req, res) => target.answer(req, res));
    target.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => target.upgrade(req, socket, head));
    await new Promise<void>(resolve => target.server.listen(0, '127.0.0.1', resolve));
    target.url = new URL(`http://127.0.0.1:${(target.server.address() as AddressInfo).port}`);
    return target;
  }

  requestsTo(path: string): SeenRequest[] {
    return this.requests.filter(r => r.path === path);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private seen(req: IncomingMessage): SeenRequest {
    const url = new URL(req.url ?? '/', this.url);
    const request = { path: url.pathname, recent: url.searchParams.get('recent') === 'true', atMs: Date.now() };
    this.requests.push(request);
    return request;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.seen(req);
    const refusal = this.refusals.shift();
    if (refusal) {
      res.writeHead(refusal.status, { 'Content-Type': 'application/json', ...refusal.headers });
      res.end(JSON.stringify({ error: refusal.error ?? 'scripted refusal' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', ...this.recentHeaders });
    res.end(this.recentBody);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const request = this.seen(req);
    const refusal = this.refusals.shift();
    if (refusal) {
      const body = JSON.stringify({ error: refusal.error ?? 'scripted refusal' });
      const headers = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...refusal.headers };
      const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${refusal.status} Scripted\r\n${head}\r\n${body}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, ws => this.onTail(ws, request, this.tails++));
  }
}
