// boundedQueue(source$, credit$, { maxQueued: 2, notice: N })
//
//   source$   -a-b-c-d-e-|              the producer is never slowed
//   credit$   ------------(3)           the consumer reads nothing until frame 12
//   output    ------------(Nde|)
//
// c, d and e each overflow the queue of two, pushing out a, b and c (oldest first). The next item
// the consumer gets is N = notice(dropped 3, since frame 5, the first drop), then what was kept;
// the output completes once the source has completed and the queue is empty.
import { Subject, from, merge, range, startWith, tap, toArray } from 'rxjs';
import { boundedQueue } from '../../streams/boundedQueue';
import { newTestScheduler } from './fixtures';

const notice = (dropped: number, sinceMs: number): string => `dropped ${dropped} since ${sinceMs}`;

describe('boundedQueue', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('passes items straight through while the consumer has credit', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-|');
      const credit = cold('x', { x: 10 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('-a-b-c-|');
      expectSubscriptions(source.subscriptions).toBe('^------!');
      expectSubscriptions(credit.subscriptions).toBe('^------!');
    });
  });

  it('holds items until credit arrives and delivers no more than the credit granted', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-|');
      const credit = cold('----x---y', { x: 1, y: 5 });
      const out$ = boundedQueue(source, credit, { maxQueued: 5, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('----a---(bc|)');
      expectSubscriptions(source.subscriptions).toBe('^------!');
      expectSubscriptions(credit.subscriptions).toBe('^-------!');
    });
  });

  it('drops the oldest on overflow and delivers the drop notice, with count and since-time, first', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const source = hot('-a-b-c-d-e-|');
      const credit = cold('------------x', { x: 3 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('------------(Nde|)', { N: 'dropped 3 since 5', d: 'd', e: 'e' });
    });
  });

  it('drops the oldest by size too, keeping what fits in maxQueuedSize', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ hot, cold, expectObservable }) => {
      // sizes: a=4 b=4 c=4 d=9; at most 10 held: c pushes a out, d pushes b and c out
      const source = hot('-a-b-c-d------|', { a: 'aaaa', b: 'bbbb', c: 'cccc', d: 'ddddddddd' });
      const credit = cold('---------x', { x: 10 });
      const out$ = boundedQueue(source, credit, { maxQueued: 100, maxQueuedSize: 10, sizeOf: s => s.length, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('---------(nd)-|', { n: 'dropped 3 since 5', d: 'ddddddddd' });
    });
  });

  it('spends a credit on the notice itself', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-e-|');
      const credit = cold('------------x----y', { x: 2, y: 1 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('------------(Nd)-(e|)', { N: 'dropped 3 since 5', d: 'd', e: 'e' });
      expectSubscriptions(credit.subscriptions).toBe('^----------------!');
    });
  });

  it('tells onDrop of every dropped item', () => {
    const drops: number[] = [];
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const source = hot('-a-b-c-d-e-|');
      const credit = cold('------------x', { x: 3 });
      const out$ = boundedQueue(source, credit, {
        maxQueued: 2,
        notice,
        onDrop: n => drops.push(n),
        scheduler: testScheduler,
      });
      expectObservable(out$).toBe('------------(Nde|)', { N: 'dropped 3 since 5', d: 'd', e: 'e' });
    });
    expect(drops.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('gives a second overflow, after the first was announced, its own count and since-time', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const source = hot('-a-b-c-d----e-f-g-|');
      const credit = cold('---------x----------y', { x: 3, y: 5 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('---------(Ncd)------(Mfg|)', {
        N: 'dropped 2 since 5',
        c: 'c',
        d: 'd',
        M: 'dropped 1 since 16',
        f: 'f',
        g: 'g',
      });
    });
  });

  it('does not complete while items are still queued for a consumer without credit', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('(abc|)');
      const credit = cold<number>('-');
      const out$ = boundedQueue(source, credit, { maxQueued: 5, notice, scheduler: testScheduler });
      expectObservable(out$, '^---!').toBe('-----');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
      expectSubscriptions(credit.subscriptions).toBe('^---!');
    });
  });

  it('takes credit granted synchronously from inside next() in the same delivery loop', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-(cde)-|');
      const moreCredit = new Subject<number>();
      const out$ = boundedQueue(source, moreCredit.pipe(startWith(1)), {
        maxQueued: 5,
        notice,
        scheduler: testScheduler,
      }).pipe(tap(() => moreCredit.next(1)));
      expectObservable(out$).toBe('-a-b-(cde)-|');
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  it('delivers a long backlog one credit at a time from inside next() without deep recursion', () => {
    const n = 50_000;
    testScheduler.run(({ hot, expectObservable }) => {
      const source = range(1, n);
      const moreCredit = new Subject<number>();
      const credit = merge(hot('--x', { x: 1 }), moreCredit);
      const out$ = boundedQueue(source, credit, { maxQueued: n, notice: dropped => -dropped, scheduler: testScheduler }).pipe(
        tap(() => moreCredit.next(1)),
        toArray(),
      );
      expectObservable(out$).toBe('--(x|)', { x: Array.from({ length: n }, (_, k) => k + 1) });
    });
  });

  it('keeps order when the source emits from inside next() while the loop is draining', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const source = new Subject<string>();
      const credit = cold('-x', { x: 10 });
      let echoed = false;
      const out$ = boundedQueue(merge(from(['a', 'b']), source), credit, {
        maxQueued: 5,
        notice,
        scheduler: testScheduler,
      }).pipe(
        tap(item => {
          if (item === 'a' && !echoed) {
            echoed = true;
            source.next('c'); // arrives while b is still queued: must come after b
          }
        }),
      );
      expectObservable(out$).toBe('-(abc)');
    });
  });

  it('stops the source and the credit when the consumer unsubscribes', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-b-c-d-');
      const credit = cold('x', { x: 10 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$, '^----!').toBe('-a-b--');
      expectSubscriptions(source.subscriptions).toBe('^----!');
      expectSubscriptions(credit.subscriptions).toBe('^----!');
    });
  });

  it('passes on an error of the source and lets go of the credit', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a-#');
      const credit = cold('x', { x: 10 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('-a-#');
      expectSubscriptions(credit.subscriptions).toBe('^--!');
    });
  });

  it('passes on an error of the credit and lets go of the source', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-a--b-c-');
      const credit = cold('x--#', { x: 10 });
      const out$ = boundedQueue(source, credit, { maxQueued: 2, notice, scheduler: testScheduler });
      expectObservable(out$).toBe('-a-#');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
