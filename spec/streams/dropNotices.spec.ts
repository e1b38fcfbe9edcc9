// dropNotices(drop$, { intervalMs: 10 })
//
//   drop$    -a-b---------------c--|
//   output   -----------s----------(t|)
//
// a opens a window (frame 1) that closes at frame 11: s = { count a+b, sinceMs 1, reason of b }.
// Nothing is told while nothing drops. c opens a second window (frame 19), but drop$ completes
// first (frame 22): what is pending is told at once, t = { count c, sinceMs 19, reason of c },
// and the output completes with it. Reports of no lines are ignored: they open no window and
// change no reason. An error is passed on, after what is pending; unsubscribing cancels the window still open.
import { SchedulerAction, SchedulerLike, Subject, Subscription, merge, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { DropReport, DropSummary, dropNotices } from '../../streams/dropNotices';
import { newTestScheduler } from './fixtures';

const v: Record<string, DropReport> = {
  a: { count: 2, reason: 'connection refused' },
  b: { count: 3, reason: 'connection reset' },
  c: { count: 1, reason: 'nothing written for 5000 ms' },
  z: { count: 0, reason: 'not a drop' },
  n: { count: -4, reason: 'not a drop either' },
};

const summary = (count: number, sinceMs: number, reason: string): DropSummary => ({ count, sinceMs, reason });

/** The test scheduler, recording when each window it was asked to close actually closed. */
function watched(scheduler: TestScheduler): { scheduler: SchedulerLike; closedAt: number[] } {
  const closedAt: number[] = [];
  return {
    closedAt,
    scheduler: {
      now: () => scheduler.now(),
      schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay?: number, state?: T): Subscription {
        return scheduler.schedule<T>(
          function (this: SchedulerAction<T>, s?: T) {
            closedAt.push(scheduler.now());
            work.call(this, s as T);
          },
          delay,
          state,
        );
      },
    },
  };
}

