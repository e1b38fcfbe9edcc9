import { BehaviorSubject, EMPTY, Observable, concat, filter, firstValueFrom, map, of, take, timeout } from 'rxjs';
import { LogLine } from '../../streams/logLine';
import { RouterInfo } from '../../streams/routerInfo';

/**
 * The router set as the traffic controller's API sees it: undefined until discovery gives the
 * first one (the TC just started, etcd not answering yet), then the latest. "No set yet" is not
 * "no routers": asked then, /recent would read as an app without lines.
 * Hot: a BehaviorSubject, so a late waiter sees the latest state at once.
 */
export class KnownRouters {
  private readonly set$ = new BehaviorSubject<readonly RouterInfo[] | undefined>(undefined);

  get current(): readonly RouterInfo[] | undefined {
    return this.set$.value;
  }

  update(routers: readonly RouterInfo[]): void {
    this.set$.next(routers);
  }

  /** Resolves true once a set is known (at once if it is), false if none came within timeoutMs. */
  whenKnown(timeoutMs: number): Promise<boolean> {
    return firstValueFrom(
      this.set$.pipe(
        filter(set => set !== undefined),
        map(() => true),
        timeout({ first: timeoutMs, with: () => of(false) }),
      ),
    );
  }

  /**
   * What a tail client that opens before the first set is told, in-band: that it waits for the
   * set, and when the wait is over. Nothing when the set is known already. Completes after the
   * second line (or never, while no set comes: the client's live stream is waiting too).
   */
  waitNotices(notice: (message: string) => LogLine): Observable<LogLine> {
    if (this.current !== undefined) return EMPTY;
    return concat(
      of(notice('the router set is not known yet (router discovery has not answered); lines of this app are shown once it is')),
      this.set$.pipe(
        filter((set): set is readonly RouterInfo[] => set !== undefined),
        take(1),
        map(set => notice(`the router set is known now (${set.length} router${set.length === 1 ? '' : 's'})`)),
      ),
    );
  }
}
