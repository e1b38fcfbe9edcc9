// routerSets: router registration events → the current set of routers, emitted only when it changes
//
//   event$:   s---p---p---c---d---x---     s = snapshot {a}   p = put b (twice)   c = put b moved
//                                          d = delete a   x = delete of a key it does not know
//   out:      1---2-------3---4-------     1 = [a]   2 = [a, b]   3 = [a, b']   4 = [b']
//
// An invalid record is left out and reported once (onInvalid), not on every resync:
//
//   event$:   s---r---r---f---             s = snapshot {a, bad}   r = the same again   f = put fixing bad
//   out:      1-----------2---             1 = [a]   2 = [a, bad]
//   invalid:  ^                            reported once, at s
import { Observable, retry } from 'rxjs';
import { RouterInfo } from '../../streams/routerInfo';
import { RouterRecordEntry, RouterRegistrationEvent, routerSets } from '../../streams/routerSets';
import { newTestScheduler } from './fixtures';

const record = (id: string, udp: string, http = udp.replace(/:\d+$/, ':8082')): RouterRecordEntry => ({ key: id, value: JSON.stringify({ udp, http }) });
const broken = (id: string, value = 'not json'): RouterRecordEntry => ({ key: id, value });

/** A stand-in for parseRouterRecord: any JSON with udp and http is a router; the rest is invalid. */
function parse(key: string, value: string): RouterInfo | { invalid: string } {
  try {
    const v = JSON.parse(value) as { udp?: unknown; http?: unknown };
    if (typeof v.udp !== 'string') return { invalid: 'udp: missing' };
    return { id: key, udp: v.udp, http: String(v.http) };
  } catch {
    return { invalid: 'not JSON' };
  }
}

const info = (e: RouterRecordEntry): RouterInfo => {
  const parsed = parse(e.key, e.value);
  if ('invalid' in parsed) throw new Error(`fixture ${e.key} is invalid`);
  return parsed;
};

const snapshot = (...entries: RouterRecordEntry[]): RouterRegistrationEvent => ({ kind: 'snapshot', entries: entries.map(e => ({ ...e })) });
const put = (e: RouterRecordEntry): RouterRegistrationEvent => ({ kind: 'put', entry: { ...e } });
const del = (key: string): RouterRegistrationEvent => ({ kind: 'delete', key });
const set = (...entries: RouterRecordEntry[]): RouterInfo[] => entries.map(info);

const A = record('router-a', '10.0.0.1:3456');
const B = record('router-b', '10.0.0.2:3456');
const C = record('router-c', '10.0.0.3:3456');
const bMoved = record('router-b', '10.0.0.9:3456');

