// reconnectWithBackoff: resubscribe a failing or ending connection after 1, 2, 4, … capped
//
//   attempts:  #  -#  ---#  ----(max 4)#   then a value resets the count
import { Subject, defer } from 'rxjs';
import { backoffDelay, reconnectWithBackoff } from '../../streams/backoff';
import { newTestScheduler } from './fixtures';

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap', () => {
    const opts = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6, 60].map(n => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('shortens each delay by at most the jitter fraction', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(400);
    expect(backoffDelay(3, { ...opts, random: () => 0.999 })).toBe(200);
  });
});

describe('reconnectWithBackoff', () => {
  it('retries a failing connection with growing, capped delays', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const connection = cold('#');
      const stop$ = new Subject<void>();
      const delays: number[] = [];
      const out = connection.pipe(
        reconnectWithBackoff(stop$, { initialMs: 1, maxMs: 4, scheduler: testScheduler, onRetry: (_e, _a, d) => delays.push(d) }),
      );
      expectObservable(out, '^------------------!').toBe('-');
      expectSubscriptions(connection.subscriptions).toBe(['(^!)', '-(^!)', '---(^!)', '-------(^!)', '-----------(^!)', '---------------(^!)']);
      testScheduler.flush();
      expect(delays.slice(0, 6)).toEqual([1, 2, 4, 4, 4, 4]);
    });
  });

  it('reconnects a connection that ends, and resets the delay once one delivers', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      // fail, fail, deliver a line and end, fail, deliver
      const attempts = [cold('#'), cold('#'), cold('a|'), cold('#'), cold('b-')];
      let n = 0;
      const connection = defer(() => attempts[n++]);
      const delays: number[] = [];
      const out = connection.pipe(
        reconnectWithBackoff(new Subject<void>(), { initialMs: 1, maxMs: 8, scheduler: testScheduler, onRetry: (_e, _a, d) => delays.push(d) }),
      );
      expectObservable(out).toBe('---a---b-');
      testScheduler.flush();
      expect(delays).toEqual([1, 2, 1, 2]);
    });
  });

  it('stops for good when told to, also while waiting to retry', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const connection = cold('#');
      const stop$ = hot<void>('-----s');
      expectObservable(connection.pipe(reconnectWithBackoff(stop$, { initialMs: 2, maxMs: 100, scheduler: testScheduler }))).toBe('-----|');
      expectSubscriptions(connection.subscriptions).toBe(['(^!)', '--(^!)']);
    });
  });

  it('completes once a stopped connection ends, without reconnecting', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const stop$ = hot<void>('---s');
      const connection = cold('-a---b|'); // a connection that honours stop by ending (at its own pace)
      expectObservable(connection.pipe(reconnectWithBackoff(stop$, { initialMs: 1, maxMs: 10, scheduler: testScheduler }))).toBe('-a---b|');
      expectSubscriptions(connection.subscriptions).toBe('^-----!');
    });
  });
});
