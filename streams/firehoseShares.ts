import { Observable } from 'rxjs';
import { LogLine } from './logLine';
import { rendezvousPick } from './rendezvousHash';

/** A line for one consumer of a subscription, or for all of them (`to` undefined). */
export interface FirehoseShare {
  readonly to: string | undefined;
  readonly line: LogLine;
}

export interface FirehoseSharesOptions {
  /** Lines every consumer must hear (notices about the routers behind the stream), not one of them. */
  readonly forEveryone: (line: LogLine) => boolean;
  /** Apps whose consumer is remembered; past it the memory starts again (the pick is only a hash away). */
  readonly maxRemembered?: number;
}

const MAX_REMEMBERED = 65_536;

/**
 * One firehose subscription's lines split among its consumers: each app's lines go to the
 * consumer its id hashes to (rendezvous hashing over the consumers' ids), so an app stays in
 * order at one consumer, and a consumer that joins or leaves moves only its share of the apps.
 * Lines arriving while the subscription has no consumer go nowhere. Hot like `lines$`; completes
 * or fails with it.
 */
export function firehoseShares(
  lines$: Observable<LogLine>,
  consumers$: Observable<readonly string[]>,
  opts: FirehoseSharesOptions,
): Observable<FirehoseShare> {
  return new Observable<FirehoseShare>(subscriber => {
    let consumers: readonly string[] = [];
    const picked = new Map<string, string>();
    const maxRemembered = opts.maxRemembered ?? MAX_REMEMBERED;
    const membership = consumers$.subscribe({
      next: ids => {
        consumers = ids;
        picked.clear();
      },
      error: err => subscriber.error(err),
    });
    const lines = lines$.subscribe({
      next: line => {
        if (consumers.length === 0) return;
        if (opts.forEveryone(line)) return subscriber.next({ to: undefined, line });
        let to = picked.get(line.appId);
        if (to === undefined) {
          to = rendezvousPick(line.appId, consumers, id => id) as string;
          if (picked.size >= maxRemembered) picked.clear();
          picked.set(line.appId, to);
        }
        subscriber.next({ to, line });
      },
      error: err => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    return () => {
      membership.unsubscribe();
      lines.unsubscribe();
    };
  });
}
