// bindingSets: binding store events → the current binding set, emitted only when it changes
//
//   event$:   s---p---d---r---x---     s = snapshot {A}   p = put B   d = delete A
//                                      r = resync snapshot {B} (same as now)   x = put of a broken record X
//   out:      1---2---3-------4---     1 = {A}   2 = {A, B}   3 = {B}   4 = {B}, invalid [X]
//
// Downstream, runKeyed diffs the sets by key, so a resync that changes nothing starts no second
// writer, and a binding missing from a resync is stopped:
//
//   event$:   s---r---t---             s = snapshot {A, B}   r = same again   t = snapshot {A}
//   writer A: ^-----------             subscribed once
//   writer B: ^-------!                stopped by t
import { Observable, map, retry, takeUntil } from 'rxjs';
import { Binding, InvalidBinding, StoreEntry, bindingIdOf, parseStoreEntry } from '../../streams/binding';
import { BindingSet, BindingStoreEvent, bindingSets } from '../../streams/bindingSets';
import { runKeyed } from '../../streams/runKeyed';
import { newTestScheduler } from './fixtures';

function entry(appId: string, url: string, bindingId = bindingIdOf(url)): StoreEntry {
  return { key: `${appId}/${bindingId}`, value: JSON.stringify({ url }) };
}

function binding(e: StoreEntry): Binding {
  const result = parseStoreEntry(e);
  if (!result.ok) throw new Error(`fixture ${e.key} is invalid: ${result.reason}`);
  return result.binding;
}

const snapshot = (entries: StoreEntry[], invalid?: InvalidBinding[]): BindingStoreEvent => ({ kind: 'snapshot', entries: entries.map(e => ({ ...e })), invalid });
const put = (e: StoreEntry): BindingStoreEvent => ({ kind: 'put', entry: { ...e } });
const del = (e: StoreEntry): BindingStoreEvent => ({ kind: 'delete', key: e.key });
const set = (bindings: StoreEntry[], invalid: InvalidBinding[] = []): BindingSet => ({ bindings: bindings.map(binding), invalid });

// Store keys sort app-a/… < app-b/… < app-c/…, the order bindings come out in.
const A = entry('app-a', 'syslog://10.0.0.1:514');
const B = entry('app-b', 'syslog-tls://logs.example.com:6514');
const C = entry('app-c', 'https://user:secret@logs.example.com/drain?token=abc');
const broken: StoreEntry = { key: 'app-x/0000000000000001', value: JSON.stringify({ url: 'http://user:secret@logs.example.com/' }) };
const brokenReason = 'url: unsupported scheme "http" (use syslog://, syslog-tls:// or https://) (http://logs.example.com)';
const brokenReport: InvalidBinding = { key: broken.key, reason: brokenReason };

const opts = { maxPerApp: 5 };

