import { Observable, SchedulerLike, Subscription, asyncScheduler } from 'rxjs';

/** Lines a consumer lost at one moment, and why (the last error the consumer saw, if any). */
export interface DropReport {
  readonly count: number;
  readonly reason: string;
}

/** What to tell the app: this many lost since then, for this (the latest) reason. */
export interface DropSummary {
  readonly count: number;
  readonly sinceMs: number;
  readonly reason: string;
}

/**
 * Drop reports → at most one summary per interval. The first drop opens a window; when it
 * closes, everything dropped in it is told as one summary (since the first drop, with the
 * latest reason). Telling the app through its own log stream is itself a line that a broken
 * drain may drop, so without this a dead drain would talk to itself as fast as lines come in.
 * On completion or error, what is pending is told at once (then the error is passed on).
 *
 *   drop$:   -a-b---------------c--|      interval 10
 *   result:  -----------s----------(t|)
 */
export function dropNotices(
  drop$: Observable<DropReport>,
  opts: { readonly intervalMs: number; readonly scheduler?: SchedulerLike },
): Observable<DropSummary> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  return new Observable<DropSummary>(subscriber => {
    let pending: { count: number; sinceMs: number; reason: string } | undefined;
    let window: Subscription | undefined;
    const tell = () => {
      window = undefined;
      if (pending === undefined) return;
      const summary = pending;
      pending = undefined;
      subscriber.next(summary);
    };
    const subscription = drop$.subscribe({
      next: ({ count, reason }) => {
        if (count <= 0) return;
        if (pending === undefined) pending = { count: 0, sinceMs: scheduler.now(), reason };
        pending.count += count;
        pending.reason = reason;
        window ??= scheduler.schedule(tell, opts.intervalMs);
      },
      error: err => {
        window?.unsubscribe();
        tell();
        subscriber.error(err);
      },
      complete: () => {
        window?.unsubscribe();
        tell();
        subscriber.complete();
      },
    });
    return () => {
      subscription.unsubscribe();
      window?.unsubscribe();
    };
  });
}
