import { Observable, SchedulerLike, asyncScheduler, defer, ignoreElements, interval, map, merge, tap } from 'rxjs';

export class PeerUnresponsiveError extends Error {
  constructor(readonly intervalMs: number) {
    super(`peer did not answer a ping within ${intervalMs} ms`);
    this.name = 'PeerUnresponsiveError';
  }
}

/**
 * When to ping a peer: every `intervalMs`. A ping not answered (no pong) by the next tick errors
 * with PeerUnresponsiveError, so the owner can drop a peer that is gone without a FIN.
 */
export function keepalive(
  pong$: Observable<unknown>,
  opts: { readonly intervalMs: number; readonly scheduler?: SchedulerLike },
): Observable<'ping'> {
  return defer(() => {
    let answered = true;
    return merge(
      pong$.pipe(
        tap(() => (answered = true)),
        ignoreElements(),
      ),
      interval(opts.intervalMs, opts.scheduler ?? asyncScheduler).pipe(
        map(() => {
          if (!answered) throw new PeerUnresponsiveError(opts.intervalMs);
          answered = false;
          return 'ping' as const;
        }),
      ),
    );
  });
}
