import { Observable, Subject, defer, endWith, finalize, merge, mergeMap } from 'rxjs';
import { Instance } from './instance';

/**
 * Instance sets → the merged output of one stream per running instance, started and stopped by
 * diffing each set against the running one, keyed by identity. An instance present in
 * consecutive sets keeps its stream: it is never interrupted by a change to other instances
 * (the 2014 deaagent restarted every reader on every change and lost lines). Removed instances
 * are told to stop through their `stop$` and may finish what they hold (a last partial line)
 * before completing; added ones start. When `set$` completes, every instance is stopped.
 *
 * `start` must complete its stream soon after `stop$` emits, and must not error: isolate its
 * failures inside (retry, catchError), so one instance never ends the others.
 */
export function runInstances<T>(
  set$: Observable<readonly Instance[]>,
  start: (instance: Instance, stop$: Observable<void>) => Observable<T>,
  onChange?: (change: { readonly added: readonly Instance[]; readonly removed: readonly string[]; readonly running: number }) => void,
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
      endWith([] as readonly Instance[]),
      mergeMap(instances => {
        const wanted = new Set(instances.map(i => i.key));
        const removed = [...running.keys()].filter(key => !wanted.has(key));
        removed.forEach(stop);
        const added = [...new Map(instances.filter(i => !running.has(i.key)).map(i => [i.key, i])).values()];
        if (added.length > 0 || removed.length > 0) onChange?.({ added, removed, running: running.size + added.length });
        return merge(
          ...added.map(instance => {
            const stop$ = new Subject<void>();
            running.set(instance.key, stop$);
            return start(instance, stop$.asObservable());
          }),
        );
      }),
      finalize(() => [...running.keys()].forEach(stop)),
    );
  });
}
