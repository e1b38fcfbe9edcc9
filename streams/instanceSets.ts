import { Observable, SchedulerLike, asyncScheduler, catchError, debounce, defer, map, merge, of, switchMap, tap, timer } from 'rxjs';
import { InstancesRead } from './instance';

/** What the watcher saw happen to instances.json. */
export type FileEvent = 'changed' | 'deleted';

export interface InstanceSetsOptions {
  /** Quiet time after the last event before the file is read: a burst of writes is read once. */
  readonly settleMs: number;
  /** Longest a read may be put off by events that keep coming (default 10 × settleMs). */
  readonly maxWaitMs?: number;
  readonly scheduler?: SchedulerLike;
}

const NO_INSTANCES: InstancesRead = { ok: true, instances: [] };

/**
 * instances.json events → what the file says now. A deleted file (or one gone by the time it is
 * read) is the empty set: every reader stops. An unreadable or invalid file is passed on as
 * such, for the owner to count; it is not a set, so it changes nothing.
 * A read still running when a newer event settles is cancelled (switchMap): the newest wins.
 *
 * `read` yields the file's text, or null when the file does not exist.
 */
export function instanceSets(
  event$: Observable<FileEvent>,
  read: () => Observable<string | null>,
  parse: (text: string) => InstancesRead,
  opts: InstanceSetsOptions,
): Observable<InstancesRead> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const maxWaitMs = opts.maxWaitMs ?? opts.settleMs * 10;
  // Debounce, but a file rewritten without pause (every 100 ms, say) is still read every
  // maxWaitMs, rather than never while it keeps changing.
  const settled$ = defer(() => {
    let burstStartedAt: number | undefined;
    return event$.pipe(
      debounce(() => {
        burstStartedAt ??= scheduler.now();
        const left = Math.max(0, burstStartedAt + maxWaitMs - scheduler.now());
        return merge(timer(opts.settleMs, scheduler), timer(left, scheduler));
      }),
      tap(() => (burstStartedAt = undefined)),
    );
  });
  return settled$.pipe(
    switchMap(event =>
      event === 'deleted'
        ? of(NO_INSTANCES)
        : read().pipe(
            map(text => (text === null ? NO_INSTANCES : parse(text))),
            catchError((err: Error) => of<InstancesRead>({ ok: false, reason: 'unreadable', detail: err.message })),
          ),
    ),
  );
}
