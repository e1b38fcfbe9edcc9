import { Observable, SchedulerLike, asyncScheduler, catchError, debounceTime, map, of, switchMap } from 'rxjs';
import { InstancesRead } from './instance';

/** What the watcher saw happen to instances.json. */
export type FileEvent = 'changed' | 'deleted';

export interface InstanceSetsOptions {
  /** Quiet time after the last event before the file is read: a burst of writes is read once. */
  readonly settleMs: number;
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
  return event$.pipe(
    debounceTime(opts.settleMs, opts.scheduler ?? asyncScheduler),
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
