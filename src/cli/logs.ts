import { NEVER, Observable, fromEvent, retry, takeUntil, throwError, timer } from 'rxjs';
import { eachValueFrom } from 'rxjs-for-await';
import WebSocket from 'ws';
import { decodeEnvelopeJson } from '../envelope/codec';
import { Envelope } from '../envelope/envelope';
import { formatLine } from './lineFormat';

export interface LogsOptions {
  readonly app: string;
  readonly recent: boolean;
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

/** Frames remembered for recognising a replay after a reconnect (a router keeps 100 per app by default). */
const REMEMBERED_FRAMES = 10_000;

/** The server said no (4xx/5xx on the upgrade): retrying will not help. */
class Refused extends Error {}
/** The connection could not be made or was lost. */
class Unreachable extends Error {}

function describeError(err: unknown, target: URL): string {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return `cannot reach loggregator at ${target.origin}: connection refused (is \`loggregator serve\` running?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach loggregator at ${target.origin}: unknown host`;
  return `cannot reach loggregator at ${target.origin}: ${code ?? e.message}`;
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: show it as it came
  }
  return body.trim().slice(0, 500);
}

/** A refusal in words, with what to do about the usual ones. */
function refusalText(status: number, body: string, opts: LogsOptions): string {
  const reason = errorText(body);
  if (status === 401) {
    const how = opts.token === undefined ? 'no token was sent: give --token TOKEN or set LOGGREGATOR_TOKEN' : 'check the token given with --token or LOGGREGATOR_TOKEN';
    return `not authenticated (401 ${reason}): ${how}`;
  }
  if (status === 403) return `not allowed to read app ${opts.app} (403 ${reason})`;
  return `refused: ${status} ${reason}`;
}

function authHeaders(opts: LogsOptions): Record<string, string> {
  return opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` };
}

function print(e: Envelope, opts: LogsOptions, out: (t: string) => void, json: string): void {
  out(opts.json ? json : formatLine(e, opts.colour));
}

async function recentOnce(opts: LogsOptions, out: (t: string) => void, err: (t: string) => void): Promise<number> {
  const url = new URL('/recent', opts.target);
  url.searchParams.set('app', opts.app);
  let res: Response;
  try {
    res = await fetch(url, { headers: authHeaders(opts) });
  } catch (e) {
    err(describeError(e, opts.target));
    return 1;
  }
  const body = await res.text();
  if (res.status !== 200) {
    err(refusalText(res.status, body, opts));
    return res.status >= 400 && res.status < 500 ? 2 : 1;
  }
  for (const text of body.split('\n')) {
    if (text === '') continue;
    const decoded = decodeEnvelopeJson(text);
    if (decoded.ok) print(decoded.envelope, opts, out, text);
    else err(`skipping a line the router sent that is not an envelope: ${decoded.detail}`);
  }
  return 0;
}

/** One websocket connection's frames; errors with Refused or Unreachable, never completes by itself. */
function frames(url: URL, opts: LogsOptions, onOpen: () => void): Observable<string> {
  const target = opts.target;
  return new Observable<string>(subscriber => {
    const ws = new WebSocket(url, { handshakeTimeout: 10_000, headers: authHeaders(opts) });
    ws.on('open', onOpen);
    ws.on('message', data => subscriber.next(data.toString()));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, 4096)));
      res.on('end', () => subscriber.error(new Refused(refusalText(res.statusCode ?? 0, body, opts))));
      res.on('error', () => subscriber.error(new Refused(refusalText(res.statusCode ?? 0, '', opts))));
    });
    ws.on('error', e => subscriber.error(new Unreachable(describeError(e, target))));
    ws.on('close', (code, reason) =>
      subscriber.error(new Unreachable(`connection closed (${code}${reason.length ? ' ' + reason.toString() : ''})`)),
    );
    return () => ws.terminate();
  });
}

/**
 * `loggregator logs APP [--recent]`. With --recent: the app's recent lines, then exit. Without:
 * a live tail that reconnects (with the recent lines, skipping those already printed) when the
 * connection drops, and exits 1 when the router cannot be reached at all.
 */
export async function logs(opts: LogsOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t + '\n'));
  const err = opts.err ?? ((t: string) => process.stderr.write(t + '\n'));
  if (opts.recent) return recentOnce(opts, out, err);

  let connectedOnce = false;
  // The frames printed last, to recognise them when a reconnect replays the recent lines.
  // Identity, not time: timestamps come from senders' clocks and need not increase.
  const printed = new Set<string>();
  const printedOrder: string[] = [];
  const remember = (frame: string) => {
    printed.add(frame);
    printedOrder.push(frame);
    if (printedOrder.length > REMEMBERED_FRAMES) printed.delete(printedOrder.shift() as string);
  };
  let skippingReplay = false;
  const maxReconnects = opts.maxReconnects ?? 10;
  const connection$ = new Observable<string>(subscriber => {
    const url = new URL('/tail', opts.target);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('app', opts.app);
    // After a drop, ask for the recent lines too, so lines sent while away are not lost.
    if (connectedOnce) {
      url.searchParams.set('recent', 'true');
      skippingReplay = true;
    }
    return frames(url, opts, () => {
      connectedOnce = true;
      opts.onConnected?.();
    }).subscribe(subscriber);
  }).pipe(
    retry({
      resetOnSuccess: true,
      delay: (e: Error, attempt) => {
        if (e instanceof Refused || !connectedOnce || attempt > maxReconnects) return throwError(() => e);
        err(`${e.message}; reconnecting (attempt ${attempt} of ${maxReconnects})`);
        return timer(Math.min(250 * 2 ** (attempt - 1), 10_000));
      },
    }),
    takeUntil(opts.signal ? fromEvent(opts.signal, 'abort') : NEVER),
  );

  try {
    for await (const frame of eachValueFrom(connection$)) {
      const decoded = decodeEnvelopeJson(frame);
      if (!decoded.ok) {
        err(`skipping a frame that is not an envelope: ${decoded.detail}`);
        continue;
      }
      if (skippingReplay) {
        if (printed.has(frame)) continue; // printed before the reconnect
        skippingReplay = false;
      }
      remember(frame);
      print(decoded.envelope, opts, out, frame);
    }
    return 0;
  } catch (e) {
    err((e as Error).message);
    return e instanceof Refused ? 2 : 1;
  }
}
