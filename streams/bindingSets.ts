import { Observable, SchedulerLike, asyncScheduler, auditTime, defer, filter, map } from 'rxjs';
import { Binding, InvalidBinding, StoreEntry, parseStoreEntry } from './binding';

/**
 * What a binding store says, in the order it says it. A `snapshot` is the whole current set
 * (the first read, every resync after a reconnect, every read of the bindings file); `put` and
 * `delete` are the changes watched since. A file store can also report records it could not
 * even turn into entries (`invalid`).
 */
export type BindingStoreEvent =
  | { readonly kind: 'snapshot'; readonly entries: readonly StoreEntry[]; readonly invalid?: readonly InvalidBinding[] }
  | { readonly kind: 'put'; readonly entry: StoreEntry }
  | { readonly kind: 'delete'; readonly key: string };

/** The bindings to run now, and the records newly found invalid by this change. */
export interface BindingSet {
  readonly bindings: readonly Binding[];
  readonly invalid: readonly InvalidBinding[];
}

export interface BindingSetsOptions {
  /** Drains per app; past it the bindings seen last (in key order within a snapshot) are invalid. */
  readonly maxPerApp: number;
  /** When set, the set is worked out at most once per this many ms (the latest state then). */
  readonly batchMs?: number;
  readonly scheduler?: SchedulerLike;
}

interface State {
  /** Every record of the store, valid or not, by store key. */
  records: Map<string, StoredRecord>;
  /** Records seen so far: a record's number orders it for maxPerApp (first come, first run). */
  seen: number;
  /** Store-level problems of the latest snapshot (a file's malformed items), by key. */
  storeInvalid: Map<string, string>;
  /** Every problem reported so far, by key: a problem is reported once, not on every resync. */
  reported: Map<string, string>;
  set: BindingSet | undefined;
  /** The identity of the last emitted set, to emit only real changes. */
  signature: string;
}

/**
 * Binding store events → the current binding set, each time it changes. A snapshot replaces
 * everything known; put and delete change one record. Because the result is the whole set and
 * writers are run by diffing sets by key, a resync after a reconnect starts no duplicate writer:
 * what did not change keeps running. Invalid records are reported once each (again only if
 * their problem changes), and never stop the stream. When the store goes away, nothing is
 * emitted, so the last known set keeps running.
 */
export function bindingSets(event$: Observable<BindingStoreEvent>, opts: BindingSetsOptions): Observable<BindingSet> {
  // State per subscription: a resubscription (after a store error) starts from nothing.
  return defer(() => {
    const state: State = { records: new Map(), seen: 0, storeInvalid: new Map(), reported: new Map(), set: undefined, signature: '\0' };
    // Applying an event is cheap; working out the set is not (every record, sorted): with
    // batchMs it is done once per burst of changes (a platform restoring thousands of bindings).
    const applied$ = event$.pipe(map(event => apply(state, event)));
    const paced$ = opts.batchMs ? applied$.pipe(auditTime(opts.batchMs, opts.scheduler ?? asyncScheduler)) : applied$;
    return paced$.pipe(
      map(() => next(state, opts)),
      filter(s => s.set !== undefined),
      map(s => {
        const set = s.set as BindingSet;
        s.set = undefined;
        return set;
      }),
    );
  });
}

function apply(state: State, event: BindingStoreEvent): State {
  if (event.kind === 'snapshot') {
    const previous = state.records;
    // In key order, so that records new to this snapshot are numbered the same every time.
    const entries = [...event.entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    state.records = new Map(entries.map(entry => [entry.key, record(state, entry, previous.get(entry.key))]));
    state.storeInvalid = new Map((event.invalid ?? []).map(i => [i.key, i.reason]));
  } else if (event.kind === 'put') {
    state.records.set(event.entry.key, record(state, event.entry, state.records.get(event.entry.key)));
  } else {
    state.records.delete(event.key);
  }
  return state;
}

interface StoredRecord {
  readonly value: string;
  readonly result: ReturnType<typeof parseStoreEntry>;
  readonly order: number;
}

function record(state: State, entry: StoreEntry, previous: StoredRecord | undefined): StoredRecord {
  // Parsing is skipped for a record a resync brings back unchanged.
  if (previous !== undefined && previous.value === entry.value) return previous;
  return { value: entry.value, result: parseStoreEntry(entry), order: previous?.order ?? state.seen++ };
}

function next(state: State, opts: BindingSetsOptions): State {
  const problems = new Map(state.storeInvalid);
  const byKey = new Map<string, Binding>();
  const perApp = new Map<string, number>();
  // First come, first run: a new binding past maxPerApp is refused, never one already running.
  const byAge = [...state.records.entries()].sort(([, a], [, b]) => a.order - b.order);
  for (const [key, { result }] of byAge) {
    if (!result.ok) {
      problems.set(key, result.reason);
      continue;
    }
    const { binding } = result;
    if (byKey.has(binding.key)) continue; // the same URL bound twice to one app: one drain
    const count = perApp.get(binding.appId) ?? 0;
    if (count >= opts.maxPerApp) {
      problems.set(key, `app ${binding.appId} has ${opts.maxPerApp} drains already (bindings.maxPerApp)`);
      continue;
    }
    perApp.set(binding.appId, count + 1);
    byKey.set(binding.key, binding);
  }
  const invalid: InvalidBinding[] = [];
  for (const [key, reason] of problems) {
    if (state.reported.get(key) !== reason) invalid.push({ key, reason });
  }
  // Forget what was fixed or removed, so it is reported again if it comes back broken.
  state.reported = problems;
  const bindings = [...byKey.values()];
  const signature = bindings.map(b => b.key).sort().join('\n');
  if (signature !== state.signature || invalid.length > 0) {
    state.signature = signature;
    state.set = { bindings, invalid };
  }
  return state;
}
