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

/** A record that is not a router: `invalid` says why; the parser may add more (a label). */
export interface InvalidRecord {
  readonly invalid: string;
}

export interface RouterSetsOptions<I extends InvalidRecord = InvalidRecord> {
  /** A record → the router it registers, or why it cannot be one. Must not throw. */
  readonly parse: (key: string, value: string) => RouterInfo | I;
  /** Hears each invalid record once (again only if what is wrong with it changes), with what parse said. */
  readonly onInvalid?: (key: string, reason: string, record: I) => void;
  /** When set, the set is worked out at most once per this many ms (the latest state then). */
  readonly batchMs?: number;
  readonly scheduler?: SchedulerLike;
}

interface StoredRecord<I extends InvalidRecord> {
  readonly value: string;
  readonly result: RouterInfo | I;
}

interface State<I extends InvalidRecord> {
  /** Every record, valid or not, by key. */
  records: Map<string, StoredRecord<I>>;
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
export function routerSets<I extends InvalidRecord = InvalidRecord>(event$: Observable<RouterRegistrationEvent>, opts: RouterSetsOptions<I>): Observable<readonly RouterInfo[]> {
  return defer(() => {
    const state: State<I> = { records: new Map(), reported: new Map(), signature: undefined };
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

function apply<I extends InvalidRecord>(state: State<I>, event: RouterRegistrationEvent, opts: RouterSetsOptions<I>): State<I> {
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

function record<I extends InvalidRecord>(entry: RouterRecordEntry, previous: StoredRecord<I> | undefined, opts: RouterSetsOptions<I>): StoredRecord<I> {
  // A record that a resync (or a repeated put) brings back unchanged is not parsed again.
  if (previous !== undefined && previous.value === entry.value) return previous;
  return { value: entry.value, result: opts.parse(entry.key, entry.value) };
}

/** The set to emit now, or undefined when it is the one emitted last. Reports new problems. */
function next<I extends InvalidRecord>(state: State<I>, opts: RouterSetsOptions<I>): readonly RouterInfo[] | undefined {
  const routers: RouterInfo[] = [];
  const problems = new Map<string, I>();
  for (const [key, { result }] of state.records) {
    if ('invalid' in result) problems.set(key, result);
    else routers.push(result);
  }
  for (const [key, problem] of problems) {
    if (state.reported.get(key) !== problem.invalid) opts.onInvalid?.(key, problem.invalid, problem);
  }
  // Forget what was fixed or removed, so it is reported again if it comes back broken.
  state.reported = new Map([...problems].map(([key, problem]) => [key, problem.invalid]));
  routers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const signature = JSON.stringify(routers.map(r => [r.id, r.udp, r.http ?? null]));
  if (signature === state.signature) return undefined;
  state.signature = signature;
  return routers;
}
