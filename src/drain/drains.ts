import { EMPTY, Observable, catchError, filter, finalize, ignoreElements, map, tap } from 'rxjs';
import { Binding } from '../../streams/binding';
import { BindingSet } from '../../streams/bindingSets';
import { dropNotices } from '../../streams/dropNotices';
import { redactKey } from '../../streams/drainUrl';
import { LogLine } from '../../streams/logLine';
import { runKeyed } from '../../streams/runKeyed';
import { DrainConfig } from '../config/loadConfig';
import { Envelope } from '../envelope/envelope';
import { Logger } from '../logger';
import { DrainMetrics } from './drainMetrics';
import { httpsDrainWriter } from './httpsDrainWriter';
import { streamDrainWriter } from './streamDrainWriter';

export interface DrainsDeps {
  readonly config: DrainConfig;
  /** An app's live lines (hot: from subscription on). */
  readonly appLines: (appId: string) => Observable<LogLine>;
  /** Puts a line from the router itself into the app's log stream (recent, tail, drains); returns it. */
  readonly notify: (appId: string, message: string) => Envelope;
  readonly frameOf: (line: LogLine) => Buffer;
  readonly tlsCa: (string | Buffer)[] | undefined;
  readonly metrics: DrainMetrics;
  readonly logger: Logger;
}

/**
 * Binding sets → one writer per binding, each subscribed to its app's lines and isolated from
 * every other: a writer that fails is logged and ends alone. Writers are run by key, so a
 * binding that stays bound keeps its writer (and its queue) across any change to others; an
 * unbound one flushes for at most `flushSeconds`. Lines a drain drops are told to the app in its
 * own log stream, at most once per drain per `noticeIntervalSeconds`. Completes when `set$` has
 * completed and every writer has flushed.
 */
export function runDrains(set$: Observable<BindingSet>, deps: DrainsDeps): Observable<never> {
  const { logger, metrics } = deps;
  const bindings$ = set$.pipe(
    tap(set => {
      for (const invalid of set.invalid) {
        metrics.bindingsInvalid.inc();
        logger.warn('binding ignored', { key: redactKey(invalid.key), reason: invalid.reason });
      }
    }),
    map(set => set.bindings),
  );
  return runKeyed(bindings$, (binding, stop$) => drain(binding, stop$, deps), change =>
    logger.info('drains changed', {
      added: change.added.map(b => `${b.appId} ${b.drain.name}`),
      removed: change.removed.length,
      running: change.running,
    }),
  ).pipe(ignoreElements());
}

function drain(binding: Binding, stop$: Observable<void>, deps: DrainsDeps): Observable<never> {
  const { config, logger } = deps;
  const name = binding.drain.name;
  const counters = deps.metrics.forDrain(binding.appId, name);
  const ctx = { binding, config, frameOf: deps.frameOf, tlsCa: deps.tlsCa, counters, logger };
  const writer = binding.drain.scheme === 'https' ? httpsDrainWriter : streamDrainWriter;
  // A drain's own drop notices go to the app's stream but not into the drain itself: into a
  // dead drain's full queue each would drop a line and call for the next, for ever.
  const ownNotices = new WeakSet<Envelope>();
  const line$ = deps.appLines(binding.appId).pipe(filter(line => !ownNotices.has(line.envelope)));
  return dropNotices(writer(line$, stop$, ctx), { intervalMs: config.noticeIntervalSeconds * 1000 }).pipe(
    tap(summary => {
      const message = `drain ${name}: ${summary.count.toLocaleString('en-US')} messages dropped since ${new Date(summary.sinceMs).toISOString()}: ${summary.reason}`;
      logger.warn('drain dropped lines', { app: binding.appId, drain: name, dropped: summary.count, reason: summary.reason });
      ownNotices.add(deps.notify(binding.appId, message));
    }),
    ignoreElements(),
    catchError(err => {
      logger.error('drain writer failed; it is stopped', { app: binding.appId, drain: name, error: String(err) });
      return EMPTY;
    }),
    finalize(() => counters.release()),
  );
}
