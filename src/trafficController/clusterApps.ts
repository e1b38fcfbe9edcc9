import { Counter, Registry } from 'prom-client';
import { AppsList, mergeApps } from '../../streams/appsMerge';
import { RouterInfo } from '../../streams/routerInfo';
import { RouterAppsError, RouterAppsFailure, routerApps } from './routerApps';

/** Apps asked of each router, and kept after the merge: the candidates a token is checked against. */
export const CLUSTER_APPS_LISTED = 1000;

/** How long one merge is reused: the routers are asked at most once in this long, however many ask. */
const REUSE_MS = 1000;

/** Every router's apps, merged, and the routers whose lists are missing from it (and why). */
export interface MergedApps {
  readonly list: AppsList;
  readonly asked: number;
  readonly skipped: readonly { readonly router: RouterInfo; readonly reason: RouterAppsFailure }[];
}

/**
 * The apps with recent lines on every router of the set, the most recently active first: what
 * GET /apps chooses from. Shared by all callers: one merge is in flight at a time and reused for
 * a second, so callers (tokens not checked yet among them) cannot make the traffic controller ask
 * every router more often than that.
 */
export class ClusterApps {
  private last: { readonly at: number; readonly routers: readonly RouterInfo[]; readonly merged: Promise<MergedApps> } | undefined;
  private readonly failures: Counter<'reason'>;

  constructor(
    registry: Registry,
    private readonly opts: { readonly timeoutMs: number; readonly apiToken?: string; readonly now?: () => number },
  ) {
    this.failures = new Counter({
      name: 'loggregator_tc_apps_router_failures_total',
      help: 'Router app lists missing from a GET /apps merge, by reason (timeout, unreachable, refused, invalid_answer).',
      labelNames: ['reason'],
      registers: [registry],
    });
    (['timeout', 'unreachable', 'refused', 'invalid_answer'] as RouterAppsFailure[]).forEach(reason => this.failures.inc({ reason }, 0));
  }

  /** The merge for this router set: the last one if it is of this set and under a second old. */
  of(routers: readonly RouterInfo[]): Promise<MergedApps> {
    const now = (this.opts.now ?? Date.now)();
    if (this.last !== undefined && this.last.routers === routers && now - this.last.at < REUSE_MS) return this.last.merged;
    const merged = this.ask(routers);
    this.last = { at: now, routers, merged };
    return merged;
  }

  private async ask(routers: readonly RouterInfo[]): Promise<MergedApps> {
    const skipped: { router: RouterInfo; reason: RouterAppsFailure }[] = [];
    const lists = await Promise.all(
      routers.map(router =>
        routerApps(router, CLUSTER_APPS_LISTED, this.opts).catch((err: unknown) => {
          const reason = err instanceof RouterAppsError ? err.reason : 'unreachable';
          this.failures.inc({ reason });
          skipped.push({ router, reason });
          return { apps: [], more: false };
        }),
      ),
    );
    return { list: mergeApps(lists, CLUSTER_APPS_LISTED), asked: routers.length, skipped };
  }
}
