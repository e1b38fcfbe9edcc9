// runKeyed: sets of keyed items (here instances) → one stream per item, diffed by identity
//
//   set$:     a---b---c---|        a = {x, y}   b = {x, z}   c = {}
//   x:        ^-----------!        unchanged across a→b: subscribed once, never interrupted
//   y:        ^---!                removed by b: told to stop
//   z:            ^---!            added by b, removed by c
import { Observable, takeUntil } from 'rxjs';
import { Instance } from '../../streams/instance';
import { runKeyed } from '../../streams/runKeyed';
import { newTestScheduler } from './fixtures';

function instance(appId: string, index = 0, jobDir = `/depot/${appId}/${index}`): Instance {
  return { key: `${appId}/${index}@${jobDir}`, appId, index, jobDir };
}

const x = instance('x');
const y = instance('y');
const z = instance('z');

describe('runKeyed', () => {
  it('keeps an unchanged instance running across changes and stops removed ones', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const set$ = hot('a-------b-------c---|', { a: [x, y], b: [x, z], c: [] });
      const streams = {
        x: cold('-1---1---1---1---1---1'),
        y: cold('--2---2---2---2'),
        z: cold('--3---3---3---3'),
      };
      const started: string[] = [];
      const out = runKeyed(set$, (inst, stop$) => {
        started.push(inst.appId);
        return streams[inst.appId as 'x' | 'y' | 'z'].pipe(takeUntil(stop$));
      });
      expectObservable(out).toBe('-12--12--13--13-----|');
      expectSubscriptions(streams.x.subscriptions).toBe('^---------------!');
      expectSubscriptions(streams.y.subscriptions).toBe('^-------!');
      expectSubscriptions(streams.z.subscriptions).toBe('--------^-------!');
      testScheduler.flush();
      expect(started).toEqual(['x', 'y', 'z']);
    });
  });

  it('stops every instance when the file is deleted (the empty set), and restarts them when it returns', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const set$ = hot('a---e---a---', { a: [x], e: [] });
      const xs = cold('-1-1-|');
      expectObservable(runKeyed(set$, (_i, stop$) => xs.pipe(takeUntil(stop$)))).toBe('-1-1-----1-1');
      expectSubscriptions(xs.subscriptions).toBe(['^---!', '--------^----!']);
    });
  });

  it('lets a stopped instance finish what it holds before completing', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      const set$ = hot('a--e--|', { a: [x], e: [] });
      // An instance that, told to stop, passes on a last partial line and then completes.
      const start = (_i: Instance, stop$: Observable<void>) =>
        new Observable<string>(subscriber => {
          subscriber.next('first');
          return stop$.subscribe(() => {
            subscriber.next('last partial');
            subscriber.complete();
          });
        });
      expectObservable(runKeyed(set$, start)).toBe('f--l--|', { f: 'first', l: 'last partial' });
    });
  });

  it('treats an instance whose job directory changed as a different instance', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const moved = instance('x', 0, '/depot/elsewhere');
      const set$ = hot('a---b---', { a: [x], b: [moved] });
      const old = cold('-o-o-o-o-o-o');
      const now = cold('-n-n-n');
      expectObservable(runKeyed(set$, (i, stop$) => (i.jobDir === x.jobDir ? old : now).pipe(takeUntil(stop$)))).toBe('-o-o-n-n-n');
      expectSubscriptions(old.subscriptions).toBe('^---!');
      expectSubscriptions(now.subscriptions).toBe('----^');
    });
  });

  it('ignores an instance listed twice in one set, and a set that changes nothing', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const set$ = hot('a---a---', { a: [x, x] });
      const xs = cold('-1-1-1');
      expectObservable(runKeyed(set$, (_i, stop$) => xs.pipe(takeUntil(stop$)))).toBe('-1-1-1');
      expectSubscriptions(xs.subscriptions).toBe('^');
    });
  });

  it('reports what changed', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot }) => {
      const set$ = hot('a--b--b--|', { a: [x, y], b: [x, z] });
      const changes: unknown[] = [];
      runKeyed(set$, (_i, stop$) => cold('-').pipe(takeUntil(stop$)), c => changes.push({ added: c.added.map(i => i.appId), removed: c.removed, running: c.running })).subscribe();
      testScheduler.flush();
      expect(changes).toEqual([
        { added: ['x', 'y'], removed: [], running: 2 },
        { added: ['z'], removed: [y.key], running: 2 },
        { added: [], removed: [x.key, z.key], running: 0 },
      ]);
    });
  });
});
