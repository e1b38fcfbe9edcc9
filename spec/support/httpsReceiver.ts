// A local HTTPS drain receiver (node's https server with a self-signed certificate) that records
// every request and answers as the test scripts it:
//
//   const receiver = teardown.add(await HttpsReceiver.start(cert), r => r.close());
//   receiver.answerNext({ status: 500 }, 'hang', { status: 429, headers: { 'Retry-After': '1' } });
//   … POSTs to receiver.url('/logs') …
//   receiver.requests    every request, in arrival order: headers, body, its octet-counted frames
//   receiver.delivered() the frames of the requests answered 2xx, in order
//
// Answers are used one per request, in order; once they run out every request gets 200.
// 'hang' never answers (the request is held until the client gives up or the receiver closes).
import { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { SelfSignedCert } from './selfSignedCert';

export type Answer = { readonly status: number; readonly headers?: Record<string, string> } | 'hang';

export interface ReceivedRequest {
  readonly method: string;
  /** Path and query as requested. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as octet-counted frames (RFC 6587), or the reason it is not. */
  readonly frames: string[];
  readonly malformed?: string;
  /** What it was answered: a status, or 'hang'. */
  readonly answer: number | 'hang';
  /** Date.now() when the body had arrived. */
  readonly atMs: number;
}

export class HttpsReceiver {
  readonly requests: ReceivedRequest[] = [];
  connections = 0;
  private readonly answers: Answer[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<ServerResponse>();

  private constructor(private readonly server: https.Server) {}

  static async start(cert: SelfSignedCert): Promise<HttpsReceiver> {
    let receiver!: HttpsReceiver;
    const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => receiver.handle(req, res));
    receiver = new HttpsReceiver(server);
    server.on('connection', (socket: Socket) => {
      receiver.connections++;
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `https://[userinfo@]127.0.0.1:PORT<path>`. */
  url(path = '/logs', userinfo = ''): string {
    return `https://${userinfo ? `${userinfo}@` : ''}127.0.0.1:${this.port}${path}`;
  }

  answerNext(...answers: Answer[]): void {
    this.answers.push(...answers);
  }

  /** Frames of the requests answered 2xx, in order. */
  delivered(): string[] {
    return this.requests.filter(r => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300).flatMap(r => r.frames);
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer = this.answers.shift() ?? { status: 200 };
      let frames: string[] = [];
      let malformed: string | undefined;
      try {
        frames = parseOctetCounted(body);
      } catch (err) {
        malformed = (err as Error).message;
      }
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        frames,
        malformed,
        answer: answer === 'hang' ? 'hang' : answer.status,
        atMs: Date.now(),
      });
      if (answer === 'hang') {
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      res.writeHead(answer.status, { 'Content-Type': 'text/plain', ...answer.headers });
      res.end(answer.status < 300 ? '' : `status ${answer.status}`);
    });
  }
}

/** RFC 6587 octet counting, strictly: `LEN SP MSG` again and again, LEN without leading zeros. */
export function parseOctetCounted(body: Buffer): string[] {
  const frames: string[] = [];
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const lenText = space < 0 ? '' : body.toString('latin1', at, space);
    if (!/^[1-9][0-9]{0,8}$/.test(lenText)) throw new Error(`frame ${frames.length} at byte ${at}: no MSG-LEN (${JSON.stringify(body.toString('latin1', at, at + 20))})`);
    const len = Number(lenText);
    if (space + 1 + len > body.length) throw new Error(`frame ${frames.length} at byte ${at}: MSG-LEN ${len} runs past the body (${body.length} bytes)`);
    frames.push(body.toString('utf8', space + 1, space + 1 + len));
    at = space + 1 + len;
  }
  return frames;
}
