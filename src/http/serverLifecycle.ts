import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { clientErrorStatus } from './refusal';

/** Close code for a server that is going away (RFC 6455 §7.4.1). */
const GOING_AWAY = 1001;

/** Listens on host:port; rejects (EADDRINUSE, EACCES) instead of emitting an unhandled error. */
export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Answers requests node's parser refused (431, 408, 400; `onRefused` counts them); a client that
 * went away mid-request is not a bad request: nothing to answer or count.
 */
export function answerClientErrors(server: Server, onRefused: () => void): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    onRefused();
    socket.end(`HTTP/1.1 ${clientErrorStatus(err.code)}\r\nConnection: close\r\n\r\n`);
  });
}

/**
 * Another protocol offered on upgrade (h2c, as curl --http2 and Java's HttpClient do): declined
 * by answering the request in HTTP/1.1, as if no upgrade had been asked for.
 */
export function answerAsHttp1(req: IncomingMessage, socket: Duplex, handle: (req: IncomingMessage, res: ServerResponse) => void): void {
  const res = new ServerResponse(req);
  res.assignSocket(socket as Socket);
  res.shouldKeepAlive = false;
  res.once('finish', () => {
    res.detachSocket(socket as Socket);
    socket.end();
  });
  handle(req, res);
}

/**
 * Closes every websocket client with 1001 (going away) and stops the server. Clients that do not
 * finish the closing handshake, and requests still in flight, are cut after `graceMs`.
 */
export async function closeServer(server: Server, servers: WebSocketServer | readonly WebSocketServer[], graceMs: number, reason: string): Promise<void> {
  const clients = () => (Array.isArray(servers) ? servers : [servers]).flatMap(w => [...w.clients]);
  for (const ws of clients()) ws.close(GOING_AWAY, reason);
  let grace: NodeJS.Timeout | undefined;
  await new Promise<void>(resolve => {
    server.close(() => resolve());
    server.closeIdleConnections();
    grace = setTimeout(() => {
      for (const ws of clients()) ws.terminate();
      server.closeAllConnections();
    }, graceMs);
  });
  clearTimeout(grace);
}