describe('routerSets', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  /** onInvalid calls, with the virtual time of each. */
  function invalidLog() {
    const calls: { at: number; key: string; reason: string }[] = [];
    return { calls, onInvalid: (key: string, reason: string) => calls.push({ at: testScheduler.now(), key, reason }) };
  }

  it('follows the registry as in the first diagram above', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('s---p---p---c---d---x---', { s: snapshot(A), p: put(B), c: put(bMoved), d: del(A.key), x: del('router-z') });
      expectObservable(routerSets(event$, { parse })).toBe('1---2-------3---4-------', { 1: set(A), 2: set(A, B), 3: set(A, bMoved), 4: set(bMoved) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('turns a snapshot into its routers, sorted by id', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--', { s: snapshot(C, A, B) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--', { 1: set(A, B, C) });
    });
  });

  it('emits the first set even when it is empty', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--r--', { s: snapshot(), r: snapshot() });
      expectObservable(routerSets(event$, { parse })).toBe('-1-----', { 1: [] });
    });
  });

  it('adds the router of a put', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--', { s: snapshot(A), p: put(B) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--2--', { 1: set(A), 2: set(A, B) });
    });
  });

  it('emits nothing for a put that repeats what is known', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--p--', { s: snapshot(A, B), p: put(B) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--------', { 1: set(A, B) });
    });
  });

  it('emits nothing for a put whose value is spelled differently but says the same', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const respelled: RouterRecordEntry = { key: A.key, value: JSON.stringify({ http: info(A).http, udp: info(A).udp, extra: 1 }) };
      const event$ = hot('-s--p--', { s: snapshot(A), p: put(respelled) });
      expectObservable(routerSets(event$, { parse })).toBe('-1-----', { 1: set(A) });
    });
  });

  it('follows a put that changes an address of a known router', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const httpMoved = record('router-a', '10.0.0.1:3456', '10.0.0.1:9999');
      const event$ = hot('-s--c--h--', { s: snapshot(A, B), c: put(bMoved), h: put(httpMoved) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--2--3--', { 1: set(A, B), 2: set(A, bMoved), 3: set(httpMoved, bMoved) });
    });
  });

  it('removes the router of a delete', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--d--d--', { s: snapshot(A, B), d: del(A.key) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--2-----', { 1: set(A, B), 2: set(B) });
    });
  });

  it('emits nothing for a delete of a key it does not know', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--d--', { s: snapshot(A), d: del('router-z') });
      expectObservable(routerSets(event$, { parse })).toBe('-1-----', { 1: set(A) });
    });
  });

  it('emits the empty set when the last router goes', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--d--', { s: snapshot(A), d: del(A.key) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--2--', { 1: set(A), 2: [] });
    });
  });

  it('emits nothing for a resync snapshot with the same routers, and replaces all with one that differs', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--r--t--', { s: snapshot(A, B), r: snapshot(B, A), t: snapshot(C) });
      expectObservable(routerSets(event$, { parse })).toBe('-1-----2--', { 1: set(A, B), 2: set(C) });
    });
  });

  it('leaves an invalid record out, reports it once across resyncs and repeated puts, and keeps the valid ones', () => {
    const log = invalidLog();
    testScheduler.run(({ hot, expectObservable }) => {
      const bad = broken('router-x');
      const event$ = hot('-s--r--p--', { s: snapshot(A, bad), r: snapshot(bad, A), p: put(bad) });
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid })).toBe('-1--------', { 1: set(A) });
    });
    expect(log.calls).toEqual([{ at: 1, key: 'router-x', reason: 'not JSON' }]);
  });

  it('emits nothing for an invalid put of a new key, but reports it', () => {
    const log = invalidLog();
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--', { s: snapshot(A), p: put(broken('router-x')) });
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid })).toBe('-1-----', { 1: set(A) });
    });
    expect(log.calls).toEqual([{ at: 4, key: 'router-x', reason: 'not JSON' }]);
  });

  it('reports an invalid record again when what is wrong with it changes', () => {
    const log = invalidLog();
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--q--', { s: snapshot(A, broken('router-x')), p: put(broken('router-x', '{}')), q: put(broken('router-x', '{"other":1}')) });
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid })).toBe('-1--------', { 1: set(A) });
    });
    expect(log.calls).toEqual([
      { at: 1, key: 'router-x', reason: 'not JSON' },
      { at: 4, key: 'router-x', reason: 'udp: missing' },
    ]);
  });

  it('takes a valid put in place of an invalid record, and reports the key again if it breaks later', () => {
    const log = invalidLog();
    testScheduler.run(({ hot, expectObservable }) => {
      const fixed = record('router-x', '10.0.0.7:3456');
      const event$ = hot('-s--f--b--', { s: snapshot(A, broken('router-x')), f: put(fixed), b: put(broken('router-x')) });
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid })).toBe('-1--2--3--', { 1: set(A), 2: set(A, fixed), 3: set(A) });
    });
    expect(log.calls).toEqual([
      { at: 1, key: 'router-x', reason: 'not JSON' },
      { at: 7, key: 'router-x', reason: 'not JSON' },
    ]);
  });

  it('drops a router whose record a put breaks', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--', { s: snapshot(A, B), p: put(broken(B.key)) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--2--', { 1: set(A, B), 2: set(A) });
    });
  });

  it('reports an invalid record again if it is deleted and put back broken, or a resync drops it and another brings it back', () => {
    const log = invalidLog();
    testScheduler.run(({ hot, expectObservable }) => {
      const bad = broken('router-x');
      const event$ = hot('-s--d--p--t--s--', { s: snapshot(A, bad), d: del(bad.key), p: put(bad), t: snapshot(A) });
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid })).toBe('-1--------------', { 1: set(A) });
    });
    expect(log.calls.map(c => c.at)).toEqual([1, 7, 13]);
  });

  it('parses a record once while its value does not change', () => {
    let parses = 0;
    const counting = (key: string, value: string) => {
      parses++;
      return parse(key, value);
    };
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--r--p--c--', { s: snapshot(A, B), r: snapshot(A, B), p: put(B), c: put(bMoved) });
      expectObservable(routerSets(event$, { parse: counting })).toBe('-1--------2--', { 1: set(A, B), 2: set(A, bMoved) });
    });
    expect(parses).toBe(3);
  });

  it('with batchMs, works out the set once per burst, from the latest state', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s-p-d-------p--', { s: snapshot(A), p: put(B), d: del(A.key) });
      // s, p and d fall in one window: one set, the state after d. The later put of the same
      // record opens a window but changes nothing, so nothing more is emitted.
      expectObservable(routerSets(event$, { parse, batchMs: 10, scheduler: testScheduler })).toBe('-----------1----', { 1: set(B) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('passes an error of the registry on, after the sets before it', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--p--#', { s: snapshot(A), p: put(B) }, new Error('etcd: connection lost'));
      expectObservable(routerSets(event$, { parse })).toBe('-1--2--#', { 1: set(A), 2: set(A, B) }, new Error('etcd: connection lost'));
      expectSubscriptions(event$.subscriptions).toBe('^------!');
    });
  });

  it('completes when the events complete', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--|', { s: snapshot(A) });
      expectObservable(routerSets(event$, { parse })).toBe('-1--|', { 1: set(A) });
      expectSubscriptions(event$.subscriptions).toBe('^---!');
    });
  });

  it('unsubscribes from the events when its subscriber leaves', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--p--', { s: snapshot(A), p: put(B) });
      expectObservable(routerSets(event$, { parse }), '^--!').toBe('-1--', { 1: set(A) });
      expectSubscriptions(event$.subscriptions).toBe('^--!');
    });
  });

  it('gives each subscription its own state: a second one gets the current set too', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const event$ = cold('-s--', { s: snapshot(A) });
      const sets$ = routerSets(event$, { parse });
      expectObservable(sets$).toBe('-1--', { 1: set(A) });
      expectObservable(sets$).toBe('-1--', { 1: set(A) });
    });
  });

  it('starts fresh when resubscribed after an error: the same set is emitted again, and invalid records reported again', () => {
    const log = invalidLog();
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const event$ = cold<RouterRegistrationEvent>('s--#', { s: snapshot(A, broken('router-x')) }, new Error('etcd: connection lost'));
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid }).pipe(retry(1))).toBe('1--1--#', { 1: set(A) }, new Error('etcd: connection lost'));
      expectSubscriptions(event$.subscriptions).toBe(['^--!', '---^--!']);
    });
    expect(log.calls.map(c => c.at)).toEqual([0, 3]);
  });

  it('keeps its set across a reconnect of the events (as routerDiscovery composes it): a same resync emits nothing', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      // The registry errors and is read again; the retry is around the events, not the sets.
      const attempts = [cold('s--#', { s: snapshot(A, B) }, new Error('etcd: connection lost')), cold('s--t--', { s: snapshot(B, A), t: snapshot(A) })];
      let n = 0;
      const event$ = new Observable<RouterRegistrationEvent>(subscriber => attempts[n++].subscribe(subscriber)).pipe(retry(1));
      expectObservable(routerSets(event$, { parse })).toBe('1-----2--', { 1: set(A, B), 2: set(A) });
    });
  });

  it('never errors on bad input: every record is either a router or reported', () => {
    const log = invalidLog();
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const bad = [broken('k1', ''), broken('k2', 'x'.repeat(100_000)), broken('k3', '{"udp":'), broken('k4', 'null'), broken('', '[]')];
      const event$ = hot('-s-abcde-|', { s: snapshot(A), a: put(bad[0]), b: put(bad[1]), c: put(bad[2]), d: put(bad[3]), e: put(bad[4]) });
      expectObservable(routerSets(event$, { parse, onInvalid: log.onInvalid })).toBe('-1-------|', { 1: set(A) });
      expectSubscriptions(event$.subscriptions).toBe('^--------!');
    });
    expect(log.calls.map(c => c.key)).toEqual(['k1', 'k2', 'k3', 'k4', '']);
  });
});
