/** An app with recent lines, as GET /apps lists it: its id and when its line written last was sent. */
export interface AppActivity {
  readonly appId: string;
  /** The timestamp of the app's line written last: ns since the epoch, a decimal string. */
  readonly timestamp: string;
}

/** A GET /apps answer: apps, the most recently active first; `more` when some were left out. */
export interface AppsList {
  readonly apps: AppActivity[];
  readonly more: boolean;
}

/** Decimal timestamps compared as numbers: by length, then text (no BigInt per comparison). */
function newerFirst(a: AppActivity, b: AppActivity): number {
  return b.timestamp.length - a.timestamp.length || (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0);
}

/**
 * Several lists (a router's workers, or the routers of a cluster) → one: an app listed by more
 * than one (its lines moved between routers) once, with its newest timestamp; the most recently
 * active first; at most `limit`, with `more` set when any list had more or apps were cut.
 * Apps with equal timestamps keep the order they were given in (the sort is stable).
 */
export function mergeApps(lists: readonly AppsList[], limit: number): AppsList {
  const newest = new Map<string, AppActivity>();
  for (const list of lists) {
    for (const app of list.apps) {
      const known = newest.get(app.appId);
      if (known === undefined || newerFirst(app, known) < 0) newest.set(app.appId, app);
    }
  }
  const apps = [...newest.values()].sort(newerFirst);
  const more = lists.some(l => l.more) || apps.length > limit;
  return { apps: apps.slice(0, Math.max(0, limit)), more };
}