describe('dropNotices', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('behaves as the diagram at the top of this file shows', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-b---------------c--|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-----------s----------(t|)', {
        s: summary(5, 1, 'connection reset'),
        t: summary(1, 19, 'nothing written for 5000 ms'),
      });
      expectSubscriptions(drop.subscriptions).toBe('^---------------------!');
    });
  });

  it('tells everything dropped in one window as one summary with the sum, when the window closes', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-a-a--------|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-----------s--|', { s: summary(6, 1, 'connection refused') });
      expectSubscriptions(drop.subscriptions).toBe('^-------------!');
    });
  });

  it('dates the summary from the first drop in its window', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('---a----a--------|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-------------s---|', { s: summary(4, 3, 'connection refused') });
      expectSubscriptions(drop.subscriptions).toBe('^----------------!');
    });
  });

  it('gives the reason of the latest drop in the window', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-c-b-----------|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-----------s-----|', { s: summary(6, 1, 'connection reset') });
      expectSubscriptions(drop.subscriptions).toBe('^----------------!');
    });
  });

  it('ignores reports of no lines: they open no window, add nothing and change no reason', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-z-n---a-z-n--------|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-----------------s--|', { s: summary(2, 7, 'connection refused') });
      expectSubscriptions(drop.subscriptions).toBe('^-------------------!');
    });
  });

  it('tells nothing while nothing is dropped', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-z---------------|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-----------------|');
      expectSubscriptions(drop.subscriptions).toBe('^----------------!');
    });
  });

  it('opens a second window only with a new drop after the first has closed', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a---------------b-----------|', v);
      const out$ = dropNotices(drop, { intervalMs: 5, scheduler: testScheduler });
      expectObservable(out$).toBe('------s---------------t------|', {
        s: summary(2, 1, 'connection refused'),
        t: summary(3, 17, 'connection reset'),
      });
      expectSubscriptions(drop.subscriptions).toBe('^----------------------------!');
    });
  });

  it('tells at most one summary per interval, however fast lines drop', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-a-a-a-a-a-a-a-a-a-a-|', v);
      const out$ = dropNotices(drop, { intervalMs: 5, scheduler: testScheduler });
      expectObservable(out$).toBe('------s-----t-----u----(w|)', {
        s: summary(6, 1, 'connection refused'),
        t: summary(6, 7, 'connection refused'),
        u: summary(6, 13, 'connection refused'),
        w: summary(4, 19, 'connection refused'),
      });
      expectSubscriptions(drop.subscriptions).toBe('^----------------------!');
    });
  });

  it('tells what is pending at once when the drops end, and completes with it', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-b--|', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('------(s|)', { s: summary(5, 1, 'connection reset') });
      expectSubscriptions(drop.subscriptions).toBe('^-----!');
    });
  });

  it('leaves no window open after completing', () => {
    const { scheduler, closedAt } = watched(testScheduler);
    testScheduler.run(({ hot, expectObservable }) => {
      const drop = hot('-a-b--|', v);
      expectObservable(dropNotices(drop, { intervalMs: 10, scheduler })).toBe('------(s|)', { s: summary(5, 1, 'connection reset') });
    });
    expect(closedAt).toEqual([]);
  });

  it('tells a burst reported all at once in one summary when it completes at once', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const drop = cold('(abc|)', v);
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('(s|)', { s: summary(6, 0, 'nothing written for 5000 ms') });
      expectSubscriptions(drop.subscriptions).toBe('(^!)');
    });
  });

  it('passes on an error of the drops', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-----------#', v, new Error('writer failed'));
      const out$ = dropNotices(drop, { intervalMs: 5, scheduler: testScheduler });
      expectObservable(out$).toBe('------s------#', { s: summary(2, 1, 'connection refused') }, new Error('writer failed'));
      expectSubscriptions(drop.subscriptions).toBe('^------------!');
    });
  });

  it('tells what is pending before passing on an error, so the last drops are not lost with it', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a---#', v, new Error('writer failed'));
      const out$ = dropNotices(drop, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$).toBe('-----(s#)', { s: summary(2, 1, 'connection refused') }, new Error('writer failed'));
      expectSubscriptions(drop.subscriptions).toBe('^----!');
    });
  });

  it('stops listening and cancels the window still open when unsubscribed', () => {
    const { scheduler, closedAt } = watched(testScheduler);
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a-b--------------', v);
      expectObservable(dropNotices(drop, { intervalMs: 10, scheduler }), '^----!').toBe('------');
      expectSubscriptions(drop.subscriptions).toBe('^----!');
    });
    expect(closedAt).toEqual([]);
  });

  it('closes each window it opened exactly once, when due', () => {
    const { scheduler, closedAt } = watched(testScheduler);
    testScheduler.run(({ hot, expectObservable }) => {
      const drop = hot('-a-b------------c------|', v);
      expectObservable(dropNotices(drop, { intervalMs: 5, scheduler })).toBe('------s--------------t-|', {
        s: summary(5, 1, 'connection reset'),
        t: summary(1, 16, 'nothing written for 5000 ms'),
      });
    });
    expect(closedAt).toEqual([6, 21]);
  });

  it('puts a drop reported while a summary is being told (the notice itself dropped) in the next window', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const drop = hot('-a------------------------------------', v);
      const echo$ = new Subject<DropReport>();
      const out$ = dropNotices(merge(drop, echo$), { intervalMs: 10, scheduler: testScheduler }).pipe(
        tap(() => echo$.next({ count: 1, reason: 'the drop notice itself' })),
      );
      expectObservable(out$, '^-----------------------------------!').toBe('-----------s---------t---------u-----', {
        s: summary(2, 1, 'connection refused'),
        t: summary(1, 11, 'the drop notice itself'),
        u: summary(1, 21, 'the drop notice itself'),
      });
      expectSubscriptions(drop.subscriptions).toBe('^-----------------------------------!');
    });
  });
});
