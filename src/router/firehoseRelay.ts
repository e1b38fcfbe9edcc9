import { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { Refusal } from '../http/refusal';
import { Logger } from '../logger';

export interface FirehoseRelayOptions {
  /** Every worker's HTTP port, or undefined while one is restarting. */
  readonly workerPorts: () => readonly (number | undefined)[];
  /** Bytes buffered towards the client past which the workers' streams are paused (their queues then drop, counted). */
  readonly highWaterBytes: number;
  readonly handshakeTimeoutMs: number;
  /** Ping interval towards the client; one that has not answered the previous ping is cut. */
  readonly keepaliveMs: number;
  readonly refuse: (refusal: Refusal) => void;
}

/** Frames from a worker are relayed as they are; one larger than this is not a line. */
const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * A multi-worker router's /firehose: one websocket to the client, fed by every worker's own
 * /firehose (each worker holds its share of the apps, and its own bounded queue and drop notices).
 * Frames are passed on without being parsed. The client's headers (its router API token) go to
 * every worker, so the workers decide who may connect, as they do for /tail. A worker's stream
 * that breaks closes the client's with 1011: the client reconnects as to a router that went away,
 * and its consumers are told.
 */
export function relayFirehose(req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer, opts: FirehoseRelayOptions, logger: Logger): void {
  const ports = opts.workerPorts();
  if (ports.some(port => port === undefined)) {
    return opts.refuse(new Refusal(503, 'worker_unavailable', "one of the router's workers is restarting; try again in a moment", { 'Retry-After': '1' }));
  }
  const headers: Record<string, string> = {};
  if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
  const upstreams = (ports as number[]).map(
    // The workers' frames are this process's own output, valid UTF-8 by construction: not checked again here, on the reader's thread.
    port =>
      new WebSocket(`ws://127.0.0.1:${port}/firehose`, {
        headers,
        handshakeTimeout: opts.handshakeTimeoutMs,
        maxPayload: MAX_FRAME_BYTES,
        perMessageDeflate: false,
        skipUTF8Validation: true,
      }),
  );
  let client: WebSocket | undefined;
  let done = false;
  // Until every worker's stream is open, a failure refuses the client's upgrade (with the worker's answer, if any).
  let opened = 0;
  const refuseOnce = (refusal: Refusal) => {
    if (done || client) return;
    done = true;
    for (const upstream of upstreams) upstream.terminate();
    opts.refuse(refusal);
  };
  const finish = (code: number, reason: string) => {
    if (!client) return refuseOnce(new Refusal(503, 'worker_unavailable', `a worker of this router closed its stream (${code}); try again`, { 'Retry-After': '1' }));
    if (done) return;
    done = true;
    for (const upstream of upstreams) upstream.terminate();
    client.close(code, reason);
  };
  socket.once('close', () => {
    if (client) return;
    done = true;
    for (const upstream of upstreams) upstream.terminate();
  });

  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  const pause = () => upstreams.forEach(u => u.pause());
  const resume = () => upstreams.forEach(u => u.resume());
  socket.on('drain', resume);

  for (const upstream of upstreams) {
    upstream.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 502;
      res.resume();
      refuseOnce(
        status === 401 || status === 403
          ? new Refusal(status, 'unauthorized', 'the router API token is missing or wrong')
          : new Refusal(503, 'worker_unavailable', `a worker of this router answered ${status}; try again`, { 'Retry-After': '1' }),
      );
    });
    upstream.on('error', err => {
      if (!client) return refuseOnce(new Refusal(503, 'worker_unavailable', `a worker of this router could not be reached (${err.message}); try again`, { 'Retry-After': '1' }));
      logger.debug('firehose stream from a worker failed', { error: err.message });
      finish(1011, 'a worker of this router failed; reconnect');
    });
    // A worker shutting down says 1001 (going away), and so does the router to its client.
    upstream.on('close', code => finish(code === 1001 ? 1001 : 1011, code === 1001 ? 'router shutting down' : 'a worker of this router went away; reconnect'));
    upstream.on('open', () => {
      // Held until the client's stream is up: a worker's lines must not come before there is somewhere to send them.
      upstream.pause();
      if (++opened < upstreams.length || done) return;
      wss.handleUpgrade(req, socket, head, ws => {
        client = ws;
        resume();
        let answered = true;
        ws.on('pong', () => (answered = true));
        const pinging = setInterval(() => {
          if (!answered) return ws.terminate();
          answered = false;
          ws.ping();
        }, opts.keepaliveMs);
        ws.on('error', () => undefined);
        ws.once('close', () => {
          clearInterval(pinging);
          finish(1000, '');
        });
      });
    });
    upstream.on('message', (data: Buffer, isBinary) => {
      if (!client || client.readyState !== WebSocket.OPEN) return;
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(uncork);
      }
      client.send(data, { binary: isBinary });
      if (client.bufferedAmount > opts.highWaterBytes) pause();
    });
  }
}
