// What can go wrong when `logs` asks the target (traffic controller or router), sorted by what
// to do about it: give up (Refused), wait and ask again (Unavailable), or reconnect (Unreachable).
import { retryAfterMs } from '../http/retryAfter';

export interface TargetContext {
  /** The app asked for; none: the firehose. */
  readonly app?: string;
  readonly target: URL;
  readonly token?: string;
}

/** The target said no (a 4xx other than 429, or a 5xx other than 502/503/504): asking again will not help. */
export class Refused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The target is there but cannot serve now: 503 (its auth callout is down, it is at its client
 * limit, or it is starting or stopping), 429, or 502/504 from a proxy in front of it. Asking again
 * later will.
 */
export class Unavailable extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** What Retry-After asked for, in ms (0: it did not say). */
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * Answers that say "not now": 503 and 429 from the traffic controller, 502 and 504 from a proxy
 * or load balancer in front of it while it restarts.
 */
const TRANSIENT = new Set([429, 502, 503, 504]);

/** The connection could not be made or was lost. */
export class Unreachable extends Error {}

export function describeError(err: unknown, target: URL): string {
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

/** A non-200 answer as the error to act on, in words, with what to do about the usual ones. */
export function failureFromAnswer(status: number, retryAfter: string | string[] | null | undefined, body: string, ctx: TargetContext): Refused | Unavailable {
  const reason = errorText(body);
  if (TRANSIENT.has(status)) {
    return new Unavailable(`loggregator at ${ctx.target.origin} is unavailable (${status} ${reason})`, status, retryAfterMs(retryAfter));
  }
  if (status === 401) {
    const how = ctx.token === undefined ? 'no token was sent: give --token TOKEN or set LOGGREGATOR_TOKEN' : 'check the token given with --token or LOGGREGATOR_TOKEN';
    return new Refused(`not authenticated (401 ${reason}): ${how}`, status);
  }
  if (status === 403) return new Refused(`not allowed to read ${ctx.app === undefined ? 'the firehose' : `app ${ctx.app}`} (403 ${reason})`, status);
  return new Refused(`refused: ${status} ${reason}`, status);
}
