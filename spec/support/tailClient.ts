// A websocket tail client that records what it receives, for real-socket router specs.
import { IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import WebSocket, { ClientOptions } from 'ws';
import { Envelope } from '../../src/envelope/envelope';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export class TailClient {
  /** Every frame received, parsed, in order of arrival. */
  readonly received: Envelope[] = [];
  /** Frames that were binary or not an envelope's JSON (a correct router sends none). */
  readonly malformed: string[] = [];
  pings = 0;
  /** Settles once the connection has closed, with the code and reason the client saw. */
  readonly closed: Promise<Closed>;
  private closedWith: Closed | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      if (isBinary) return void this.malformed.push(`binary: ${text.slice(0, 80)}`);
      try {
        this.received.push(JSON.parse(text) as Envelope);
      } catch {
        this.malformed.push(text.slice(0, 80));
      }
    });
    ws.on('ping', () => this.pings++);
    ws.on('error', () => undefined); // the close event says what happened
    this.closed = new Promise(resolve =>
      ws.once('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString('utf8') };
        resolve(this.closedWith);
      }),
    );
  }

  /** Connects to `ws://…/tail?<query>`; rejects (with the HTTP status) if the router refuses. */
  static open(address: AddressInfo, query: string, options: ClientOptions = {}): Promise<TailClient> {
    return TailClient.openPath(address, `/tail?${query}`, options);
  }

  /** Connects to `ws://…<pathAndQuery>` (e.g. /firehose?subscription=s); rejects if refused. */
  static openPath(address: AddressInfo, pathAndQuery: string, options: ClientOptions = {}): Promise<TailClient> {
    const ws = new WebSocket(`ws://${address.address}:${address.port}${pathAndQuery}`, options);
    const client = new TailClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(new Error(`websocket ${pathAndQuery} refused: ${res.statusCode}`));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Lines the router produced itself (LGR drop notices). */
  get notices(): Envelope[] {
    return this.received.filter(e => e.sourceType === 'LGR');
  }

  /** Lines other than notices. */
  get lines(): Envelope[] {
    return this.received.filter(e => e.sourceType !== 'LGR');
  }

  /** Drops the connection at once, without a closing handshake (for teardown). */
  terminate(): void {
    this.ws.terminate();
  }
}

export interface Refused {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Tries a websocket upgrade that the router should refuse; the status and body it answered. */
export function refusedTail(address: AddressInfo, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Refused> {
  const ws = new WebSocket(`ws://${address.address}:${address.port}${pathAndQuery}`, { headers, handshakeTimeout: 5_000 });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`websocket ${pathAndQuery} was accepted, expected a refusal`));
    });
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', chunk => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        ws.terminate();
      });
    });
    ws.once('error', err => reject(err));
  });
}
