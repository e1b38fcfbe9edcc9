import { randomUUID } from 'node:crypto';
import { ClientRequest } from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import { Observable, Subscription } from 'rxjs';
import { backoffDelay } from '../../streams/backoff';
import { DrainBuffer } from '../../streams/drainBuffer';
import { DropReport } from '../../streams/dropNotices';
import { LogLine } from '../../streams/logLine';
import { describeDrainError, drainError } from './drainError';
import { DrainWriterContext } from './drainWriterContext';
import { queueLine } from './queueLine';
import { retryAfterMs } from '../http/retryAfter';

/** A refused batch is retried on these (and on 5xx and network errors); other answers are final. */
const RETRIED_4XX = new Set([408, 429]);

/**
 * An `https://` drain, as Heroku's HTTPS drains: batches of octet-counted RFC 5424 frames POSTed
 * with `Content-Type: application/logplex-1`, `Logplex-Msg-Count` (frames in the body) and
 * `Logplex-Frame-Id` (the same for every retry of a batch, so a receiver can drop duplicates).
 * One request at a time, in order. A 2xx delivers the batch; 408, 429, 5xx, a timeout or a
 * network error retries it after capped, jittered backoff (at least Retry-After, within the
 * cap); any other answer (3xx, 4xx) drops it, counted as rejected and told to the app.
 * A partial batch is posted after `flushMs`.
 */
