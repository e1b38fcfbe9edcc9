// keepalive(pong$, { intervalMs: 10 })
//
//   time     0    5    10   15   20   25   30
//   pong$    ---------------p----------------       one pong, at 15
//   output   ----------p---------p---------#        ping at 10 (answered at 15), ping at 20
//                                                   (never answered): error at the next tick, 30
//
// A ping goes out every intervalMs; a tick that finds the previous ping unanswered errors with
// PeerUnresponsiveError instead of pinging again.
import { catchError, of } from 'rxjs';
import { keepalive, PeerUnresponsiveError } from '../../streams/keepalive';
import { newTestScheduler } from './fixtures';

const pings = { p: 'ping' };
// Every expectation ends by 50 ms: should the interval not error as it must, the spec fails
// instead of running virtual time forever.
const UNTIL_50 = '^ 49ms !';

describe('keepalive', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('pings at every interval while each ping is answered before the next tick', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const pong = hot('15ms p 9ms p 9ms p 9ms p');
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, '^ 54ms !').toBe('10ms p 9ms p 9ms p 9ms p 9ms p', pings);
      expectSubscriptions(pong.subscriptions).toBe('^ 54ms !');
    });
  });

  it('errors at the next tick when a ping was not answered', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const pong = hot('-');
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, UNTIL_50).toBe('10ms p 9ms #', pings, new PeerUnresponsiveError(10));
      expectSubscriptions(pong.subscriptions).toBe('^ 19ms !');
    });
  });

  it('errors with a PeerUnresponsiveError that the owner can tell apart from other errors', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const out$ = keepalive(hot('-'), { intervalMs: 10, scheduler: testScheduler }).pipe(
        catchError((err: unknown) => of(err instanceof PeerUnresponsiveError ? err.intervalMs : 'other error')),
      );
      expectObservable(out$, UNTIL_50).toBe('10ms p 9ms (x|)', { ...pings, x: 10 });
    });
  });

  it('is reset by a pong: only the ping after the last pong goes unanswered', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const pong = hot('15ms p');
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, UNTIL_50).toBe('10ms p 9ms p 9ms #', pings, new PeerUnresponsiveError(10));
      expectSubscriptions(pong.subscriptions).toBe('^ 29ms !');
    });
  });

  it('counts several pongs within one interval as a single answer', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const pong = hot('11ms p 2ms p 2ms p');
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, UNTIL_50).toBe('10ms p 9ms p 9ms #', pings, new PeerUnresponsiveError(10));
    });
  });

  it('goes on pinging after pong$ completes, and errors when the pongs stop', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const pong = hot('15ms p 4ms |');
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, UNTIL_50).toBe('10ms p 9ms p 9ms #', pings, new PeerUnresponsiveError(10));
      expectSubscriptions(pong.subscriptions).toBe('^ 19ms !');
    });
  });

  it('keeps the answered state per subscriber', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      // one pong at 12 answers both subscribers' first pings; the second subscriber, 5ms later,
      // pings at 15 and 25, and its ping at 25 is answered by nothing before 35
      const pong = hot('12ms p 9ms p');
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, UNTIL_50).toBe('10ms p 9ms p 9ms p 9ms #', pings, new PeerUnresponsiveError(10));
      expectObservable(out$, '5ms ^ 44ms !').toBe('15ms p 9ms p 9ms #', pings, new PeerUnresponsiveError(10));
    });
  });

  it('passes on an error of pong$', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const pong = hot('15ms #', undefined, new Error('socket reset'));
      const out$ = keepalive(pong, { intervalMs: 10, scheduler: testScheduler });
      expectObservable(out$, UNTIL_50).toBe('10ms p 4ms #', pings, new Error('socket reset'));
    });
  });

  it('names the interval in an error a human can read', () => {
    const err = new PeerUnresponsiveError(250);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PeerUnresponsiveError');
    expect(err.intervalMs).toBe(250);
    expect(err.message).toBe('peer did not answer a ping within 250 ms');
  });
});
