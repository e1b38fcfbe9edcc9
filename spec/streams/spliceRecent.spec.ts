// spliceRecent(recent$, live$, { maxHeld })                     letters are lines, seq in ()
//
//   live$    -c-d------e-|       c(4) d(5) e(6): live is subscribed first, held while recent runs
//   recent$  ---a-b-c|           a(2) b(3) c(4): the recent answer arrives later, over the network
//   output   ---a-b-cd-e-|
//
// Recent first, then the held live lines that are newer than the newest recent seq (the live copy
// of c is already in the recent answer: skipped), then live lines as they come. No gap, no
// duplicate at the seam; the output completes once both inputs have.
import { EMPTY, defer, from, of } from 'rxjs';
import { LogLine } from '../../streams/logLine';
import { spliceRecent } from '../../streams/spliceRecent';
import { line, newTestScheduler } from './fixtures';

describe('spliceRecent', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('emits a synchronous recent answer first, then live lines as they come', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const v = { a: line(1), b: line(2), c: line(3), d: line(4) };
      const live = hot('-----c-d-|', v);
      const out$ = spliceRecent(from([v.a, v.b]), live, { maxHeld: 10 });
      expectObservable(out$).toBe('(ab)-c-d-|', v);
      expectSubscriptions(live.subscriptions).toBe('^--------!');
    });
  });

  it('skips held live lines already in a later recent answer and keeps the newer ones', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const v = { a: line(2), b: line(3), c: line(4), d: line(5), e: line(6) };
      const live = hot('-c-d------e-|', v);
      const recent = cold('---a-b-c|', v);
      const out$ = spliceRecent(recent, live, { maxHeld: 10 });
      expectObservable(out$).toBe('---a-b-cd-e-|', v);
      expectSubscriptions(live.subscriptions).toBe('^-----------!');
      expectSubscriptions(recent.subscriptions).toBe('^-------!');
    });
  });

  it('holds live lines while recent is pending and releases them after it, in arrival order', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const v = { a: line(1), b: line(2), c: line(3), d: line(4) };
      const live = hot('-b-c------d-', v);
      const recent = cold('----a|', v);
      const out$ = spliceRecent(recent, live, { maxHeld: 10 });
      expectObservable(out$).toBe('----a(bc)-d-', v);
    });
  });

  it('leaves no gap: a live line arriving at the moment recent is read is delivered once', () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      // recent holds seqs 1..3; live 3 is the line that was being ingested while recent was read
      const v = { a: line(1), b: line(2), c: line(3), d: line(4) };
      const live = hot('--c-----d-', v);
      const recent = cold('---(abc|)', v);
      const out$ = spliceRecent(recent, live, { maxHeld: 10 });
      expectObservable(out$).toBe('---(abc)d-', v);
    });
  });

  it('passes live lines straight through when there is nothing recent', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const v = { a: line(1), b: line(2) };
      const live = hot('-a-b-|', v);
      expectObservable(spliceRecent(EMPTY, live, { maxHeld: 10 })).toBe('-a-b-|', v);
      expectSubscriptions(live.subscriptions).toBe('^----!');
    });
  });

  it('subscribes to live before it asks for recent, so nothing published meanwhile is missed', () => {
    const order: string[] = [];
    testScheduler.run(({ expectObservable }) => {
      const live$ = defer(() => {
        order.push('live');
        return EMPTY;
      });
      const recent$ = defer(() => {
        order.push('recent');
        return of(line(1));
      });
      expectObservable(spliceRecent(recent$, live$, { maxHeld: 10 })).toBe('(a|)', { a: line(1) });
    });
    expect(order).toEqual(['live', 'recent']);
  });

  it('drops the oldest held live lines past maxHeld and counts them', () => {
    const drops: number[] = [];
    testScheduler.run(({ cold, hot, expectObservable }) => {
      const v = { x: line(1), a: line(2), b: line(3), c: line(4), d: line(5) };
      const live = hot('-a-b-c-d---', v);
      const recent = cold('--------x|', v);
      const out$ = spliceRecent(recent, live, { maxHeld: 2, onDrop: n => drops.push(n) });
      expectObservable(out$).toBe('--------x(cd)', v);
    });
    expect(drops.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('completes after the held lines when live completes while recent is pending', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const v = { x: line(1), a: line(2) };
      const live = hot('-a|', v);
      const recent = cold('---x|', v);
      expectObservable(spliceRecent(recent, live, { maxHeld: 10 })).toBe('---x(a|)', v);
      expectSubscriptions(live.subscriptions).toBe('^-!');
      expectSubscriptions(recent.subscriptions).toBe('^---!');
    });
  });

  it('does not complete while live goes on after recent has completed', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const v = { x: line(1), a: line(2) };
      const live = hot('-----a--', v);
      const recent = cold('-x|', v);
      expectObservable(spliceRecent(recent, live, { maxHeld: 10 }), '^------!').toBe('-x---a--', v);
      expectSubscriptions(live.subscriptions).toBe('^------!');
    });
  });

  it('passes on an error of recent and lets go of live', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const v = { a: line(2) };
      const live = hot('-a-----', v);
      const recent = cold<LogLine>('--#');
      expectObservable(spliceRecent(recent, live, { maxHeld: 10 })).toBe('--#');
      expectSubscriptions(live.subscriptions).toBe('^-!');
    });
  });

  it('lets go of both inputs when the subscriber unsubscribes', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const v = { x: line(1), a: line(2) };
      const live = hot('-a------', v);
      const recent = cold('------x|', v);
      expectObservable(spliceRecent(recent, live, { maxHeld: 10 }), '^---!').toBe('-----');
      expectSubscriptions(live.subscriptions).toBe('^---!');
      expectSubscriptions(recent.subscriptions).toBe('^---!');
    });
  });

  it("with seam 'identity', skips held live lines that are in the recent answer by content, whatever their seq", () => {
    testScheduler.run(({ cold, hot, expectObservable }) => {
      // Lines from several routers, renumbered on arrival: seq says nothing about the seam.
      const fromRouter = (seq: number, message: string) => new LogLine(seq, line(0, 'app-a', message).envelope);
      const v = { a: fromRouter(1, 'a'), b: fromRouter(2, 'b'), B: fromRouter(50, 'b'), c: fromRouter(51, 'c'), d: fromRouter(52, 'd') };
      const live = hot('-B-c--------d-|', v);
      const recent = cold('---a-b|', v);
      expectObservable(spliceRecent(recent, live, { maxHeld: 10, seam: 'identity' })).toBe('---a-bc-----d-|', v);
      // By seq, the live copy of b (seq 50) would be taken for a new line and shown twice.
      expectObservable(spliceRecent(recent, live, { maxHeld: 10 })).toBe('---a-b(Bc)--d-|', v);
    });
  });

  describe("with seam 'identity' across routers", () => {
    // Lines as the traffic controller has them: seq means nothing, origin names the router.
    const from = (origin: string, message: string) => new LogLine(0, line(0, 'app-a', message).envelope, undefined, origin);

    it('skips a line of the recent answer that arrives live only after the answer is complete', () => {
      testScheduler.run(({ cold, hot, expectObservable }) => {
        // r1 answered with a and b; its live copy of b travels on another connection and comes late.
        const v = { a: from('r1', 'a'), b: from('r1', 'b'), B: from('r1', 'b'), c: from('r1', 'c') };
        const live = hot('-------B-c-|', v);
        const recent = cold('--a-b|', v);
        expectObservable(spliceRecent(recent, live, { maxHeld: 10, seam: 'identity' })).toBe('--a-b----c-|', v);
      });
    });

    it("stops looking once a router's live stream has passed its answer: later lines pass even if they repeat one", () => {
      testScheduler.run(({ cold, hot, expectObservable }) => {
        // c is new, so r1's live stream is past the answer; the a after it is an app repeating itself.
        const v = { a: from('r1', 'a'), c: from('r1', 'c'), A: from('r1', 'a') };
        const live = hot('-----c-A-|', v);
        const recent = cold('-a|', v);
        expectObservable(spliceRecent(recent, live, { maxHeld: 10, seam: 'identity' })).toBe('-a---c-A-|', v);
      });
    });

    it("keeps each router's seam apart: one router's new line does not end another's", () => {
      testScheduler.run(({ cold, hot, expectObservable }) => {
        const v = { a: from('r1', 'a'), b: from('r2', 'b'), c: from('r1', 'c'), B: from('r2', 'b'), d: from('r2', 'd') };
        const live = hot('-----c-B-d-|', v);
        const recent = cold('-(ab|)', v);
        expectObservable(spliceRecent(recent, live, { maxHeld: 10, seam: 'identity' })).toBe('-(ab)c---d-|', v);
      });
    });

    it('skips held lines found in the answer even after a held line older than its window', () => {
      testScheduler.run(({ cold, hot, expectObservable }) => {
        // A burst: o came live before the answer was read and fell out of its limit; b and c are in it.
        const v = { o: from('r1', 'o'), b: from('r1', 'b'), c: from('r1', 'c'), B: from('r1', 'b'), C: from('r1', 'c'), d: from('r1', 'd') };
        const live = hot('-o-B-----C-d-|', v);
        const recent = cold('----(bc|)', v);
        expectObservable(spliceRecent(recent, live, { maxHeld: 10, seam: 'identity' })).toBe('----(bco)--d-|', v);
      });
    });
  });
});