export function httpsDrainWriter(line$: Observable<LogLine>, stop$: Observable<void>, ctx: DrainWriterContext): Observable<DropReport> {
  return new Observable<DropReport>(subscriber => {
    const { config: cfg, binding, counters, logger } = ctx;
    const log = { app: binding.appId, drain: binding.drain.name };
    const buffer = new DrainBuffer({ maxLines: cfg.maxQueuedLines, maxBytes: cfg.maxQueuedBytes, resendWindowMs: 0 });
    // One TLS context per drain (parsing the CAs costs milliseconds), one connection, kept alive.
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      secureContext: createSecureContext({ ca: ctx.tlsCa }),
      rejectUnauthorized: !cfg.tls.insecureSkipVerify,
    });
    let request: ClientRequest | undefined;
    let batchId = '';
    /** The batch that failed, by its first frame and size: a retry of exactly it keeps its id. */
    let failedFirst: Buffer | undefined;
    let failedCount = 0;
    let attempt = 0;
    let resendOwed = 0;
    let lastError = 'drain too slow';
    let stopping = false;
    let waitTimer: NodeJS.Timeout | undefined;
    let flushTimer: NodeJS.Timeout | undefined;
    let lines: Subscription | undefined;
    let stopSubscription: Subscription | undefined;

    const report = (count: number, reason: 'queue_full' | 'rejected' | 'unbound') => {
      if (count <= 0) return;
      counters.dropped(count, reason);
      subscriber.next({ count, reason: reason === 'unbound' ? `not flushed in ${cfg.flushSeconds} s after unbind (${lastError})` : lastError });
    };

    const finish = () => {
      if (subscriber.closed) return;
      report(buffer.waitingCount + buffer.unconfirmedCount, 'unbound');
      buffer.clear();
      subscriber.complete();
    };

    /** The next POST: now if a batch is full (or stopping), else after flushMs. */
    const schedule = () => {
      if (request !== undefined || waitTimer !== undefined || subscriber.closed) return;
      if (buffer.waitingCount === 0) {
        if (stopping) finish();
        return;
      }
      const delay = stopping || buffer.waitingCount >= cfg.https.batchLines ? 0 : cfg.https.flushMs;
      waitTimer = setTimeout(post, delay);
    };

    const post = () => {
      waitTimer = undefined;
      if (request !== undefined || subscriber.closed) return;
      // A retry sends exactly the failed batch (not lines that came meanwhile), so it keeps its id.
      const retry = failedFirst !== undefined && buffer.peekWaiting() === failedFirst;
      const frames = buffer.take(cfg.https.batchBytes, retry ? failedCount : cfg.https.batchLines, Date.now());
      if (frames.length === 0) return schedule();
      // A retry of the batch that failed (requeued at the head) keeps its id; anything else, new
      // lines or a batch cut short by drops, is a new batch.
      if (frames[0] !== failedFirst || frames.length !== failedCount) batchId = randomUUID();
      failedFirst = undefined;
      const body = Buffer.concat(frames);
      const req = https.request(binding.drain.url, {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/logplex-1',
          'Content-Length': body.length,
          'Logplex-Msg-Count': frames.length,
          'Logplex-Frame-Id': batchId,
          'User-Agent': 'loggregator-rx',
        },
      });
      request = req;
      req.setTimeout(cfg.https.timeoutMs, () => req.destroy(drainError('ERR_DRAIN_TIMEOUT', `no answer within ${cfg.https.timeoutMs} ms`)));
      req.on('response', res => {
        res.resume();
        res.on('end', () => answered(req, res.statusCode ?? 0, res.headers['retry-after']));
        res.on('error', err => failed(req, describeDrainError(err)));
      });
      req.on('error', err => failed(req, describeDrainError(err)));
      req.end(body);
    };

    const answered = (req: ClientRequest, status: number, retryAfter: string | string[] | undefined) => {
      if (request !== req) return;
      if (status >= 200 && status < 300) {
        request = undefined;
        attempt = 0;
        lastError = 'drain too slow';
        const n = buffer.confirmAll();
        const again = Math.min(resendOwed, n);
        resendOwed = 0;
        if (again > 0) counters.resent(again);
        if (n > again) counters.sent(n - again);
        return schedule();
      }
      if (status >= 500 || RETRIED_4XX.has(status)) return failed(req, `HTTP ${status}`, retryAfterMs(retryAfter));
      request = undefined;
      lastError = `HTTP ${status}: batch refused`;
      counters.failed();
      resendOwed = 0;
      logger.warn('drain refused a batch; it is dropped', { ...log, status });
      report(buffer.discardWritten(), 'rejected');
      schedule();
    };

    const failed = (req: ClientRequest, reason: string, retryAfter = 0) => {
      if (request !== req) return;
      request = undefined;
      lastError = reason;
      counters.failed();
      failedCount = buffer.unconfirmedCount;
      const { requeued, dropped } = buffer.requeue();
      failedFirst = dropped === 0 ? buffer.peekWaiting() : undefined;
      resendOwed = requeued;
      report(dropped, 'queue_full');
      if (subscriber.closed) return;
      attempt++;
      const delayMs = Math.min(cfg.reconnect.maxMs, Math.max(retryAfter, backoffDelay(attempt, { ...cfg.reconnect, jitter: 0.5 })));
      logger.warn('drain POST failed', { ...log, error: reason, attempt, retryInMs: delayMs, requeued });
      waitTimer = setTimeout(post, delayMs);
    };

    const stop = () => {
      if (stopping) return;
      stopping = true;
      lines?.unsubscribe();
      stopSubscription?.unsubscribe();
      flushTimer = setTimeout(finish, cfg.flushSeconds * 1000);
      // Post what is left now instead of after flushMs (a retry waiting for backoff keeps waiting).
      if (request === undefined && waitTimer !== undefined && resendOwed === 0) {
        clearTimeout(waitTimer);
        waitTimer = undefined;
      }
      schedule();
    };

    lines = line$.subscribe({
      next: line => {
        const dropped = queueLine(buffer, line, ctx, subscriber);
        if (dropped === undefined) return;
        // The oldest go first, and the frames of a batch waiting for its retry are the oldest.
        resendOwed = Math.max(0, resendOwed - dropped);
        report(dropped, 'queue_full');
        if (buffer.waitingCount >= cfg.https.batchLines && request === undefined && waitTimer !== undefined && resendOwed === 0) {
          clearTimeout(waitTimer);
          waitTimer = undefined;
        }
        schedule();
      },
      complete: () => stop(),
      error: () => stop(),
    });
    if (!stopping) stopSubscription = stop$.subscribe(() => stop());

    return () => {
      stopping = true;
      lines?.unsubscribe();
      stopSubscription?.unsubscribe();
      clearTimeout(waitTimer);
      clearTimeout(flushTimer);
      request?.destroy();
      request = undefined;
      agent.destroy();
    };
  });
}
