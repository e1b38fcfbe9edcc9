// Plain HTTP against a router: one request per connection (no agent), and a raw TCP exchange for
// requests no well-formed client would send.
import { IncomingHttpHeaders, request } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import { Envelope } from '../../src/envelope/envelope';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function httpGet(address: AddressInfo, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.address, port: address.port, path, method, headers, agent: false }, res => {
      const chunks: Buffer[] = [];
      res.on('data', chunk => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET /recent?app=… as envelopes, oldest first; throws unless 200. */
export async function recent(address: AddressInfo, query: string, headers: Record<string, string> = {}): Promise<Envelope[]> {
  const answer = await httpGet(address, `/recent?${query}`, 'GET', headers);
  if (answer.status !== 200) throw new Error(`GET /recent?${query}: ${answer.status} ${answer.body}`);
  return answer.body === '' ? [] : answer.body.trimEnd().split('\n').map(line => JSON.parse(line) as Envelope);
}

/**
 * Writes raw bytes to the HTTP port and collects everything the server sends back until it closes
 * the connection (or `timeoutMs` passes, then whatever came so far).
 */
export function rawHttp(address: AddressInfo, bytes: string | Buffer, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, address.address);
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', chunk => chunks.push(chunk));
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', err => {
      // A server that answers and closes at once may reset a socket we are still writing to.
      if (chunks.length > 0) done();
      else {
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}
