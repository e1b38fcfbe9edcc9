// `loggregator logs APP --recent`: one GET /recent, asked again a few times while the target is
// unavailable (503/429), so that a traffic controller restarting or briefly at its limit does
// not fail a script, while a target that stays unavailable fails it soon and clearly.
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeEnvelopeJson } from '../envelope/codec';
import { formatLine } from './lineFormat';
import { retryDelayMs } from './retryDelay';
import { Refused, TargetContext, Unavailable, describeError, failureFromAnswer } from './targetFailures';

/** Times a 503/429 is asked again, after the first request. */
export const RECENT_RETRIES = 3;
/** The most time `--recent` spends before giving up on an unavailable target (requests and waits). */
export const RECENT_RETRY_BUDGET_MS = 10_000;

export interface RecentOptions extends TargetContext {
  readonly app: string;
  readonly json: boolean;
  readonly colour: boolean;
}

/** Prints the app's recent lines; resolves with the exit code (0, 1 unreachable/unavailable, 2 refused). */
export async function recentLines(opts: RecentOptions, out: (t: string) => void, err: (t: string) => void): Promise<number> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const answer = await fetchRecent(opts, RECENT_RETRY_BUDGET_MS - (Date.now() - started));
    if ('body' in answer) {
      // Some routers did not answer (the traffic controller names them): their lines are missing.
      if (answer.skipped !== null) err(`lines of some routers are missing (they did not answer): ${answer.skipped}`);
      return printLines(answer.body, opts, out, err);
    }
    if (answer instanceof Refused) {
      err(answer.message);
      return answer.status >= 400 && answer.status < 500 ? 2 : 1;
    }
    if (!(answer instanceof Unavailable)) {
      err(answer.message);
      return 1;
    }
    const waitMs = retryDelayMs(attempt, answer.retryAfterMs);
    // Waiting past the budget (a long Retry-After, or slow answers) would only fail later.
    const left = RECENT_RETRY_BUDGET_MS - (Date.now() - started);
    const outOfTime = waitMs > left;
    if (attempt > RECENT_RETRIES || outOfTime) {
      const why =
        answer.retryAfterMs > left
          ? `it asks to retry after ${Math.ceil(answer.retryAfterMs / 1000)} s, more than --recent has left of its ${RECENT_RETRY_BUDGET_MS / 1000} s`
          : `gave up after ${attempt} attempts in ${((Date.now() - started) / 1000).toFixed(1)} s`;
      err(`${answer.message}; ${why}: try again later`);
      return 1;
    }
    if (attempt === 1) err(`${answer.message}; retrying (at most ${RECENT_RETRIES} times)`);
    await sleep(waitMs);
  }
}

/** The body of a 200 (and the routers it says were skipped), or what went wrong. */
async function fetchRecent(opts: RecentOptions, timeoutMs: number): Promise<{ body: string; skipped: string | null } | Refused | Unavailable | Error> {
  const url = new URL('/recent', opts.target);
  url.searchParams.set('app', opts.app);
  try {
    // Bounded by what is left of the budget, which covers the requests as well as the waits.
    const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
    const res = await fetch(url, { headers: opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` }, signal });
    const body = await res.text();
    if (res.status === 200) return { body, skipped: res.headers.get('x-skipped-routers') };
    return failureFromAnswer(res.status, res.headers.get('retry-after'), body, opts);
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') return new Error(`loggregator at ${opts.target.origin} did not answer within ${RECENT_RETRY_BUDGET_MS / 1000} s`);
    return new Error(describeError(e, opts.target));
  }
}

function printLines(body: string, opts: RecentOptions, out: (t: string) => void, err: (t: string) => void): number {
  for (const text of body.split('\n')) {
    if (text === '') continue;
    const decoded = decodeEnvelopeJson(text);
    if (decoded.ok) out(opts.json ? text : formatLine(decoded.envelope, opts.colour));
    else err(`skipping a line the router sent that is not an envelope: ${decoded.detail}`);
  }
  return 0;
}
