import { Observable, Subject, defer, endWith, finalize, merge, mergeMap } from 'rxjs';

/** Anything run by `runKeyed`: its key is its identity. */
export interface Keyed {
  readonly key: string;
}

/**
 * Sets of keyed items (app instances, drain bindings) → the merged output of one stream per
 * item, started and stopped by diffing each set against the running one, keyed by identity. An
 * item present in consecutive sets keeps its stream: it is never interrupted by a change to
 * others (the 2014 deaagent restarted every reader on every change and lost lines). Removed
 * items are told to stop through their `stop$` and may finish what they hold (a last partial
 * line, a drain's queue) before completing; added ones start. When `set$` completes, every item
 * is stopped.
 *
 * `start` must complete its stream soon after `stop$` emits, and must not error: isolate its
 * failures inside (retry, catchError), so one item never ends the others.
 */
export function runKeyed<I extends Keyed, T>(
  set$: Observable<readonly I[]>,
  start: (item: I, stop$: Observable<void>) => Observable<T>,
  onChange?: (change: { readonly added: readonly I[]; readonly removed: readonly string[]; readonly running: number }) => void,
): Observable<T> {
  return defer(() => {
    const running = new Map<string, Subject<void>>();
    const stop = (key: string) => {
      const stop$ = running.get(key);
      running.delete(key);
      stop$?.next();
      stop$?.complete();
    };
    return set$.pipe(
      endWith([] as readonly I[]),
      mergeMap(items => {
        const wanted = new Set(items.map(i => i.key));
        const removed = [...running.keys()].filter(key => !wanted.has(key));
        removed.forEach(stop);
        const added = [...new Map(items.filter(i => !running.has(i.key)).map(i => [i.key, i])).values()];
        if (added.length > 0 || removed.length > 0) onChange?.({ added, removed, running: running.size + added.length });
        return merge(
          ...added.map(item => {
            const stop$ = new Subject<void>();
            running.set(item.key, stop$);
            return start(item, stop$.asObservable());
          }),
        );
      }),
      finalize(() => [...running.keys()].forEach(stop)),
    );
  });
}
