import { EMPTY, MonoTypeOperatorFunction, Observable, SchedulerLike, asyncScheduler, repeat, retry, takeUntil, timer } from 'rxjs';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 0..1: each delay is shortened by up to this fraction, at random, so peers do not retry in step. */
  readonly jitter?: number;
  readonly random?: () => number;
  readonly scheduler?: SchedulerLike;
}

/** The delay before attempt `attempt` (1-based): doubling from initialMs, capped at maxMs, jittered. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt - 1, 30));
  const jitter = opts.jitter ?? 0;
  return Math.round(base * (1 - jitter * (opts.random ?? Math.random)()));
}

/**
 * Keeps a connection-like stream going: when it errors or completes, it is subscribed again after
 * a capped exponential backoff; the attempt count resets once it delivers a value. Once `stop$`
 * has emitted it is not resubscribed (a wait in progress ends at once) and the result completes
 * when the source does.
 */
export function reconnectWithBackoff<T>(
  stop$: Observable<unknown>,
  opts: BackoffOptions & { readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void },
): MonoTypeOperatorFunction<T> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  return source$ =>
    new Observable<T>(subscriber => {
      let attempt = 0;
      let stopped = false;
      const stopping = stop$.subscribe(() => (stopped = true));
      const wait = (error: unknown): Observable<unknown> => {
        if (stopped) return EMPTY;
        attempt++;
        const delayMs = backoffDelay(attempt, opts);
        opts.onRetry?.(error, attempt, delayMs);
        return timer(delayMs, scheduler).pipe(takeUntil(stop$));
      };
      const connection = source$
        .pipe(
          retry({ delay: wait }),
          repeat({ delay: () => wait(undefined) }),
        )
        .subscribe({
          next: value => {
            attempt = 0;
            subscriber.next(value);
          },
          error: err => subscriber.error(err),
          complete: () => subscriber.complete(),
        });
      return () => {
        stopping.unsubscribe();
        connection.unsubscribe();
      };
    });
}
