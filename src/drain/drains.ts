import { EMPTY, Observable, ReplaySubject, catchError, defer, finalize, ignoreElements, map, retry, take, takeUntil, tap, timer } from 'rxjs';
import { backoffDelay } from '../../streams/backoff';
import { Binding } from '../../streams/binding';
import { BindingSet } from '../../streams/bindingSets';
import { dropNotices } from '../../streams/dropNotices';
import { redactKey } from '../../streams/drainUrl';
import { LogLine } from '../../streams/logLine';
import { routerNotice } from '../../streams/routerNotice';
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
  /** Puts a line from the router itself into its app's log stream (recent, tail, drains). */
  readonly publish: (envelope: Envelope) => void;
  readonly frameOf: (line: LogLine) => Buffer;
  readonly tlsCa: (string | Buffer)[] | undefined;
  readonly metrics: DrainMetrics;
  readonly logger: Logger;
}

/**
 * Binding sets → one writer per binding, each subscribed to its app's lines and isolated from
 * every other: a writer that fails is logged and started again after a backoff, alone. Writers are run by key, so a
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
  // The router's drain notices, so that every writer can tell them from the app's own lines.
  const notices = new WeakSet<Envelope>();
  return runKeyed(bindings$, (binding, stop$) => drain(binding, stop$, deps, notices), change =>
    logger.info('drains changed', {
      added: change.added.map(b => `${b.appId} ${b.drain.name}`),
      removed: change.removed.length,
      running: change.running,
    }),
  ).pipe(ignoreElements());
}

function drain(binding: Binding, stop$: Observable<void>, deps: DrainsDeps, notices: WeakSet<Envelope>): Observable<never> {
  const { config, logger } = deps;
  const name = binding.drain.name;
  const counters = deps.metrics.forDrain(binding.appId, name);
  // A notice is queued by a drain only while it has room: in a full queue (a dead drain) it
  // would push out an app line, and that drop would call for the next notice, for ever (or, with
  // two dead drains, each would feed the other).
  const ctx = { binding, config, frameOf: deps.frameOf, tlsCa: deps.tlsCa, counters, logger, isNotice: (line: LogLine) => notices.has(line.envelope) };
  const writer = binding.drain.scheme === 'https' ? httpsDrainWriter : streamDrainWriter;
  // A writer handles its own failures; should one throw all the same (a bug), it is started
  // again after a backoff, not left dead while its binding stands.
  // The stop is remembered, so that a writer started again after it still hears it.
  const stopped$ = new ReplaySubject<void>(1);
  const stopping = stop$.pipe(take(1)).subscribe(stopped$);
  const written$ = defer(() => writer(deps.appLines(binding.appId), stopped$, ctx)).pipe(
    retry({
      delay: (err, attempt) => {
        const delayMs = backoffDelay(attempt, { ...config.reconnect, jitter: 0.5 });
        logger.error('drain writer failed; starting it again', { app: binding.appId, drain: name, error: String(err), retryInMs: delayMs });
        return timer(delayMs).pipe(takeUntil(stopped$));
      },
    }),
    finalize(() => stopping.unsubscribe()),
  );
  return dropNotices(written$, { intervalMs: config.noticeIntervalSeconds * 1000 }).pipe(
    tap(summary => {
      const message = `drain ${name}: ${summary.count.toLocaleString('en-US')} messages dropped since ${new Date(summary.sinceMs).toISOString()}: ${summary.reason}`;
      logger.warn('drain dropped lines', { app: binding.appId, drain: name, dropped: summary.count, reason: summary.reason });
      // Known as a notice before it is published: publishing reaches every drain at once.
      const { envelope } = routerNotice(binding.appId, message, Date.now());
      notices.add(envelope);
      deps.publish(envelope);
    }),
    ignoreElements(),
    catchError(err => {
      logger.error('drain failed; it is stopped', { app: binding.appId, drain: name, error: String(err) });
      return EMPTY;
    }),
    finalize(() => counters.release()),
  );
}
