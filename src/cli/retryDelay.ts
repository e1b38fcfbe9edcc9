// How long `logs` waits before asking again: its own capped backoff, or longer when the target
// said so with Retry-After, but never longer than a cap (a misconfigured or hostile Retry-After
// must not park a CLI for hours).
import { backoffDelay } from '../../streams/backoff';

/**
 * The reconnect backoff: 250 ms doubling to 10 s, each wait up to half shorter at random: a
 * restarted traffic controller drops every `logs` at once, and in step they would all ask for
 * their recent lines in the same instant.
 */
export const RECONNECT_BACKOFF = { initialMs: 250, maxMs: 10_000, jitter: 0.5 } as const;

/** The longest Retry-After that is honoured; a longer one is waited for this long. */
export const RETRY_AFTER_CAP_MS = 30_000;

/** The wait before attempt `attempt` + 1: the backoff, or Retry-After if longer, within the cap. */
export function retryDelayMs(attempt: number, retryAfter: number, random: () => number = Math.random): number {
  return Math.max(backoffDelay(attempt, { ...RECONNECT_BACKOFF, random }), Math.min(retryAfter, RETRY_AFTER_CAP_MS));
}
