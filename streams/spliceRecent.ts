import Denque from 'denque';
import { Observable } from 'rxjs';
import { LogLine } from './logLine';

export interface SpliceOptions {
  /** Live lines held while the recent ones are still coming; past it the oldest are dropped. */
  readonly maxHeld: number;
  readonly onDrop?: (dropped: number) => void;
  /**
   * How a live line is found in the recent answer. By default by `seq` (one router numbers
   * both); across routers, whose numbers mean nothing to each other, by `identity` (the line's
   * JSON: the same envelope from the same router is the same line).
   */
  readonly seam?: 'seq' | 'identity';
}

/**
 * Recent lines first, then live ones, with no gap and no duplicate at the seam.
 * Live is subscribed *before* recent is asked for, so nothing that arrives meanwhile is missed;
 * live lines held meanwhile that the recent answer already contains are skipped. Lines after the
 * seam pass as they are.
 * Recent may be synchronous (a router's own buffer) or arrive later (over the network).
 *
 * With seam 'identity' the recent answer and the live streams travel on different connections,
 * so a line a router put in both may arrive live only after the answer is complete. Each
 * origin's (router's) recent lines are therefore remembered until its live stream shows a line
 * the answer does not hold: its live stream is in order, so every later line is newer. The
 * memory is that of the answer, which the caller has bounded already.
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
    // Only with seam 'identity': per origin, the recent answer's lines not yet seen live.
    const unseen = opts.seam === 'identity' ? new Map<string | undefined, Set<string>>() : undefined;

    /** Whether a live line is one the recent answer has shown already. */
    const inRecent = (line: LogLine, afterAnswer: boolean): boolean => {
      if (!unseen) return !afterAnswer && line.seq <= newestRecentSeq;
      const lines = unseen.get(line.origin);
      if (lines === undefined) return false;
      if (lines.delete(line.json)) return true;
      // Held lines may be older than the answer's window (a burst past its limit), so only a
      // line that came after the answer marks its origin past the seam.
      if (afterAnswer) unseen.delete(line.origin);
      return false;
    };

    const liveSubscription = live$.subscribe({
      next: line => {
        if (recentDone) {
          if (unseen === undefined || unseen.size === 0 || !inRecent(line, true)) subscriber.next(line);
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
        if (unseen) {
          let lines = unseen.get(line.origin);
          if (lines === undefined) unseen.set(line.origin, (lines = new Set()));
          lines.add(line.json);
        }
        subscriber.next(line);
      },
      error: err => subscriber.error(err),
      complete: () => {
        while (held.length > 0) {
          const line = held.shift() as LogLine;
          if (!inRecent(line, false)) subscriber.next(line);
        }
        // Lines of no router (notices made here) never come live.
        unseen?.delete(undefined);
        recentDone = true;
        if (liveDone) subscriber.complete();
      },
    });

    return () => {
      liveSubscription.unsubscribe();
      recentSubscription.unsubscribe();
      held.clear();
      unseen?.clear();
    };
  });
}
