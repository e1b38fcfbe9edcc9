import { Observable, SchedulerLike, asyncScheduler, auditTime, defer, filter, map } from 'rxjs';
import { RouterInfo } from './routerInfo';

/** One router record: its key with the registration prefix taken off (the router id), and its value. */
export interface RouterRecordEntry {
  readonly key: string;
  readonly value: string;
}

/**
 * What the router registry says, in the order it says it: a `snapshot` is every record now (the
 * first read, and each resync after a reconnect); `put` and `delete` are changes watched since.
 * The same shape as src/etcd/prefixEvents.ts's PrefixEvent, so its output passes straight in.
 */
export type RouterRegistrationEvent =
  | { readonly kind: 'snapshot'; readonly entries: readonly RouterRecordEntry[] }
  | { readonly kind: 'put'; readonly entry: RouterRecordEntry }
  | { readonly kind: 'delete'; readonly key: string };

export interface RouterSetsOptions {
  /** A record → the router it registers, or why it cannot be one. Must not throw. */
  readonly parse: (key: string, value: string) => RouterInfo | { readonly invalid: string };
  /** Hears each invalid record once (again only if what is wrong with it changes). */
  readonly onInvalid?: (key: string, reason: string) => void;
  /** When set, the set is worked out at most once per this many ms (the latest state then). */
  readonly batchMs?: number;
  readonly scheduler?: SchedulerLike;
}

interface StoredRecord {
  readonly value: string;
  readonly result: RouterInfo | { readonly invalid: string };
}

interface State {
  /** Every record, valid or not, by key. */
  records: Map<string, StoredRecord>;
  /** Problems reported so far, by key: each is reported once, not on every resync. */
  reported: Map<string, string>;
  /** The identity of the last emitted set; undefined before the first, so an empty first set is emitted. */
  signature: string | undefined;
}

/**
 * Router registration events → the current set of routers (sorted by id), each time it
 * changes. A snapshot replaces everything known; put and delete change one record. The first set
 * is emitted even when empty (a consumer learns there is no router yet); after it, only a real
 * change is: a resync or a put that repeats what is known emits nothing. An invalid record is
 * left out of the set and reported once through `onInvalid`; a later valid put for its key
 * takes its place. Errors and completion of `event$` pass through: the caller resubscribes
 * `event$` (not this) to keep the known set across a reconnect.
 *
 *   event$:  s-----p-----p-----d-----     s = snapshot {a}   p = put b (twice)   d = delete a
 *   out:     1-----2-----------3-----     1 = [a]   2 = [a, b]   3 = [b]
 *
 * Cold: each subscription has its own state, from nothing.
 */
export function routerSets(event$: Observable<RouterRegistrationEvent>, opts: RouterSetsOptions): Observable<readonly RouterInfo[]> {
  return defer(() => {
    const state: State = { records: new Map(), reported: new Map(), signature: undefined };
    const applied$ = event$.pipe(map(event => apply(state, event, opts)));
    // Applying an event is cheap; the whole set (every record, sorted) less so: with batchMs it
    // is worked out once per burst (a cluster of routers all re-registering after an etcd outage).
    const paced$ = opts.batchMs ? applied$.pipe(auditTime(opts.batchMs, opts.scheduler ?? asyncScheduler)) : applied$;
    return paced$.pipe(
      map(() => next(state, opts)),
      filter((set): set is readonly RouterInfo[] => set !== undefined),
    );
  });
}

function apply(state: State, event: RouterRegistrationEvent, opts: RouterSetsOptions): State {
  if (event.kind === 'snapshot') {
    const previous = state.records;
    state.records = new Map(event.entries.map(entry => [entry.key, record(entry, previous.get(entry.key), opts)]));
  } else if (event.kind === 'put') {
    state.records.set(event.entry.key, record(event.entry, state.records.get(event.entry.key), opts));
  } else {
    state.records.delete(event.key);
  }
  return state;
}

function record(entry: RouterRecordEntry, previous: StoredRecord | undefined, opts: RouterSetsOptions): StoredRecord {
  // A record that a resync (or a repeated put) brings back unchanged is not parsed again.
  if (previous !== undefined && previous.value === entry.value) return previous;
  return { value: entry.value, result: opts.parse(entry.key, entry.value) };
}

/** The set to emit now, or undefined when it is the one emitted last. Reports new problems. */
function next(state: State, opts: RouterSetsOptions): readonly RouterInfo[] | undefined {
  const routers: RouterInfo[] = [];
  const problems = new Map<string, string>();
  for (const [key, { result }] of state.records) {
    if ('invalid' in result) problems.set(key, result.invalid);
    else routers.push(result);
  }
  for (const [key, reason] of problems) {
    if (state.reported.get(key) !== reason) opts.onInvalid?.(key, reason);
  }
  // Forget what was fixed or removed, so it is reported again if it comes back broken.
  state.reported = problems;
  routers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const signature = JSON.stringify(routers.map(r => [r.id, r.udp, r.http ?? null]));
  if (signature === state.signature) return undefined;
  state.signature = signature;
  return routers;
}
