import { Worker } from 'node:worker_threads';
import { MetricObjectWithValues, MetricValue } from 'prom-client';
import { Config, ConfigError } from '../config/loadConfig';
import { Logger } from '../logger';
import { logForwarded, workerScript } from '../workerThreads';
import { FromWorker, RouterWorkerData, ToWorker } from './routerWorker';

export interface RouterWorkersOptions {
  readonly config: Config;
  readonly count: number;
  readonly logger: Logger;
  /** The CAs the workers' TLS drains trust (trustedCas). */
  readonly tlsCa: string[] | undefined;
  /** Told of lines dropped before a worker took them: its queue full, the worker restarting, or dead with them. */
  readonly onDrop: (reason: 'worker_behind' | 'worker_restarting' | 'worker_died', lines: number) => void;
  /** Told of a worker that died and is being started again. */
  readonly onRestart: (index: number) => void;
  /** Told when the number of running workers changes. */
  readonly onRunning: (running: number) => void;
}

/** A worker that dies within this long of starting is restarted after a growing delay. */
const STABLE_MS = 10_000;
const RESTART_INITIAL_MS = 100;
const RESTART_MAX_MS = 5000;
/** A worker's answer to a metrics request, at the longest (a /metrics scrape waits for it). */
const METRICS_TIMEOUT_MS = 2000;

type Metrics = MetricObjectWithValues<MetricValue<string>>[];

interface Slot {
  readonly index: number;
  worker?: Worker;
  /** The worker's HTTP port while it runs. */
  port?: number;
  startedAt: number;
  /** Bytes and lines handed to this incarnation, and the counters of those it has taken (bytes, lines). */
  posted: number;
  postedLines: number;
  consumed: BigInt64Array;
  restartDelayMs: number;
  restartTimer?: NodeJS.Timeout;
}

/**
 * The worker threads of a multi-worker router (src/router/routerWorker.ts): started together,
 * each restarted alone when it dies (it loses the lines it held; the others never notice), fed
 * batches through a bounded queue, asked for their metrics, and closed together.
 */
export class RouterWorkers {
  private readonly slots: Slot[];
  private closing = false;
  /** Set once every worker has started: from then on a worker that dies is restarted. */
  private started = false;
  private nextRequest = 0;
  private readonly pending = new Map<number, (metrics: Metrics) => void>();

  constructor(private readonly opts: RouterWorkersOptions) {
    this.slots = Array.from({ length: opts.count }, (_, index) => ({
      index,
      startedAt: 0,
      posted: 0,
      postedLines: 0,
      consumed: new BigInt64Array(new SharedArrayBuffer(16)),
      restartDelayMs: 0,
    }));
  }

