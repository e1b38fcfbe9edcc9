import Denque from 'denque';
import { Observable, SchedulerLike, asyncScheduler } from 'rxjs';

export interface BoundedQueueOptions<T> {
  /** Items held for a consumer that has no credit; past it the oldest are dropped. */
  readonly maxQueued: number;
  /** With `sizeOf`: the size held at most; past it the oldest are dropped (the newest is kept). */
  readonly maxQueuedSize?: number;
  readonly sizeOf?: (item: T) => number;
  /** The in-band item that tells the consumer how many were dropped, and since when (ms). */
  readonly notice: (dropped: number, sinceMs: number) => T;
  /** Told of every dropped item, to count it. */
  readonly onDrop?: (dropped: number) => void;
  readonly scheduler?: SchedulerLike;
}

/**
 * A pull-based buffer between a fast producer and one consumer of unknown speed.
 * `credit$` says how many more items the consumer can take now (a websocket grants credit while
 * its socket has room). Items wait in a bounded queue; on overflow the oldest are dropped and
 * counted (also when the queue's size, by `sizeOf`, passes `maxQueuedSize`), and the next item
 * the consumer receives is a notice of the gap — placed exactly where
 * the lost items were. The producer is never slowed.
 *
 * Credit may be granted from inside `next` (synchronously); that is handled as a loop, not
 * recursion. Completes once the source has completed and everything queued was delivered.
 */
export function boundedQueue<T>(
  source$: Observable<T>,
  credit$: Observable<number>,
  opts: BoundedQueueOptions<T>,
): Observable<T> {
  return new Observable<T>(subscriber => {
    const scheduler = opts.scheduler ?? asyncScheduler;
    const queue = new Denque<T>();
    let credits = 0;
    let dropped = 0;
    let droppedSinceMs = 0;
    let draining = false;
    let sourceDone = false;
    const sizeOf = opts.sizeOf ?? (() => 0);
    const maxQueuedSize = opts.maxQueuedSize ?? Infinity;
    let queuedSize = 0;

    const drain = (): void => {
      if (draining) return; // a credit granted from inside next(): the running loop picks it up
      draining = true;
      try {
        while (credits > 0 && !subscriber.closed) {
          if (dropped > 0) {
            const n = dropped;
            dropped = 0;
            credits--;
            subscriber.next(opts.notice(n, droppedSinceMs));
          } else if (queue.length > 0) {
            credits--;
            const item = queue.shift() as T;
            queuedSize -= sizeOf(item);
            subscriber.next(item);
          } else {
            break;
          }
        }
        if (sourceDone && queue.length === 0 && dropped === 0) subscriber.complete();
      } finally {
        draining = false;
      }
    };

    const creditSubscription = credit$.subscribe({
      next: n => {
        credits += n;
        drain();
      },
      error: err => subscriber.error(err),
    });
    const sourceSubscription = source$.subscribe({
      next: item => {
        const itemSize = sizeOf(item);
        queue.push(item);
        queuedSize += itemSize;
        let shed = 0;
        while (queue.length > opts.maxQueued || (queuedSize > maxQueuedSize && queue.length > 1)) {
          queuedSize -= sizeOf(queue.shift() as T);
          shed++;
        }
        if (shed > 0) {
          if (dropped === 0) droppedSinceMs = scheduler.now();
          dropped += shed;
          opts.onDrop?.(shed);
        }
        drain();
      },
      error: err => subscriber.error(err),
      complete: () => {
        sourceDone = true;
        drain();
      },
    });

    return () => {
      creditSubscription.unsubscribe();
      sourceSubscription.unsubscribe();
      queue.clear();
    };
  });
}