describe('bindingSets', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('follows the store as in the diagram above', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('s---p---d---r---x---', { s: snapshot([A]), p: put(B), d: del(A), r: snapshot([B]), x: put(broken) });
      expectObservable(bindingSets(event$, opts)).toBe('1---2---3-------4---', { 1: set([A]), 2: set([A, B]), 3: set([B]), 4: set([B], [brokenReport]) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('turns a snapshot into the set of its bindings, in store key order', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s---', { s: snapshot([C, A, B]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1---', { 1: set([A, B, C]) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('with batchMs, works out the set once per burst of changes, from the latest state', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s-p-d-------p--', { s: snapshot([A]), p: put(B), d: del(A) });
      // s, p and d fall in one window: one set, the state after d. The later put of the same
      // value opens a window but changes nothing, so nothing more is emitted.
      expectObservable(bindingSets(event$, { ...opts, batchMs: 10, scheduler: testScheduler })).toBe('-----------1----', { 1: set([B]) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('turns an empty snapshot into the empty set', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s---', { s: snapshot([]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1---', { 1: set([]) });
    });
  });

  it('adds the binding of a put', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--p--', { s: snapshot([A]), p: put(B) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--', { 1: set([A]), 2: set([A, B]) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('removes the binding of a delete', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--d--', { s: snapshot([A, B]), d: del(A) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--', { 1: set([A, B]), 2: set([B]) });
      expectSubscriptions(event$.subscriptions).toBe('^');
    });
  });

  it('replaces everything known with a later snapshot', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--t--', { s: snapshot([A]), p: put(B), t: snapshot([C]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--3--', { 1: set([A]), 2: set([A, B]), 3: set([C]) });
    });
  });

  it('follows a put that changes the URL of a record', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const moved: StoreEntry = { key: A.key, value: JSON.stringify({ url: 'syslog://10.0.0.2:514' }) };
      const event$ = hot('-s--p--', { s: snapshot([A]), p: put(moved) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--', { 1: set([A]), 2: set([moved]) });
    });
  });

  it('emits nothing for a put that repeats a record', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--p--', { s: snapshot([A]), p: put(A) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--------', { 1: set([A]) });
    });
  });

  it('emits nothing for a delete of a record it does not know', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--d--', { s: snapshot([A]), d: del(B) });
      expectObservable(bindingSets(event$, opts)).toBe('-1-----', { 1: set([A]) });
    });
  });

  it('emits nothing for a resync snapshot with identical content', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--r--', { s: snapshot([A]), p: put(B), r: snapshot([B, A]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2-----', { 1: set([A]), 2: set([A, B]) });
    });
  });

  it('keeps each writer subscribed once across a resync with identical content, and stops one missing from a resync', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('s---r---t-------', { s: snapshot([A, B]), r: snapshot([A, B]), t: snapshot([A]) });
      const writers = { 'app-a': cold('-a-a-a-a-a-a-a-a'), 'app-b': cold('--b---b---b---b-') };
      const started: string[] = [];
      const out$ = runKeyed(bindingSets(event$, opts).pipe(map(s => s.bindings)), (b, stop$) => {
        started.push(b.appId);
        return writers[b.appId as 'app-a' | 'app-b'].pipe(takeUntil(stop$));
      });
      expectObservable(out$).toBe('-aba-aba-a-a-a-a');
      expectSubscriptions(writers['app-a'].subscriptions).toBe('^---------------');
      expectSubscriptions(writers['app-b'].subscriptions).toBe('^-------!-------');
      expectSubscriptions(event$.subscriptions).toBe('^');
      testScheduler.flush();
      expect(started).toEqual(['app-a', 'app-b']);
    });
  });

  it('treats one URL bound twice to one app as one binding', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const twice = entry('app-a', 'syslog://10.0.0.1:514', 'second-id');
      const event$ = hot('-s--', { s: snapshot([A, twice]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--', { 1: set([A]) });
    });
  });

  it('keeps a binding bound twice running when one of its records is deleted', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const twice = entry('app-a', 'syslog://10.0.0.1:514', 'second-id');
      const event$ = hot('-s--d--', { s: snapshot([A, twice]), d: del(A) });
      expectObservable(bindingSets(event$, opts)).toBe('-1-----', { 1: set([A]) });
    });
  });

  it('emits nothing when deleting one of two records of a binding only reorders the set', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      // Store key order: app-a/1 (U1), app-a/2 (U2), app-a/3 (U1 again). Deleting app-a/1 leaves
      // U2 (from app-a/2) and U1 (from app-a/3): the same two bindings.
      const u1 = entry('app-a', 'syslog://10.0.0.1:514', '1');
      const u2 = entry('app-a', 'syslog://10.0.0.2:514', '2');
      const u1Again = entry('app-a', 'syslog://10.0.0.1:514', '3');
      const event$ = hot('-s--d--', { s: snapshot([u1, u2, u1Again]), d: del(u1) });
      expectObservable(bindingSets(event$, opts)).toBe('-1-----', { 1: set([u1, u2]) });
    });
  });

  it('reports an invalid record once, across repeated snapshots, and keeps running the valid ones', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--s--s--', { s: snapshot([A, broken]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--------', { 1: set([A], [brokenReport]) });
    });
  });

  it('reports an invalid record once across a put of the same broken value', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--p--', { s: snapshot([A, broken]), p: put(broken) });
      expectObservable(bindingSets(event$, opts)).toBe('-1-----', { 1: set([A], [brokenReport]) });
    });
  });

  it('reports an invalid record again if it is deleted and put back broken', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--d--p--', { s: snapshot([A, broken]), d: del(broken), p: put(broken) });
      expectObservable(bindingSets(event$, opts)).toBe('-1-----2--', { 1: set([A], [brokenReport]), 2: set([A], [brokenReport]) });
    });
  });

  it('reports an invalid record again if a resync drops it and a later one brings it back', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const event$ = hot('-s--t--s--', { s: snapshot([A, broken]), t: snapshot([A]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1-----2--', { 1: set([A], [brokenReport]), 2: set([A], [brokenReport]) });
    });
  });

  it('reports an invalid record again when a put changes what is wrong with it', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const worse: StoreEntry = { key: broken.key, value: 'not json' };
      const event$ = hot('-s--p--', { s: snapshot([broken]), p: put(worse) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--', {
        1: set([], [brokenReport]),
        2: set([], [{ key: broken.key, reason: 'value: not JSON (expected {"url": "syslog://host:port"})' }]),
      });
    });
  });

  it('runs an invalid record once a put fixes it', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const fixed: StoreEntry = { key: broken.key, value: JSON.stringify({ url: 'syslog-tls://logs.example.com:6514' }) };
      const event$ = hot('-s--p--', { s: snapshot([A, broken]), p: put(fixed) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--', { 1: set([A], [brokenReport]), 2: set([A, fixed]) });
    });
  });

  it('runs the first maxPerApp bindings of an app by store key order, and reports the rest', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const [b1, b2, b3] = ['1', '2', '3'].map(id => entry('app-a', `syslog://10.0.0.${id}:514`, id));
      const event$ = hot('-s--', { s: snapshot([b3, B, b2, b1]) });
      expectObservable(bindingSets(event$, { maxPerApp: 2 })).toBe('-1--', {
        1: set([b1, b2, B], [{ key: 'app-a/3', reason: 'app app-a has 2 drains already (bindings.maxPerApp)' }]),
      });
    });
  });

  it('refuses a new binding past maxPerApp, never one already running, whatever its key', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const [b0, b1, b2] = ['0', '1', '2'].map(id => entry('app-a', `syslog://10.0.0.${id}:514`, id));
      // b0's key sorts first, but b1 and b2 were there before it.
      const event$ = hot('-s--p--r--', { s: snapshot([b1, b2]), p: put(b0), r: snapshot([b0, b1, b2]) });
      expectObservable(bindingSets(event$, { maxPerApp: 2 })).toBe('-1--2-----', {
        1: set([b1, b2]),
        2: set([b1, b2], [{ key: 'app-a/0', reason: 'app app-a has 2 drains already (bindings.maxPerApp)' }]),
      });
    });
  });

  it('runs a binding over maxPerApp once another of its app is deleted', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const [b1, b2, b3] = ['1', '2', '3'].map(id => entry('app-a', `syslog://10.0.0.${id}:514`, id));
      const event$ = hot('-s--d--', { s: snapshot([b1, b2, b3]), d: del(b1) });
      expectObservable(bindingSets(event$, { maxPerApp: 2 })).toBe('-1--2--', {
        1: set([b1, b2], [{ key: 'app-a/3', reason: 'app app-a has 2 drains already (bindings.maxPerApp)' }]),
        2: set([b2, b3]),
      });
    });
  });

  it('does not count a URL bound twice against maxPerApp', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const [b1, b2] = ['1', '2'].map(id => entry('app-a', `syslog://10.0.0.${id}:514`, id));
      const b1Again = entry('app-a', 'syslog://10.0.0.1:514', '1a');
      const event$ = hot('-s--', { s: snapshot([b1, b1Again, b2]) });
      expectObservable(bindingSets(event$, { maxPerApp: 2 })).toBe('-1--', { 1: set([b1, b2]) });
    });
  });

  it("passes a snapshot's store-level problems through once", () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const fileProblem: InvalidBinding = { key: 'bindings.json#3', reason: 'item 3: not an object' };
      const event$ = hot('-s--p--r--', { s: snapshot([A], [fileProblem]), p: put(B), r: snapshot([A, B], [fileProblem]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--2-----', { 1: set([A], [fileProblem]), 2: set([A, B]) });
    });
  });

  it('never errors on bad input', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const bad: StoreEntry[] = [
        { key: '', value: '' },
        { key: '/', value: '{}' },
        { key: 'app-a/ok', value: '' },
        { key: 'app-a/ok2', value: 'x'.repeat(100_000) },
        { key: 'app-a/ok3', value: '{"url":' },
        { key: 'app-a/ok4', value: JSON.stringify({ url: 'x'.repeat(3000) }) },
        { key: 'app-a/ok5', value: JSON.stringify({ url: '\u0000\uffff' }) },
        { key: 'app-a/ok6', value: '{"__proto__":{"url":"syslog://10.0.0.1:514"}}' },
      ];
      const event$ = hot('-s-abcdefgh-|', {
        s: snapshot([A]),
        a: put(bad[0]),
        b: put(bad[1]),
        c: put(bad[2]),
        d: put(bad[3]),
        e: put(bad[4]),
        f: put(bad[5]),
        g: put(bad[6]),
        h: put(bad[7]),
      });
      const reports = (i: number): BindingSet => {
        const result = parseStoreEntry(bad[i]);
        if (result.ok) throw new Error(`fixture ${i} is valid`);
        return set([A], [{ key: result.key, reason: result.reason }]);
      };
      expectObservable(bindingSets(event$, opts)).toBe('-1-abcdefgh-|', {
        1: set([A]),
        a: reports(0),
        b: reports(1),
        c: reports(2),
        d: reports(3),
        e: reports(4),
        f: reports(5),
        g: reports(6),
        h: reports(7),
      });
      expectSubscriptions(event$.subscriptions).toBe('^-----------!');
    });
  });

  it('passes an error of the store on (the caller retries), after the sets before it', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--p--#', { s: snapshot([A]), p: put(B) }, new Error('etcd: connection lost'));
      expectObservable(bindingSets(event$, opts)).toBe('-1--2--#', { 1: set([A]), 2: set([A, B]) }, new Error('etcd: connection lost'));
      expectSubscriptions(event$.subscriptions).toBe('^------!');
    });
  });

  it('emits nothing while the store is quiet, so the writers of the last set keep running', () => {
    testScheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--------------', { s: snapshot([A]) });
      const writer = cold('-a--a--a--a--a--');
      expectObservable(bindingSets(event$, opts)).toBe('-1--------------', { 1: set([A]) });
      const bindings$ = bindingSets(event$, opts).pipe(map(s => s.bindings));
      expectObservable(runKeyed(bindings$, (_b, stop$) => writer.pipe(takeUntil(stop$)))).toBe('--a--a--a--a--a-');
      expectSubscriptions(writer.subscriptions).toBe('-^--------------');
    });
  });

  it('completes when the store events complete', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot('-s--|', { s: snapshot([A]) });
      expectObservable(bindingSets(event$, opts)).toBe('-1--|', { 1: set([A]) });
      expectSubscriptions(event$.subscriptions).toBe('^---!');
    });
  });

  it('gives each subscriber its own state: a second subscription gets the current set too', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const event$ = cold('-s--', { s: snapshot([A]) });
      const sets$ = bindingSets(event$, opts);
      expectObservable(sets$).toBe('-1--', { 1: set([A]) });
      expectObservable(sets$).toBe('-1--', { 1: set([A]) });
    });
  });

  it('starts the writers again when the whole pipeline is resubscribed after a store error', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      // The store reconnects (a new subscription to event$) and reads the same snapshot again.
      const event$: Observable<BindingStoreEvent> = cold('s---#', { s: snapshot([A]) }, new Error('etcd: connection lost'));
      const writer = cold('-a-a-a-a-a-a');
      const out$ = runKeyed(bindingSets(event$, opts).pipe(map(s => s.bindings)), (_b, stop$) => writer.pipe(takeUntil(stop$))).pipe(retry(1));
      expectObservable(out$).toBe('-a-a-a-a#', undefined, new Error('etcd: connection lost'));
      expectSubscriptions(writer.subscriptions).toBe(['^---!', '----^---!']);
    });
  });
});
