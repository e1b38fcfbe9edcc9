// firehoseShares(lines$, consumers$, { forEveryone }): one subscription's lines split by app
//
//   consumers$  c1──────(c1,c2)──────
//   lines$      ─a─b─N─────a─b─|        a, b: lines of apps a, b; N: a notice for everyone
//   output      ─1─1─*─────x─y─|        1: to c1; *: to everyone; x, y: to whichever of c1, c2
//                                          apps a and b hash to (each app always the same one)
//
// An app's lines go to one consumer (rendezvous hashing over the consumers' ids), so they stay in
// order there; a consumer joining or leaving moves only its share of the apps.
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { FirehoseShare, firehoseShares } from '../../streams/firehoseShares';
import { LogLine } from '../../streams/logLine';
import { line, newTestScheduler } from './fixtures';

const forEveryone = (l: LogLine) => l.envelope.sourceType === 'LGR';
const notice = new LogLine(-1, { ...line(0).envelope, sourceType: 'LGR', message: 'router r2 left' });

/** Every app's consumer, as the stream picks it, for a fixed set of consumers. */
function ownersOf(apps: readonly string[], consumers: readonly string[]): Map<string, string | undefined> {
  const lines$ = new Subject<LogLine>();
  const owners = new Map<string, string | undefined>();
  const consumers$ = new Subject<readonly string[]>();
  const shares = firehoseShares(lines$, consumers$, { forEveryone }).subscribe(s => owners.set(s.line.appId, s.to));
  consumers$.next(consumers);
  for (const app of apps) lines$.next(line(1, app));
  shares.unsubscribe();
  return owners;
}

describe('firehoseShares', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('sends every line to the only consumer, and notices to everyone', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const v = { a: line(1, 'app-a'), b: line(2, 'app-b'), N: notice };
      const lines = hot('-a-b-N-|', v);
      const consumers = hot<readonly string[]>('c------', { c: ['c1'] });
      const to = (l: LogLine, consumer: string | undefined): FirehoseShare => ({ to: consumer, line: l });
      expectObservable(firehoseShares(lines, consumers, { forEveryone })).toBe('-1-2-*-|', { 1: to(v.a, 'c1'), 2: to(v.b, 'c1'), '*': to(notice, undefined) });
      expectSubscriptions(lines.subscriptions).toBe('^------!');
      expectSubscriptions(consumers.subscriptions).toBe('^------!');
    });
  });

  it('lets lines go while the subscription has no consumer, notices too', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const v = { a: line(1, 'app-a'), N: notice, b: line(2, 'app-b') };
      const lines = hot('-a-N--b-', v);
      const consumers = hot<readonly string[]>('e----c--', { e: [], c: ['c1'] });
      expectObservable(firehoseShares(lines, consumers, { forEveryone })).toBe('------x-', { x: { to: 'c1', line: v.b } });
    });
  });

  it('keeps each app at one consumer, the same one for every line', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const v = { a: line(1, 'app-a'), A: line(2, 'app-a'), b: line(3, 'app-b'), B: line(4, 'app-b') };
      const owners = ownersOf(['app-a', 'app-b'], ['c1', 'c2']);
      const lines = hot('-a-b-A-B-', v);
      const consumers = hot<readonly string[]>('c--------', { c: ['c1', 'c2'] });
      const to = (l: LogLine) => ({ to: owners.get(l.appId), line: l });
      expectObservable(firehoseShares(lines, consumers, { forEveryone })).toBe('-a-b-A-B-', { a: to(v.a), b: to(v.b), A: to(v.A), B: to(v.B) });
    });
  });

  it('passes an error of lines$ or consumers$ on, and completes with lines$', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const consumers = hot<readonly string[]>('c---', { c: ['c1'] });
      expectObservable(firehoseShares(hot<LogLine>('--#'), consumers, { forEveryone })).toBe('--#');
      expectObservable(firehoseShares(hot<LogLine>('----'), hot<readonly string[]>('c-#', { c: ['c1'] }), { forEveryone })).toBe('--#');
      expectObservable(firehoseShares(hot<LogLine>('---|'), consumers, { forEveryone })).toBe('---|');
    });
  });

  it('spreads apps over every consumer, and a consumer that joins or leaves moves only its own share', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 200, maxLength: 200 }), fc.integer({ min: 2, max: 6 }), (apps, n) => {
        const consumers = Array.from({ length: n }, (_, i) => `consumer-${i}`);
        const before = ownersOf(apps, consumers);
        const joined = ownersOf(apps, [...consumers, 'newcomer']);
        const left = ownersOf(apps, consumers.slice(1));
        for (const app of apps) {
          // Joining: an app moves only to the newcomer. Leaving: only the leaver's apps move.
          expect(joined.get(app) === before.get(app) || joined.get(app) === 'newcomer').toBe(true);
          if (before.get(app) !== 'consumer-0') expect(left.get(app)).toBe(before.get(app));
        }
        // Nobody is left out of 200 apps (each consumer's share is about 200/n).
        expect(new Set(before.values()).size).toBe(n);
      }),
      { numRuns: 50 },
    );
  });

  it('forgets remembered picks at maxRemembered and picks the same consumers again', () => {
    const lines$ = new Subject<LogLine>();
    const consumers$ = new Subject<readonly string[]>();
    const got: string[] = [];
    const subscription = firehoseShares(lines$, consumers$, { forEveryone, maxRemembered: 3 }).subscribe(s => got.push(`${s.line.appId}>${s.to}`));
    consumers$.next(['c1', 'c2', 'c3']);
    const apps = ['a1', 'a2', 'a3', 'a4', 'a5', 'a1', 'a2', 'a3', 'a4', 'a5'];
    for (const app of apps) lines$.next(line(1, app));
    subscription.unsubscribe();
    const owners = ownersOf(['a1', 'a2', 'a3', 'a4', 'a5'], ['c1', 'c2', 'c3']);
    expect(got).toEqual(apps.map(app => `${app}>${owners.get(app)}`));
  });
});
