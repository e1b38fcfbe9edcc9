import Denque from 'denque';
import { Observable } from 'rxjs';
import { LogLine } from './logLine';

export interface SpliceOptions {
  /** Live lines held while the recent ones are still coming; past it the oldest are dropped. */
  readonly maxHeld: number;
  readonly onDrop?: (dropped: number) => void;
}

/**
 * Recent lines first, then live ones, with no gap and no duplicate at the seam.
 * Live is subscribed *before* recent is asked for, so nothing that arrives meanwhile is missed;
 * live lines held meanwhile that the recent answer already contains (seq at or below its
 * newest) are skipped. Lines after the seam pass as they are.
 * Recent may be synchronous (a router's own buffer) or arrive later (over the network).
 */
export function spliceRecent(
  recent$: Observable<LogLine>,
  live$: Observable<LogLine>,
  opts: SpliceOptions,
): Observable<LogLine> {
  return new Observable<LogLine>(subscriber => {
    const held = new Denque<LogLine>();
    let recentDone = false;
    let liveDone = false;
    let newestRecentSeq = -Infinity;

    const liveSubscription = live$.subscribe({
      next: line => {
        if (recentDone) {
          subscriber.next(line);
        } else {
          if (held.length >= opts.maxHeld) {
            held.shift();
            opts.onDrop?.(1);
          }
          held.push(line);
        }
      },
      error: err => subscriber.error(err),
      complete: () => {
        liveDone = true;
        if (recentDone) subscriber.complete();
      },
    });
    const recentSubscription = recent$.subscribe({
      next: line => {
        if (line.seq > newestRecentSeq) newestRecentSeq = line.seq;
        subscriber.next(line);
      },
      error: err => subscriber.error(err),
      complete: () => {
        while (held.length > 0) {
          const line = held.shift() as LogLine;
          if (line.seq > newestRecentSeq) subscriber.next(line);
        }
        recentDone = true;
        if (liveDone) subscriber.complete();
      },
    });

    return () => {
      liveSubscription.unsubscribe();
      recentSubscription.unsubscribe();
      held.clear();
    };
  });
}
