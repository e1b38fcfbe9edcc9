import { Observable, SchedulerLike, Subject, asyncScheduler, defer, filter, map, merge, takeUntil, tap } from 'rxjs';
import { BackoffOptions, reconnectWithBackoff } from './backoff';
import { RouterInfo, routerKey } from './routerInfo';
import { runKeyed } from './runKeyed';

/** A connection that came up without an outage before it: nothing to tell. */
const NOTHING: unique symbol = Symbol('nothing');

/** What one router's stream says: the connection is up, or a line came. */
export type Feed<T> = { readonly kind: 'connected' } | { readonly kind: 'line'; readonly line: T };

/** Something the subscriber is told in-band about the routers behind its stream. */
export type RouterChange =
  | { readonly kind: 'joined'; readonly router: RouterInfo }
  | { readonly kind: 'left'; readonly router: RouterInfo }
  | { readonly kind: 'lost'; readonly router: RouterInfo; readonly reason: string }
  | { readonly kind: 'resumed'; readonly router: RouterInfo }
  /** A router joined the set but its stream could not be opened (yet): its lines are missing. */
  | { readonly kind: 'unreachable'; readonly router: RouterInfo; readonly reason: string };

export interface RouterFeedsOptions<T> {
  /** Reconnecting to one router after its stream broke (jitter recommended: clients retry together). */
  readonly backoff: BackoffOptions;
  /** The in-band line telling the subscriber of a change. */
  readonly notice: (change: RouterChange) => T;
  /** Told of every failed connection or broken stream, to count it. */
  readonly onError?: (router: RouterInfo, error: unknown) => void;
  readonly scheduler?: SchedulerLike;
}

/**
 * One subscriber's lines from every live router, merged: a stream per router in the current set,
 * each isolated (its failure is retried with backoff for as long as the router is in the set and
 * never reaches the others or the subscriber). A router that joins is subscribed to; one that
 * leaves is dropped; a stream that breaks is reconnected. The subscriber is told each of these
 * in-band, once per event: joined (once its stream is open; not for the first set), left, lost
 * (once per outage, not per failed attempt), resumed. Completes only when `routers$` does.
 */
export function routerFeeds<T>(
  routers$: Observable<readonly RouterInfo[]>,
  open: (router: RouterInfo) => Observable<Feed<T>>,
  opts: RouterFeedsOptions<T>,
): Observable<T> {
  const scheduler = opts.scheduler ?? asyncScheduler;
  return defer(() => {
    let sets = 0;
    const keyed$ = routers$.pipe(
      map(routers => {
        sets++;
        return routers.map(router => ({ key: routerKey(router), router, first: sets === 1 }));
      }),
    );
    return runKeyed(keyed$, ({ router, first }, stop$) => {
      // Whether this router's stream is down now: "lost" is said once an outage, then "resumed".
      let down = false;
      // A router that joined after the first set is announced once its stream is open: until
      // then its lines are not in this stream, and "included from now on" would not be true.
      let joining = !first;
      // Whether the subscriber has heard of this router (the first set, or a notice since).
      let announced = first;
      const lost$ = new Subject<T>();
      const lines$ = defer(() => open(router)).pipe(
        tap({
          error: error => opts.onError?.(router, error),
          complete: () => opts.onError?.(router, undefined),
        }),
        // Notices are values of the router's own stream, so they are ordered with its lines.
        // (A plain map and filter, not concatMap: that would subscribe once per line.)
        map(feed => {
          if (feed.kind === 'line') return feed.line;
          if (joining) {
            joining = down = false;
            announced = true;
            return opts.notice({ kind: 'joined', router });
          }
          if (!down) return NOTHING;
          down = false;
          return opts.notice({ kind: 'resumed', router });
        }),
        filter((value): value is T => value !== NOTHING),
        reconnectWithBackoff<T>(stop$, {
          ...opts.backoff,
          scheduler,
          onRetry: error => {
            // Not yet announced: the subscriber has nothing to lose from this router yet.
            if (down) return;
            down = true;
            announced = true;
            if (joining) {
              // Its apps' lines go to it from now on: the subscriber must hear they are missing.
              lost$.next(opts.notice({ kind: 'unreachable', router, reason: describe(error) }));
              return;
            }
            lost$.next(opts.notice({ kind: 'lost', router, reason: describe(error) }));
          },
        }),
        takeUntil(stop$),
      );
      // "left" only for a router the subscriber was told about.
      const left$ = stop$.pipe(
        filter(() => announced),
        map(() => opts.notice({ kind: 'left', router })),
      );
      // lost$ first: a failure while lines$ is being subscribed is announced.
      return merge(lost$.pipe(takeUntil(stop$)), lines$, left$);
    });
  });
}

function describe(error: unknown): string {
  if (error === undefined) return 'stream ended';
  return String((error as Error)?.message ?? error).slice(0, 200);
}
