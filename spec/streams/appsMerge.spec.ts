// mergeApps(lists, limit): several app lists (a router's workers, a cluster's routers) → one, the
// most recently active first:
//
//   r1  a@30 b@10        ┐
//   r2  c@20 a@5         ├──▶ limit 10: a@30 c@20 b@10 d@1      limit 2: a@30 c@20, more
//   r3  d@1  (more)      ┘                                      (r3 said it had more: more)
//
// An app on two lists (its lines moved between routers) is listed once, with its newest time.
import { AppActivity, AppsList, mergeApps } from '../../streams/appsMerge';

const app = (appId: string, timestamp: string): AppActivity => ({ appId, timestamp });
const list = (apps: AppActivity[], more = false): AppsList => ({ apps, more });
const ids = (merged: AppsList): string[] => merged.apps.map(a => `${a.appId}@${a.timestamp}`);

describe('mergeApps', () => {
  it('lists the apps of every list once, the most recently active first, with their newest time', () => {
    const merged = mergeApps([list([app('a', '30'), app('b', '10')]), list([app('c', '20'), app('a', '5')]), list([app('d', '1')])], 10);
    expect(ids(merged)).toEqual(['a@30', 'c@20', 'b@10', 'd@1']);
    expect(merged.more).toBe(false);
  });

  it('compares timestamps as numbers, not as text', () => {
    expect(ids(mergeApps([list([app('short', '999'), app('long', '1000')])], 10))).toEqual(['long@1000', 'short@999']);
  });

  it('keeps at most limit apps and says there were more', () => {
    const merged = mergeApps([list([app('a', '3'), app('b', '2'), app('c', '1')])], 2);
    expect(ids(merged)).toEqual(['a@3', 'b@2']);
    expect(merged.more).toBe(true);
    expect(mergeApps([list([app('a', '3')])], 0)).toEqual({ apps: [], more: true });
  });

  it('says there are more when any list had more, even if all of it fits', () => {
    expect(mergeApps([list([app('a', '1')]), list([], true)], 10)).toEqual({ apps: [app('a', '1')], more: true });
  });

  it('keeps the given order for equal timestamps', () => {
    expect(ids(mergeApps([list([app('x', '5'), app('y', '5')]), list([app('w', '5')])], 10))).toEqual(['x@5', 'y@5', 'w@5']);
  });
});
