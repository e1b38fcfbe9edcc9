import { Observable, Subject, Subscription, fromEventPattern } from 'rxjs';
import WebSocket from 'ws';
import { keepalive } from '../../streams/keepalive';
import { LogLine } from '../../streams/logLine';
import { tail } from '../../streams/tail';
import { Logger } from '../logger';

export interface TailSessionOptions {
  readonly appId: string;
  /** The upgraded connection under `ws`: corked per event-loop turn so frames leave together. */
  readonly socket: { cork(): void; uncork(): void };
  readonly maxQueued: number;
  readonly maxQueuedBytes: number;
  readonly highWaterBytes: number;
  readonly keepaliveMs: number;
  readonly onDrop: (dropped: number) => void;
  /** Told of every line written to the socket. */
  readonly onSent?: () => void;
  /** How the recent answer's end is found in the live lines (see spliceRecent); 'seq' by default. */
  readonly seam?: 'seq' | 'identity';
  /** Who in-band drop notices are from; the router by default. */
  readonly noticeSource?: string;
}

/** Close code for a server that is going away (RFC 6455 §7.4.1). */
export const GOING_AWAY = 1001;

/**
 * One websocket tail client: its lines through its own bounded queue, paced by its own socket,
 * with its own keepalive. Everything it owns is torn down when the socket closes, and nothing
 * it does (stop reading, vanish, misbehave) reaches ingest or any other client.
 * Returns the subscription that owns the session; unsubscribing it does not close the socket.
 */
export function runTailSession(
  ws: WebSocket,
  live$: Observable<LogLine>,
  recent$: Observable<LogLine> | undefined,
  opts: TailSessionOptions,
  logger: Logger,
): Subscription {
  const session = new Subscription();
  const credit$ = new Subject<number>();

  // Frames of one event-loop turn leave in one write: ws writes each frame on its own, and a
  // syscall per line was most of the router's cost (npm run bench). Corked bytes still count
  // in ws.bufferedAmount, so the high-water mark below sees them.
  let corked = false;
  const uncork = () => {
    corked = false;
    opts.socket.uncork();
  };

  // Grant the next line while the socket has room; past the high-water mark, only once the
  // frame just sent has been handed to the kernel.
  const send = (line: LogLine): void => {
    if (!corked) {
      corked = true;
      opts.socket.cork();
      setImmediate(uncork);
    }
    opts.onSent?.();
    const json = line.json; // its length in characters stands in for bytes: a bound, not an exact count
    if (ws.bufferedAmount + json.length < opts.highWaterBytes) {
      ws.send(json);
      credit$.next(1);
    } else {
      ws.send(json, err => {
        if (!err) credit$.next(1);
      });
    }
  };

  session.add(
    tail(live$, recent$, credit$, {
      appId: opts.appId,
      maxQueued: opts.maxQueued,
      maxQueuedBytes: opts.maxQueuedBytes,
      onDrop: opts.onDrop,
      seam: opts.seam,
      noticeSource: opts.noticeSource,
    }).subscribe({
      next: send,
      error: err => {
        logger.error('tail session failed', { app: opts.appId, error: String(err) });
        ws.close(1011, 'internal error');
      },
    }),
  );
  session.add(
    // Not fromEvent: it would use ws's addEventListener, which knows no 'pong' event.
    keepalive(
      fromEventPattern(
        handler => ws.on('pong', handler),
        handler => ws.off('pong', handler),
      ),
      { intervalMs: opts.keepaliveMs },
    ).subscribe({
      next: () => ws.ping(),
      error: err => {
        logger.info('dropping unresponsive tail client', { app: opts.appId, reason: String(err.message) });
        ws.terminate();
      },
    }),
  );
  // Clients have nothing to say; frames they send anyway are ignored (ws enforces maxPayload).
  ws.on('error', err => logger.debug('tail client socket error', { app: opts.appId, error: err.message }));
  ws.once('close', () => session.unsubscribe());
  credit$.next(1);
  return session;
}
