import { Observable, SchedulerLike, asyncScheduler } from 'rxjs';
import { boundedQueue } from './boundedQueue';
import { LogLine } from './logLine';
import { routerNotice } from './routerNotice';
import { spliceRecent } from './spliceRecent';

/** What a queued line costs beyond its message, roughly: its JSON's field names and values. */
const QUEUED_LINE_OVERHEAD = 128;

export interface TailOptions {
  readonly appId: string;
  /** Lines queued for a client that is not reading; past it the oldest are dropped. */
  readonly maxQueued: number;
  /** Approximate bytes queued (message characters + 128 per line); past it the oldest are dropped. */
  readonly maxQueuedBytes?: number;
  /** Told of every line dropped for this client, to count it. */
  readonly onDrop?: (dropped: number) => void;
  /** How recent and live lines are told apart at the seam (see spliceRecent); 'seq' by default. */
  readonly seam?: 'seq' | 'identity';
  /** Who the in-band drop notice is from (sourceInstance of its LGR line). */
  readonly noticeSource?: string;
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
  const lines$ = recent$ ? spliceRecent(recent$, live$, { maxHeld: opts.maxQueued, onDrop: opts.onDrop, seam: opts.seam }) : live$;
  return boundedQueue(lines$, credit$, {
    maxQueued: opts.maxQueued,
    maxQueuedSize: opts.maxQueuedBytes,
    sizeOf: line => line.envelope.message.length + QUEUED_LINE_OVERHEAD,
    onDrop: opts.onDrop,
    scheduler,
    notice: (dropped, sinceMs) =>
      routerNotice(
        opts.appId,
        `dropped ${dropped} messages since ${new Date(sinceMs).toISOString()}: consumer too slow`,
        scheduler.now(),
        opts.noticeSource,
      ),
  });
}
