// tail(live$, recent$, credit$, { appId: 'app-a', maxQueued: 2 })
//
//   live$     -a-b-c-d-e-|
//   credit$   ------------(3)
//   output    ------------(Nde|)
//
// N is an LGR/ERR line from the router, stamped when it is delivered (frame 12):
//   "dropped 3 messages since 1970-01-01T00:00:00.005Z: consumer too slow"
// (a, b, c were pushed out, oldest first; the first of them was dropped at frame 5).
// With recent$, the client first gets the app's recent lines, spliced to live without gap or
// duplicate, and all of it goes through the same bounded queue.
import { Subject, startWith, tap } from 'rxjs';
import { nsFromMs } from '../../src/envelope/envelope';
import { LogLine, NOTICE_SEQ } from '../../streams/logLine';
import { tail } from '../../streams/tail';
import { line, newTestScheduler } from './fixtures';

function dropNotice(appId: string, message: string, atMs: number): LogLine {
  return new LogLine(NOTICE_SEQ, {
    appId,
    sourceType: 'LGR',
    sourceInstance: 'router',
    messageType: 'ERR',
    timestamp: nsFromMs(atMs),
    message,
  });
}

const v = { a: line(1), b: line(2), c: line(3), d: line(4), e: line(5), f: line(6) };

describe('tail', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('delivers live lines as they come to a client that keeps reading', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('-a-b-c-|', v);
      const credit = cold('x', { x: 100 });
      const out$ = tail(live, undefined, credit, { appId: 'app-a', maxQueued: 2, scheduler: testScheduler });
      expectObservable(out$).toBe('-a-b-c-|', v);
      expectSubscriptions(live.subscriptions).toBe('^------!');
      expectSubscriptions(credit.subscriptions).toBe('^------!');
    });
  });

  it('drops the oldest lines for a client that stopped reading and tells it first, with count and since-time', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const live = hot('-a-b-c-d-e-|', v);
      const credit = cold('------------x', { x: 3 });
      const out$ = tail(live, undefined, credit, { appId: 'app-a', maxQueued: 2, scheduler: testScheduler });
      expectObservable(out$).toBe('------------(Nde|)', {
        ...v,
        N: dropNotice('app-a', 'dropped 3 messages since 1970-01-01T00:00:00.005Z: consumer too slow', 12),
      });
    });
  });

  it('addresses the drop notice to the tailed app and tells onDrop of every dropped line', () => {
    const drops: number[] = [];
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const w = { p: line(1, 'app-z'), q: line(2, 'app-z'), r: line(3, 'app-z') };
      const live = hot('-p-q-r-|', w);
      const credit = cold('---------x', { x: 5 });
      const out$ = tail(live, undefined, credit, {
        appId: 'app-z',
        maxQueued: 1,
        onDrop: n => drops.push(n),
        scheduler: testScheduler,
      });
      expectObservable(out$).toBe('---------(Nr|)', {
        ...w,
        N: dropNotice('app-z', 'dropped 2 messages since 1970-01-01T00:00:00.003Z: consumer too slow', 9),
      });
    });
    expect(drops.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('sends recent lines first, then live ones, skipping live lines already in the recent answer', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('-c-d------e-', v);
      const recent = cold('---a-b-c|', v);
      const credit = cold('x', { x: 100 });
      const out$ = tail(live, recent, credit, { appId: 'app-a', maxQueued: 10, scheduler: testScheduler });
      expectObservable(out$, '^------------!').toBe('---a-b-cd-e--', v);
      expectSubscriptions(live.subscriptions).toBe('^------------!');
      expectSubscriptions(recent.subscriptions).toBe('^-------!');
      expectSubscriptions(credit.subscriptions).toBe('^------------!');
    });
  });

  it('queues recent and live lines alike for a client that reads late', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const live = hot('--c---d-', v);
      const recent = cold('-(ab|)', v);
      const credit = cold('--------x', { x: 100 });
      const out$ = tail(live, recent, credit, { appId: 'app-a', maxQueued: 10, scheduler: testScheduler });
      expectObservable(out$, '^---------!').toBe('--------(abcd)', v);
    });
  });

  it('paces itself by credit granted from inside next(), one line per credit', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const live = hot('-a-(bcd)-e-|', v);
      const credit = new Subject<number>();
      const out$ = tail(live, undefined, credit.pipe(startWith(1)), {
        appId: 'app-a',
        maxQueued: 2,
        scheduler: testScheduler,
      }).pipe(tap(() => credit.next(1)));
      expectObservable(out$).toBe('-a-(bcd)-e-|', v);
    });
  });

  it('lets go of live, recent and credit when the client goes away', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const live = hot('-c-d-e-f-', v);
      const recent = cold('--a-b---|', v);
      const credit = cold('x', { x: 100 });
      const out$ = tail(live, recent, credit, { appId: 'app-a', maxQueued: 10, scheduler: testScheduler });
      expectObservable(out$, '^-----!').toBe('--a-b--', v);
      expectSubscriptions(live.subscriptions).toBe('^-----!');
      expectSubscriptions(recent.subscriptions).toBe('^-----!');
      expectSubscriptions(credit.subscriptions).toBe('^-----!');
    });
  });
});
