import { NEVER, Observable, fromEvent, retry, takeUntil, throwError, timer } from 'rxjs';
import WebSocket from 'ws';
import { backoffDelay } from '../../streams/backoff';
import { Envelope } from '../envelope/envelope';
import { decodeEnvelopeJson } from '../envelope/codec';
import { lineIdentity } from './lineIdentity';
import { PrintedLines } from './printedLines';
import { RECONNECT_BACKOFF, retryDelayMs } from './retryDelay';
import { Refused, TargetContext, Unavailable, Unreachable, describeError, failureFromAnswer } from './targetFailures';

/** What a command that prints live lines (`logs`, `firehose`) is given. */
export interface LiveClientOptions {
  readonly json: boolean;
  /** The traffic controller's (or one router's) HTTP address, e.g. http://127.0.0.1:8080. */
  readonly target: URL;
  /** Sent as "Authorization: Bearer" (the traffic controller needs one; a router ignores it). */
  readonly token?: string;
  readonly colour: boolean;
  /** Reconnect attempts in a row after a connection drops, before giving up. */
  readonly maxReconnects?: number;
  /** Told each time a tail connection is open (for tests, and callers that show status). */
  readonly onConnected?: () => void;
  /** Stops a live tail (it then resolves 0). */
  readonly signal?: AbortSignal;
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
}

export interface FollowOptions extends TargetContext {
  /** The websocket URL to open; `reconnect` is true after a drop (ask for a replay then, if there is one). */
  readonly url: (reconnect: boolean) => URL;
  /** Whether a reconnect's stream starts with a replay of lines printed already (to be skipped). */
  readonly replays: boolean;
  /** Prints one line (the envelope, and its frame as it came). */
  readonly print: (envelope: Envelope, frame: string) => void;
  readonly err: (text: string) => void;
  /** Reconnect attempts in a row after a connection drops, before giving up. */
  readonly maxReconnects?: number;
  readonly onConnected?: () => void;
  readonly signal?: AbortSignal;
}

/**
 * Lines remembered for recognising a replay after a reconnect: the most a router keeps per app
 * (`router.recent.linesPerApp` is at most 10,000; 100 by default), so any line a replay can
 * hold that was printed among the last 10,000 is recognised.
 */
const REMEMBERED_LINES = 10_000;

function authHeaders(opts: TargetContext): Record<string, string> {
  return opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` };
}

/**
 * One websocket connection's frames; errors with Refused, Unavailable or Unreachable, never
 * completes by itself.
 */
function frames(url: URL, opts: FollowOptions, onOpen: () => void): Observable<string> {
  const target = opts.target;
  return new Observable<string>(subscriber => {
    const ws = new WebSocket(url, { handshakeTimeout: 10_000, headers: authHeaders(opts) });
    ws.on('open', onOpen);
    ws.on('message', data => subscriber.next(data.toString()));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      const failed = () => subscriber.error(failureFromAnswer(res.statusCode ?? 0, res.headers['retry-after'], body, opts));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
      res.on('end', failed);
      res.on('error', failed);
    });
    ws.on('error', e => subscriber.error(new Unreachable(describeError(e, target))));
    ws.on('close', (code, reason) =>
      subscriber.error(new Unreachable(`connection closed (${code}${reason.length ? ' ' + reason.toString() : ''})`)),
    );
    return () => ws.terminate();
  });
}

/**
 * A live websocket stream of lines, printed as they come: reconnects (skipping a replay's lines
 * printed already) when the connection drops, waits out a target that is unavailable for now
 * (503/429), and resolves 1 when the target cannot be reached at all, 2 when it refuses, 0 when
 * stopped by the signal.
 */
export function followLines(opts: FollowOptions): Promise<number> {
  const err = opts.err;
  // The target was there once (it let us in, or said it is busy): losing it is worth retrying.
  // Until then an unreachable target is most likely a wrong address, reported at once.
  let reached = false;
  let connectedOnce = false;
  let dropsInARow = 0;
  let saidUnavailable = false;
  const printed = new PrintedLines(REMEMBERED_LINES);
  const maxReconnects = opts.maxReconnects ?? 10;

  const connection$ = new Observable<string>(subscriber => {
    const url = opts.url(connectedOnce);
    const replays = opts.replays && connectedOnce;
    return frames(url, opts, () => {
      reached = connectedOnce = true;
      saidUnavailable = false;
      // Before any frame of this connection: frames are handled as they come (no buffering).
      if (replays) printed.replayStarts();
      opts.onConnected?.();
    }).subscribe(subscriber);
  }).pipe(
    retry({
      resetOnSuccess: true,
      delay: (e: Error, attempt) => {
        if (e instanceof Unavailable) {
          // Busy, starting or stopping: it will serve again, so wait as long as it takes (the
          // user stops a live tail with Ctrl-C), saying so once, not at every attempt.
          reached = true;
          if (!saidUnavailable) err(`${e.message}; retrying until it serves again (Ctrl-C to stop)`);
          saidUnavailable = true;
          return timer(retryDelayMs(attempt, e.retryAfterMs));
        }
        dropsInARow++;
        if (e instanceof Refused || !reached || dropsInARow > maxReconnects) return throwError(() => e);
        err(`${e.message}; reconnecting (attempt ${dropsInARow} of ${maxReconnects})`);
        return timer(backoffDelay(attempt, RECONNECT_BACKOFF));
      },
    }),
    takeUntil(opts.signal ? fromEvent(opts.signal, 'abort') : NEVER),
  );

  // Frames are printed synchronously as they arrive, so `replayStarts` (at a connection's open)
  // always falls between the last frame of one connection and the first of the next.
  return new Promise<number>(resolve => {
    connection$.subscribe({
      next: frame => {
        dropsInARow = 0;
        const decoded = decodeEnvelopeJson(frame);
        if (!decoded.ok) return err(`skipping a frame that is not an envelope: ${decoded.detail}`);
        if (!printed.admit(lineIdentity(decoded.envelope))) return; // printed before the reconnect
        opts.print(decoded.envelope, frame);
      },
      complete: () => resolve(0),
      error: (e: Error) => {
        err(e.message);
        resolve(e instanceof Refused ? 2 : 1);
      },
    });
  });
}
