import net from 'node:net';
import tls from 'node:tls';
import { Observable, Subscription } from 'rxjs';
import { backoffDelay } from '../../streams/backoff';
import { DrainBuffer } from '../../streams/drainBuffer';
import { DropReport } from '../../streams/dropNotices';
import { LogLine } from '../../streams/logLine';
import { describeDrainError, drainError } from './drainError';
import { DrainWriterContext } from './drainWriterContext';
import { queueLine } from './queueLine';

/** Bytes handed to the socket per write at most: large enough to amortise the syscall. */
const WRITE_CHUNK_BYTES = 64 * 1024;
/**
 * Lines are gathered for this long (or until a chunk's worth waits) before a write: under load
 * an event-loop turn brings only a few datagrams, and a syscall per few lines was most of a
 * drain's cost. A drain is not a live tail; 10 ms is not noticed.
 */
const GATHER_MS = 10;
/** How often written frames are confirmed and a stalled connection looked for. */
const TICK_MS = 100;
/** A connection that stays up this long resets the backoff (one that closes at once does not). */
const STABLE_CONNECTION_MS = 5000;

/**
 * A `syslog://` (TCP) or `syslog-tls://` (TLS, RFC 5425) drain: the app's lines as RFC 6587
 * octet-counted RFC 5424 frames, over one connection at a time.
 *
 * Lines wait in the drain's own bounded buffer and are written only while the socket has room,
 * so a slow or dead receiver costs this drain its buffer and nothing else: ingest, tail and
 * other drains never wait for it. The connection is made again after any failure (refused,
 * reset, name lookup, TLS handshake, connect timeout, a receiver that accepts but stops reading)
 * with capped, jittered exponential backoff; frames written shortly before a break are resent.
 * Emits a report for every batch of dropped lines (with the last failure as the reason) and
 * completes once `stop$` emitted (or `line$` completed) and what it held was flushed, or when
 * `flushSeconds` ran out.
 */
