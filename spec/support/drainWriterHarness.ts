// Runs one drain writer (streamDrainWriter, httpsDrainWriter) directly, the way runDrains does,
// with everything it is given in the test's hands:
//
//   const run = teardown.add(startWriter(streamDrainWriter, { url: `syslog://127.0.0.1:${port}` }), r => r.unsubscribe());
//   run.push(numbered('my-app', 100));      lines in, as the app's channel would deliver them
//   run.stop();                              unbind: flush, then complete
//   await run.done;                          completion (rejects if the writer errored)
//   run.reports, await run.metric(...)       what it said it dropped, and its counters
//   run.logs                                 what it logged (captured, never printed)
//
// The config is the default router.drains with QUICK_DRAIN and the test's overrides; frames are the router's own
// (RFC 5424, octet counted) with the hostname DRAIN_HOST; metrics live in a registry of the run's own.
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { Observable, Subject, Subscription } from 'rxjs';
import winston from 'winston';
import { DrainConfig, loadConfig } from '../../src/config/loadConfig';
import { DrainMetrics } from '../../src/drain/drainMetrics';
import { DrainWriterContext } from '../../src/drain/drainWriterContext';
import { Envelope } from '../../src/envelope/envelope';
import { ReceivedFrame } from './syslogReceiver';
import { encodeSyslogMessage, octetCounted } from '../../src/envelope/rfc5424';
import { bindingKey } from '../../streams/binding';
import { DropReport } from '../../streams/dropNotices';
import { parseDrainUrl } from '../../streams/drainUrl';
import { LogLine } from '../../streams/logLine';

/** The HOSTNAME every frame of these specs carries. */
export const DRAIN_HOST = 'drain-spec-host';

export type DrainWriter = (line$: Observable<LogLine>, stop$: Observable<void>, ctx: DrainWriterContext) => Observable<DropReport>;

/** Overrides of router.drains; the nested objects are merged key by key. */
export type DrainOverrides = Partial<Omit<DrainConfig, 'reconnect' | 'tls' | 'https'>> & {
  readonly reconnect?: Partial<DrainConfig['reconnect']>;
  readonly tls?: Partial<DrainConfig['tls']>;
  readonly https?: Partial<DrainConfig['https']>;
};

export interface WriterOptions {
  readonly url: string;
  readonly appId?: string;
  /** Applied over QUICK_DRAIN. */
  readonly config?: DrainOverrides;
  readonly tlsCa?: (string | Buffer)[];
}

/** Small, quick settings for specs: backoff in tens of ms, stalls and flushes within a second or so. */
export const QUICK_DRAIN: DrainOverrides = {
  reconnect: { initialMs: 20, maxMs: 200 },
  flushSeconds: 1,
  noticeIntervalSeconds: 1,
  stallTimeoutMs: 500,
  connectTimeoutMs: 2000,
};

/** The default router.drains with each layer of overrides applied in turn. */
export function drainConfig(...layers: (DrainOverrides | undefined)[]): DrainConfig {
  let config = loadConfig({ env: {} }).router.drains;
  for (const o of layers) {
    if (o === undefined) continue;
    config = {
      ...config,
      ...o,
      reconnect: { ...config.reconnect, ...o.reconnect },
      tls: { ...config.tls, ...o.tls },
      https: { ...config.https, ...o.https },
    };
  }
  return config;
}

/** A winston logger whose JSON lines are kept in `lines` and printed nowhere. */
export function captureLogger(level = 'debug'): { readonly logger: winston.Logger; readonly lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(chunk.toString().trimEnd());
      callback();
    },
  });
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

export class WriterRun {
  readonly line$ = new Subject<LogLine>();
  readonly stop$ = new Subject<void>();
  readonly reports: DropReport[] = [];
  readonly logs: string[];
  readonly registry = new Registry();
  readonly config: DrainConfig;
  readonly drainName: string;
  completed = false;
  error: unknown;
  readonly done: Promise<void>;
  private readonly subscription: Subscription;
  private seq = 0;

  constructor(writer: DrainWriter, opts: WriterOptions) {
    const parsed = parseDrainUrl(opts.url);
    if (!parsed.ok) throw new Error(`not a drain URL: ${opts.url}: ${parsed.reason}`);
    const appId = opts.appId ?? 'drain-app';
    this.config = drainConfig(QUICK_DRAIN, opts.config);
    this.drainName = parsed.target.name;
    const { logger, lines } = captureLogger('info');
    this.logs = lines;
    const metrics = new DrainMetrics(this.registry);
    const ctx: DrainWriterContext = {
      binding: { key: bindingKey(appId, parsed.target.url), appId, drain: parsed.target },
      config: this.config,
      frameOf: line => line.frame(e => octetCounted(encodeSyslogMessage(e, DRAIN_HOST))),
      tlsCa: opts.tlsCa,
      counters: metrics.forDrain(appId, parsed.target.name),
      logger,
    };
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    this.done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.done.catch(() => undefined); // observed by whoever awaits it
    this.subscription = writer(this.line$, this.stop$, ctx).subscribe({
      next: report => this.reports.push(report),
      error: err => {
        this.error = err;
        reject(err);
      },
      complete: () => {
        this.completed = true;
        resolve();
      },
    });
  }

  push(envelopes: Iterable<Envelope>): void {
    for (const e of envelopes) this.line$.next(new LogLine(this.seq++, e));
  }

  stop(): void {
    this.stop$.next();
  }

  unsubscribe(): void {
    this.subscription.unsubscribe();
  }

  /** Lines the reports say were dropped, in all. */
  get reportedDrops(): number {
    return this.reports.reduce((sum, r) => sum + r.count, 0);
  }

  /** A drain counter's value (summed over series matching `labels`). */
  async metric(name: 'sent' | 'resent' | 'dropped' | 'errors', labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(`loggregator_drain_${name}_total`);
    if (!metric) throw new Error(`no metric loggregator_drain_${name}_total`);
    const { values } = await metric.get();
    return values.filter(v => Object.entries(labels).every(([k, value]) => v.labels[k] === value)).reduce((sum, v) => sum + v.value, 0);
  }
}

export function startWriter(writer: DrainWriter, opts: WriterOptions): WriterRun {
  return new WriterRun(writer, opts);
}

/** What syslog-ng must report for an envelope a drain sent with HOSTNAME `host` (raw left out). */
export function expectedFrame(e: Envelope, host: string): Omit<ReceivedFrame, 'raw'> {
  return {
    pri: e.messageType === 'ERR' ? 11 : 14,
    timestamp: receivedTimestamp(e.timestamp),
    host,
    appName: e.appId,
    procId: `[${e.sourceType}/${e.sourceInstance}]`,
    msgId: '',
    sdata: '',
    message: e.message,
  };
}

/** Received frames without their raw text, to compare with `expectedFrame`. */
export const fields = (frames: readonly ReceivedFrame[]) => frames.map(({ raw: _raw, ...rest }) => rest);

/** syslog-ng's form of a frame's TIMESTAMP for an envelope's ns: UTC, 6 fraction digits, "+00:00". */
export function receivedTimestamp(ns: string): string {
  const n = BigInt(ns);
  const seconds = n / 1_000_000_000n;
  const micros = (n % 1_000_000_000n) / 1000n;
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${micros.toString().padStart(6, '0')}+00:00`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}