  /** Starts every worker; rejects (stopping those started) if one cannot start. */
  async start(): Promise<void> {
    const started = await Promise.allSettled(this.slots.map(slot => this.spawn(slot)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    this.started = true;
  }

  /** The HTTP port of the worker that owns shard `index`, while it runs. */
  port(index: number): number | undefined {
    return this.slots[index].port;
  }

  get running(): number {
    return this.slots.filter(s => s.port !== undefined).length;
  }

  /** Whether worker `index` has taken every batch handed to it. */
  idle(index: number): boolean {
    const slot = this.slots[index];
    return slot.posted === Number(Atomics.load(slot.consumed, 0));
  }

  /** Hands a batch to its worker, or drops and counts it when the worker is behind or restarting. */
  post(index: number, batch: Uint8Array, lines: number): void {
    const slot = this.slots[index];
    if (slot.worker === undefined) return this.opts.onDrop('worker_restarting', lines);
    const queued = slot.posted - Number(Atomics.load(slot.consumed, 0));
    if (queued + batch.byteLength > this.opts.config.router.workerQueueBytes) return this.opts.onDrop('worker_behind', lines);
    slot.posted += batch.byteLength;
    slot.postedLines += lines;
    slot.worker.postMessage(batch satisfies ToWorker, [batch.buffer as ArrayBuffer]);
  }

  /** Ends a worker at once (it is restarted as if it had died). */
  async terminate(index: number): Promise<void> {
    await this.slots[index].worker?.terminate();
  }

  /** Every running worker's metrics (a worker that does not answer in time is left out). */
  async metrics(): Promise<Metrics[]> {
    const asked = this.slots
      .filter(slot => slot.port !== undefined && slot.worker !== undefined)
      .map(
        slot =>
          new Promise<Metrics>(resolve => {
            const id = ++this.nextRequest;
            const timer = setTimeout(() => {
              this.pending.delete(id);
              resolve([]);
            }, METRICS_TIMEOUT_MS);
            this.pending.set(id, metrics => {
              clearTimeout(timer);
              resolve(metrics);
            });
            slot.worker!.postMessage({ kind: 'metrics', id } satisfies ToWorker);
          }),
      );
    return Promise.all(asked);
  }

  /** Asks every worker to close (each flushes its drains and closes its clients) and waits, at most `timeoutMs`. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async slot => {
        clearTimeout(slot.restartTimer);
        const worker = slot.worker;
        if (!worker) return;
        const exited = new Promise<void>(resolve => worker.once('exit', () => resolve()));
        worker.postMessage({ kind: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => void worker.terminate(), timeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private spawn(slot: Slot): Promise<void> {
    const { config, count, logger } = this.opts;
    slot.consumed = new BigInt64Array(new SharedArrayBuffer(16));
    slot.posted = 0;
    slot.postedLines = 0;
    slot.startedAt = Date.now();
    const data: RouterWorkerData = { config, tlsCa: this.opts.tlsCa, index: slot.index, count, consumed: slot.consumed.buffer as SharedArrayBuffer, logLevel: logger.level ?? config.logLevel };
    const worker = new Worker(workerScript(__dirname, __filename, 'routerWorker'), { workerData: data, stdout: false, stderr: false });
    slot.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let lastError: string | undefined;
      let startError: Error | undefined;
      worker.on('message', (message: FromWorker) => {
        if (message.kind === 'ready') {
          slot.port = message.port;
          this.opts.onRunning(this.running);
          resolve();
        } else if (message.kind === 'failed') {
          lastError = message.error;
          // A bad configuration is the same error as in a single router (the CLI exits 2 on it).
          startError = message.name === 'ConfigError' ? new ConfigError(message.error) : undefined;
        } else if (message.kind === 'log') {
          logForwarded(logger, message);
        } else if (message.kind === 'metrics') {
          this.pending.get(message.id)?.(message.metrics as Metrics);
          this.pending.delete(message.id);
        }
      });
      worker.on('error', err => {
        lastError = String(err.stack ?? err);
      });
      worker.once('exit', code => {
        const wasRunning = slot.port !== undefined;
        // What it was handed and never took is lost with it: counted, not silent.
        const held = slot.postedLines - Number(Atomics.load(slot.consumed, 1));
        if (held > 0) this.opts.onDrop('worker_died', held);
        slot.port = undefined;
        slot.worker = undefined;
        this.opts.onRunning(this.running);
        // It never started: the router cannot start (a port, the binding store); say why.
        if (!wasRunning) reject(startError ?? new Error(`router worker ${slot.index} could not start: ${lastError ?? `exit code ${code}`}`));
        if (this.closing || !this.started) return;
        this.restart(slot, code, lastError);
        if (wasRunning) logger.debug('router worker exited', { worker: slot.index, code });
      });
    });
  }

  private restart(slot: Slot, code: number, error: string | undefined): void {
    const lived = Date.now() - slot.startedAt;
    slot.restartDelayMs = lived >= STABLE_MS ? 0 : Math.min(RESTART_MAX_MS, Math.max(RESTART_INITIAL_MS, slot.restartDelayMs * 2));
    this.opts.onRestart(slot.index);
    this.opts.logger.error('router worker died; starting it again (its apps lose the lines it held)', {
      worker: slot.index,
      exitCode: code,
      ...(error === undefined ? {} : { error: error.slice(0, 2000) }),
      restartInMs: slot.restartDelayMs,
    });
    slot.restartTimer = setTimeout(() => {
      if (this.closing) return;
      this.spawn(slot).catch(err => this.opts.logger.error('router worker restart failed', { worker: slot.index, error: String(err.message ?? err) }));
    }, slot.restartDelayMs);
  }
}
