// instanceLines: an instance's stdout/stderr sockets → envelopes
//
//   stdout.sock:  #  -"a\nb"-"c\n"-|   (refused first; then a line split across chunks; then EOF)
//   out:           --A------(BC)       A = OUT "a", B = OUT "bc"
import { Observable, Subject, defer } from 'rxjs';
import { Instance } from '../../streams/instance';
import { instanceLines } from '../../streams/instanceLines';
import { newTestScheduler } from './fixtures';

const instance: Instance = { key: 'app-1/2@/depot/j', appId: 'app-1', index: 2, jobDir: '/depot/j' };

function env(messageType: 'OUT' | 'ERR', message: string) {
  return { appId: 'app-1', sourceType: 'APP', sourceInstance: '2', messageType, timestamp: '42', message };
}

describe('instanceLines', () => {
  it('reads both sockets as lines, joining lines split across chunks', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      const sockets: Record<string, Observable<string>> = {
        '/depot/j/stdout.sock': cold('-a--b---', { a: 'one\ntw', b: 'o\n' }),
        '/depot/j/stderr.sock': cold('--e-----', { e: 'oops\n' }),
      };
      const out = instanceLines(instance, new Subject<void>(), {
        connect: path => sockets[path],
        nowNs: () => '42',
        maxLineChars: 100,
        backoff: { initialMs: 1, maxMs: 10, scheduler: testScheduler },
      });
      expectObservable(out).toBe('-ae-b', { a: env('OUT', 'one'), e: env('ERR', 'oops'), b: env('OUT', 'two') });
    });
  });

  it('retries a socket that is missing, with backoff, without touching the other one', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      let stdoutAttempts = 0;
      const missing = cold<string>('#', undefined, Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
      const appears = cold('-a-----', { a: 'late\n' });
      const stderr = cold('e-e-e---', { e: 'x\n' });
      const retries: string[] = [];
      const out = instanceLines(instance, new Subject<void>(), {
        connect: path => (path.endsWith('stdout.sock') ? defer(() => (stdoutAttempts++ < 2 ? missing : appears)) : stderr),
        nowNs: () => '42',
        maxLineChars: 100,
        backoff: { initialMs: 1, maxMs: 10, scheduler: testScheduler },
        onRetry: (_i, stream, err, attempt, delayMs) => retries.push(`${stream} ${(err as { code: string }).code} #${attempt} ${delayMs}ms`),
      });
      expectObservable(out).toBe('e-e-(ea)', { e: env('ERR', 'x'), a: env('OUT', 'late') });
      expectSubscriptions(stderr.subscriptions).toBe('^');
      testScheduler.flush();
      expect(retries).toEqual(['stdout ENOENT #1 1ms', 'stdout ENOENT #2 2ms']);
    });
  });

  it('passes on a partial line when the connection ends, and reconnects', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ cold, expectObservable }) => {
      let n = 0;
      const connections = [cold('-a|', { a: 'half a line' }), cold('-b', { b: 'next\n' })];
      const out = instanceLines(instance, new Subject<void>(), {
        connect: path => (path.endsWith('stdout.sock') ? defer(() => connections[n++]) : cold('-')),
        nowNs: () => '42',
        maxLineChars: 100,
        backoff: { initialMs: 1, maxMs: 10, scheduler: testScheduler },
      });
      expectObservable(out).toBe('--h-b', { h: env('OUT', 'half a line'), b: env('OUT', 'next') });
    });
  });

  it('completes once stopped, after the sockets have passed on what they held', () => {
    const testScheduler = newTestScheduler();
    testScheduler.run(({ hot, expectObservable }) => {
      const stop$ = hot<void>('---s');
      // A connection that, told to stop, flushes its partial text and ends (as unixSocketText does).
      const connect = (_path: string, stopping$: Observable<void>) =>
        new Observable<string>(subscriber => {
          subscriber.next('unfinished');
          return stopping$.subscribe(() => subscriber.complete());
        });
      const out = instanceLines(instance, stop$, {
        connect,
        nowNs: () => '42',
        maxLineChars: 100,
        backoff: { initialMs: 1, maxMs: 10, scheduler: testScheduler },
      });
      expectObservable(out).toBe('---(oe|)', { o: env('OUT', 'unfinished'), e: env('ERR', 'unfinished') });
    });
  });
});
