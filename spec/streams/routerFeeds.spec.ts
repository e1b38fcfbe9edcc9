// routerFeeds(routers$, open, { backoff, notice })          one tail client's lines from every router
//
//   routers$  a---b-----c----      a = {r1, r2}   b = {r1, r2, r3}   c = {r1, r3}
//   r2        c-y----y----y        (c = connected; y, z = lines)
//   r3            c-z--z           (joins with b)
//   output    --y-j-zy-zl          j = "joined r3" (not said for the first set), l = "left r2"
//
// Every router's stream is its own: one that breaks is retried with backoff while the router is in
// the set, and the subscriber is told once per outage ("lost"), and again when it is back ("resumed").
import { Observable } from 'rxjs';
import { ColdObservable } from 'rxjs/internal/testing/ColdObservable';
import { TestScheduler } from 'rxjs/testing';
import { RouterInfo } from '../../streams/routerInfo';
import { Feed, RouterChange, routerFeeds } from '../../streams/routerFeeds';
import { newTestScheduler } from './fixtures';

const r = (id: string): RouterInfo => ({ id, udp: `127.0.0.1:${id.length}`, http: `127.0.0.1:1${id.length}` });
const R1 = r('r1');
const R2 = r('r2');
const R3 = r('r3');
const notice = (change: RouterChange) => `${change.kind}:${change.router.id}${change.kind === 'lost' ? `(${change.reason})` : ''}`;
const backoff = { initialMs: 3, maxMs: 12 };

/** Feed marbles: c = connected, any other letter = that line. */
function feed(cold: TestScheduler['createColdObservable'], marbles: string, error?: unknown): ColdObservable<Feed<string>> {
  const values: Record<string, Feed<string>> = { c: { kind: 'connected' } };
  for (const ch of marbles) if (/[a-z]/.test(ch) && ch !== 'c') values[ch] = { kind: 'line', line: ch };
  return cold(marbles, values, error);
}

