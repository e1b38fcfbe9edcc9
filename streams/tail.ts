import { Observable, SchedulerLike, asyncScheduler } from 'rxjs';
import { boundedQueue } from './boundedQueue';
import { LogLine } from './logLine';
import { routerNotice } from './routerNotice';
import { spliceRecent } from './spliceRecent';

export interface TailOptions {
  readonly appId: string;
  /** Lines queued for a client that is not reading; past it the oldest are dropped. */
  readonly maxQueued: number;
  /** Told of every line dropped for this client, to count it. */
  readonly onDrop?: (dropped: number) => void;
  readonly scheduler?: SchedulerLike;
}

/**
 * What one tail client receives: (the app's recent lines, then) its live lines, through a
 * bounded queue paced by the client's own credit. A client that stops reading loses its oldest
 * queued lines and is told how many, and since when, as soon as it reads again.
 */
export function tail(
  live$: Observable<LogLine>,
  recent$: Observable<LogLine> | undefined,
  credit$: Observable<number>,
  opts: TailOptions,
): Observable<LogLine> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const lines$ = recent$ ? spliceRecent(recent$, live$, { maxHeld: opts.maxQueued, onDrop: opts.onDrop }) : live$;
  return boundedQueue(lines$, credit$, {
    maxQueued: opts.maxQueued,
    onDrop: opts.onDrop,
    scheduler,
    notice: (dropped, sinceMs) =>
      routerNotice(
        opts.appId,
        `dropped ${dropped} messages since ${new Date(sinceMs).toISOString()}: consumer too slow`,
        scheduler.now(),
      ),
  });
}
