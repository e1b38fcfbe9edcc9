import Denque from 'denque';
import { Observable } from 'rxjs';
import { LogLine } from './logLine';

export interface SpliceOptions {
  /** Live lines held while the recent ones are still coming; past it the oldest are dropped. */
  readonly maxHeld: number;
  readonly onDrop?: (dropped: number) => void;
  /**
   * How a held live line is found in the recent answer. By default by `seq` (one router numbers
   * both); across routers, whose numbers mean nothing to each other, by `identity` (the line's
   * JSON: the same envelope from the same router is the same line).
   */
  readonly seam?: 'seq' | 'identity';
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
    // Only with seam 'identity': the recent answer's lines, bounded by that answer's length.
    const recentIdentities = opts.seam === 'identity' ? new Set<string>() : undefined;

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
        recentIdentities?.add(line.json);
        subscriber.next(line);
      },
      error: err => subscriber.error(err),
      complete: () => {
        while (held.length > 0) {
          const line = held.shift() as LogLine;
          const inRecent = recentIdentities ? recentIdentities.has(line.json) : line.seq <= newestRecentSeq;
          if (!inRecent) subscriber.next(line);
        }
        recentIdentities?.clear();
        recentDone = true;
        if (liveDone) subscriber.complete();
      },
    });

    return () => {
      liveSubscription.unsubscribe();
      recentSubscription.unsubscribe();
      held.clear();
      recentIdentities?.clear();
    };
  });
}