describe('routerFeeds', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('merges the lines of every router in the set, telling nobody about the first set', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const routers$ = hot('a----', { a: [R1, R2] });
      const streams: Record<string, Observable<Feed<string>>> = { r1: feed(cold, 'c-x--x'), r2: feed(cold, 'c--y--y') };
      const out$ = routerFeeds(routers$, router => streams[router.id], { backoff, notice, scheduler: testScheduler });
      expectObservable(out$, '^------!').toBe('--xy-xy');
    });
  });

  it('subscribes to a router that joins and tells the subscriber; drops one that leaves and tells it', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const routers$ = hot('a---b-----c----', { a: [R1, R2], b: [R1, R2, R3], c: [R1, R3] });
      const s1 = feed(cold, 'c------------------');
      const s2 = feed(cold, 'c-y----y----y------');
      const s3 = feed(cold, 'c-z--z-------------');
      const streams: Record<string, Observable<Feed<string>>> = { r1: s1, r2: s2, r3: s3 };
      const out$ = routerFeeds(routers$, router => streams[router.id], { backoff, notice, scheduler: testScheduler });
      expectObservable(out$, '^-------------!').toBe('--y-j-zy-zl', { j: 'joined:r3', l: 'left:r2', y: 'y', z: 'z' });
      expectSubscriptions(s2.subscriptions).toBe('^---------!');
      expectSubscriptions(s3.subscriptions).toBe('----^---------!');
      expectSubscriptions(s1.subscriptions).toBe('^-------------!');
    });
  });

  it('says "joined" once the new router\'s stream is open, not when it enters the set; "unreachable" for one that does not open', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const routers$ = hot('a-b-------c', { a: [R1], b: [R1, R2, R3], c: [R1] });
      const streams: Record<string, Observable<Feed<string>>> = {
        r1: feed(cold, 'c'),
        r2: feed(cold, '---c-y'),
        r3: feed(cold, '-#', 'refused'), // never opens: "unreachable" once, then "left" when it goes
      };
      const out$ = routerFeeds(routers$, router => streams[router.id], { backoff: { initialMs: 100, maxMs: 100 }, notice, scheduler: testScheduler });
      expectObservable(out$, '^-----------!').toBe('---u-j-y--(lm)', { u: 'unreachable:r3', j: 'joined:r2', y: 'y', l: 'left:r2', m: 'left:r3' });
    });
  });

  it('keeps a router that stays in consecutive sets on the same stream (no resubscription)', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const routers$ = hot('a--b--c', { a: [R1], b: [R1, R2], c: [R2, R1] });
      const s1 = feed(cold, 'c-x-x-x-x');
      const s2 = feed(cold, 'c');
      const streams: Record<string, Observable<Feed<string>>> = { r1: s1, r2: s2 };
      const out$ = routerFeeds(routers$, router => streams[router.id], { backoff, notice, scheduler: testScheduler });
      expectObservable(out$, '^--------!').toBe('--xjx-x-x', { j: 'joined:r2', x: 'x' });
      expectSubscriptions(s1.subscriptions).toBe('^--------!');
    });
  });

  it('reconnects a broken stream with backoff, says "lost" once an outage and "resumed" when back', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const routers$ = hot('a', { a: [R1, R2] });
      // r1: up, one line, breaks at 4 ("lost"); attempts at 7 and 13 fail; the one at 25 connects
      // ("resumed") and delivers x at 27. r2's line at 22 is not held up by any of it.
      const attempts = [feed(cold, 'c-x-#', 'reset'), feed(cold, '#', 'refused'), feed(cold, '#', 'refused'), feed(cold, 'c-x')];
      let attempt = 0;
      const s2 = feed(cold, 'c---------------------y');
      const out$ = routerFeeds(routers$, router => (router.id === 'r1' ? attempts[attempt++] : s2), {
        backoff,
        notice,
        scheduler: testScheduler,
      });
      expectObservable(out$, '^ 29ms !').toBe('--x-l 17ms y 2ms r - x', {
        l: 'lost:r1(reset)',
        r: 'resumed:r1',
        x: 'x',
        y: 'y',
      });
    });
  });

  it('stops retrying a broken router once it has left the set, and says it left', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const routers$ = hot('a-----b', { a: [R1, R2], b: [R1] });
      const s1 = feed(cold, 'c');
      const attempts: number[] = [];
      const out$ = routerFeeds(
        routers$,
        router => {
          if (router.id === 'r1') return s1;
          attempts.push(testScheduler.now());
          return feed(cold, '-#', 'refused');
        },
        { backoff: { initialMs: 2, maxMs: 2 }, notice, scheduler: testScheduler },
      );
      // r2 fails at 1 and 4 (a retry at 3), and is removed at 6 while waiting: no attempt after.
      expectObservable(out$, '^------------!').toBe('-l----f', { l: 'lost:r2(refused)', f: 'left:r2' });
      testScheduler.flush();
      expect(attempts).toEqual([0, 3]);
    });
  });

  it('isolates a router whose stream errors synchronously on open (a bug): the others go on', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const routers$ = hot('a', { a: [R1, R2] });
      const s2 = feed(cold, 'c-y-y');
      const out$ = routerFeeds(
        routers$,
        router => {
          if (router.id === 'r1') throw new Error('boom');
          return s2;
        },
        { backoff: { initialMs: 100, maxMs: 100 }, notice, scheduler: testScheduler },
      );
      expectObservable(out$, '^-----!').toBe('l-y-y-', { l: 'lost:r1(boom)', y: 'y' });
    });
  });

  it('counts every failed attempt, not only the first of an outage', () => {
    const errors: string[] = [];
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const routers$ = hot('a', { a: [R1] });
      const out$ = routerFeeds(routers$, () => feed(cold, '#', 'refused'), {
        backoff: { initialMs: 2, maxMs: 2 },
        notice,
        onError: (router, err) => errors.push(`${router.id}:${err}`),
        scheduler: testScheduler,
      });
      expectObservable(out$, '^----!').toBe('l', { l: 'lost:r1(refused)' });
    });
    expect(errors).toEqual(['r1:refused', 'r1:refused', 'r1:refused']);
  });
});