export function streamDrainWriter(line$: Observable<LogLine>, stop$: Observable<void>, ctx: DrainWriterContext): Observable<DropReport> {
  return new Observable<DropReport>(subscriber => {
    const { config: cfg, binding, counters, logger } = ctx;
    const target = binding.drain;
    const log = { app: binding.appId, drain: target.name };
    // Made once per drain, not per connection: parsing a few hundred CAs costs milliseconds.
    const secureContext = target.scheme === 'syslog-tls' ? tls.createSecureContext({ ca: ctx.tlsCa }) : undefined;
    const buffer = new DrainBuffer({
      maxLines: cfg.maxQueuedLines,
      maxBytes: cfg.maxQueuedBytes,
      resendWindowMs: cfg.resendWindowMs,
      keepBytes: cfg.resendBytes,
    });
    let socket: net.Socket | undefined;
    let connected = false;
    let attempt = 0;
    let connectedAtMs = 0;
    let lastProgressMs = 0;
    let resendOwed = 0;
    let lastError = 'drain too slow';
    let stopping = false;
    let pumpQueued = false;
    let gatherTimer: NodeJS.Timeout | undefined;
    let reconnectTimer: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let flushTimer: NodeJS.Timeout | undefined;
    let lines: Subscription | undefined;
    let stopSubscription: Subscription | undefined;

    const report = (count: number, reason: 'queue_full' | 'unbound') => {
      if (count <= 0) return;
      counters.dropped(count, reason);
      subscriber.next({ count, reason: reason === 'unbound' ? `not flushed in ${cfg.flushSeconds} s after unbind (${lastError})` : lastError });
    };

    const finish = () => {
      if (subscriber.closed) return;
      // Lost with the connection: what waits, and what the socket still holds unsent.
      report(buffer.waitingCount + buffer.newestWrittenWithin(socket?.writableLength ?? 0), 'unbound');
      buffer.clear();
      subscriber.complete();
    };

    const pump = () => {
      pumpQueued = false;
      clearTimeout(gatherTimer);
      gatherTimer = undefined;
      const sock = socket;
      if (!connected || sock === undefined) return;
      while (buffer.waitingCount > 0 && !sock.writableNeedDrain) {
        const now = Date.now();
        const frames = buffer.take(WRITE_CHUNK_BYTES, Infinity, now);
        const again = Math.min(resendOwed, frames.length);
        resendOwed -= again;
        if (again > 0) counters.resent(again);
        if (frames.length > again) counters.sent(frames.length - again);
        sock.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
        lastProgressMs = now;
      }
      if (stopping && buffer.waitingCount === 0) {
        // Everything is handed over: end cleanly, complete once the kernel has it all.
        connected = false;
        sock.end(() => finish());
      }
    };

    // Lines arrive one at a time: they are written a chunk at a time, or after GATHER_MS.
    const schedulePump = () => {
      if (pumpQueued || !connected) return;
      // At once when a chunk's worth waits, or the queue is half full (a small queue must not
      // overflow while lines are being gathered).
      if (buffer.waitingBytes >= WRITE_CHUNK_BYTES || buffer.waitingCount * 2 >= cfg.maxQueuedLines || buffer.waitingBytes * 2 >= cfg.maxQueuedBytes) {
        pumpQueued = true;
        setImmediate(pump);
      } else {
        gatherTimer ??= setTimeout(pump, GATHER_MS);
      }
    };

    const connect = () => {
      reconnectTimer = undefined;
      const sock =
        target.scheme === 'syslog-tls'
          ? tls.connect({
              host: target.host,
              port: target.port,
              servername: net.isIP(target.host) === 0 ? target.host : undefined,
              secureContext,
              rejectUnauthorized: !cfg.tls.insecureSkipVerify,
            })
          : net.connect({ host: target.host, port: target.port });
      socket = sock;
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 30_000);
      connectTimer = setTimeout(() => sock.destroy(drainError('ERR_DRAIN_CONNECT_TIMEOUT', `no connection within ${cfg.connectTimeoutMs} ms`)), cfg.connectTimeoutMs);
      sock.once(target.scheme === 'syslog-tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(connectTimer);
        connected = true;
        // Drops from now on are for want of speed, not for the failure that was.
        lastError = 'drain too slow';
        connectedAtMs = lastProgressMs = Date.now();
        logger.info('drain connected', { ...log, attempt });
        pump();
      });
      sock.on('drain', () => {
        lastProgressMs = Date.now();
        pump();
      });
      // Syslog receivers do not talk back; whatever comes is read and discarded.
      sock.on('data', () => undefined);
      sock.on('end', () => sock.destroy(drainError('ERR_DRAIN_CLOSED', 'the receiver closed the connection')));
      sock.on('error', err => {
        lastError = describeDrainError(err);
      });
      sock.on('close', () => onClose(sock));
    };

    const onClose = (sock: net.Socket) => {
      clearTimeout(connectTimer);
      if (socket !== sock) return;
      socket = undefined;
      connected = false;
      // Owed a rewrite: what was written on this connection, and what earlier ones left unwritten.
      const written = buffer.unconfirmedCount;
      const { requeued, dropped } = buffer.requeue();
      resendOwed = Math.max(0, resendOwed + written - dropped);
      report(dropped, 'queue_full');
      if (subscriber.closed) return;
      counters.failed();
      attempt++;
      const delayMs = backoffDelay(attempt, { ...cfg.reconnect, jitter: 0.5 });
      logger.warn('drain connection failed', { ...log, error: lastError, attempt, retryInMs: delayMs, requeued });
      reconnectTimer = setTimeout(connect, delayMs);
    };

    // Written frames old enough count as delivered; a connection that does not drain is stalled.
    const tick = setInterval(() => {
      const now = Date.now();
      if (!connected || socket === undefined) return;
      if (socket.writableLength === 0) buffer.confirmOlderThan(now);
      else if (now - lastProgressMs > cfg.stallTimeoutMs) {
        socket.destroy(drainError('ERR_DRAIN_STALLED', `nothing written for ${cfg.stallTimeoutMs} ms`));
        return;
      }
      if (attempt > 0 && now - connectedAtMs > STABLE_CONNECTION_MS) attempt = 0;
    }, TICK_MS);

    const stop = () => {
      if (stopping) return;
      stopping = true;
      lines?.unsubscribe();
      stopSubscription?.unsubscribe();
      if (buffer.waitingCount === 0 && !connected) return finish();
      flushTimer = setTimeout(finish, cfg.flushSeconds * 1000);
      if (connected) pump();
    };

    lines = line$.subscribe({
      next: line => {
        const dropped = queueLine(buffer, line, ctx, subscriber);
        if (dropped === undefined) return;
        // The oldest go first, and the frames owed a rewrite are the oldest.
        resendOwed = Math.max(0, resendOwed - dropped);
        report(dropped, 'queue_full');
        schedulePump();
      },
      complete: () => stop(),
      // An app's line stream does not fail; if it did, this drain still flushes what it holds.
      error: () => stop(),
    });
    if (!stopping) stopSubscription = stop$.subscribe(() => stop());
    if (!stopping) connect();

    return () => {
      stopping = true;
      lines?.unsubscribe();
      stopSubscription?.unsubscribe();
      clearInterval(tick);
      clearTimeout(reconnectTimer);
      clearTimeout(connectTimer);
      clearTimeout(flushTimer);
      clearTimeout(gatherTimer);
      socket?.destroy();
      socket = undefined;
    };
  });
}
