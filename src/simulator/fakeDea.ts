// A fake DEA warden depot, for the README walkthrough, end-to-end specs and the agent's benchmark.
//
// In DIR it keeps `instances.json` in the DEA's format and, for every instance listed there, two
// listening unix sockets, `<warden_container_path>/jobs/<warden_job_id>/stdout.sock` and
// `stderr.sock`, as the 2014 deaagent found them. Every client connected to a socket gets
// numbered lines, paced and bounded:
//
//   stdout.sock  `sim-app-3/1 out 1`, `sim-app-3/1 out 2`, …   at `rate` lines/s
//   stderr.sock  `sim-app-3/1 err 1`, `sim-app-3/1 err 2`, …   at `rate / 10` lines/s
//
// The number counts from 1 for each new connection and goes up by one per line, so a receiver
// can check that every line arrived exactly once and in order. A reader that falls behind is not
// skipped ahead: writing to it pauses until its socket drains and resumes with the next number.
//
// The file is only ever replaced whole (temp file in DIR, fsync, rename), and it never lists an
// instance whose sockets are not listening: new sockets listen before the file names them, old
// ones close after the file stops naming them.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { Server, Socket, createServer } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import Denque from 'denque';
import { Observable, Subject, Subscription, exhaustMap, interval } from 'rxjs';
import { isValidAppId } from '../envelope/codec';

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** The stderr socket writes one line for every this many the stdout socket writes. */
export const STDERR_EVERY = 10;

export interface FakeDeaOptions {
  /** The depot directory; created if missing. Relative paths are resolved against the cwd. */
  readonly dir: string;
  /** Apps `sim-app-1` … `sim-app-<apps>`. */
  readonly apps: number;
  /** Instances per app, indexes 0 … instancesPerApp - 1. */
  readonly instancesPerApp: number;
  /** stdout lines per second written to each client of each instance (stderr: a tenth of it). 0 writes nothing. */
  readonly rate: number;
  /** Write the last line of every batch in two parts, `splitDelayMs` apart, so readers must join them. */
  readonly splitWrites?: boolean;
  /** Replace one instance every so many ms (see `churnOnce`); off when absent. */
  readonly churnMs?: number;
  /** How often the pacing timer writes a batch (default 20 ms). */
  readonly tickMs?: number;
  /** Delay between the two parts of a split line (default 3 ms). */
  readonly splitDelayMs?: number;
  /** Clients one socket serves at once; more are closed on connect (default 32). */
  readonly maxClientsPerSocket?: number;
  /** How long a closing socket may take to flush to a slow client before it is cut (default 250 ms). */
  readonly closeGraceMs?: number;
}

/** One instance as the depot runs it. */
export interface SimInstance {
  readonly appId: string;
  readonly index: number;
  readonly jobId: number;
  readonly instanceId: string;
  readonly handle: string;
  readonly containerPath: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
}

/** What the depot did, one JSON line each in `simulate-dea`'s output. */
export type DepotEvent =
  | { readonly event: 'ready'; readonly instances: number; readonly dir: string }
  | { readonly event: 'added' | 'removed'; readonly app: string; readonly index: number; readonly job: number }
  | { readonly event: 'stopped'; readonly reason: string }
  | { readonly event: 'error'; readonly message: string };

export interface DepotChange {
  /** New instances to start: an app id and instance index each. */
  readonly add?: readonly { readonly appId: string; readonly index: number }[];
  /** Job ids of running instances to stop. */
  readonly remove?: readonly number[];
}

export interface AppliedChange {
  readonly added: readonly SimInstance[];
  readonly removed: readonly SimInstance[];
}

export interface DepotStats {
  readonly instances: number;
  /** Clients connected to any socket now. */
  readonly clients: number;
  /** Whole lines handed to client sockets, over the depot's life. */
  readonly linesWritten: number;
  /** Lines written in two parts (`splitWrites`). */
  readonly splitLines: number;
  /** Times writing to a client paused until its socket drained. */
  readonly drainWaits: number;
  /** Times instances.json was replaced. */
  readonly fileWrites: number;
}

/** A problem with the arguments (a DIR too deep, left over from a crash): exit code 2 material. */
export class DepotUsageError extends Error {}

/** Instances started or closed at once, so a large depot does not open thousands of fds in one go. */
const PARALLEL = 64;

interface Counters {
  linesWritten: number;
  splitLines: number;
  drainWaits: number;
}

interface Pacing {
  readonly tickMs: number;
  readonly splitWrites: boolean;
  readonly splitDelayMs: number;
}

/**
 * One client of one socket: numbered lines at `rate` per second. A token bucket spreads them
 * over the ticks (it holds at most four ticks' worth, so a late timer or a reader that paused
 * does not bring on a burst), and a one-second sliding window caps them: never more than
 * max(1, floor(rate)) lines in any second.
 */
class LineClient {
  private seq = 0;
  private tokens: number;
  private readonly cap: number;
  private readonly perSecond: number;
  private readonly window = new Denque<{ readonly at: number; readonly lines: number }>();
  private inWindow = 0;
  private last = performance.now();
  private paused = false;
  private splitRest: string | undefined;
  private splitTimer: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly prefix: string,
    private readonly rate: number,
    private readonly pacing: Pacing,
    private readonly stats: Counters,
  ) {
    this.cap = Math.max(1, (rate * pacing.tickMs * 4) / 1000);
    this.perSecond = Math.max(1, Math.floor(rate));
    this.tokens = rate > 0 ? 1 : 0; // the first line at once, so a reader need not wait a period
    socket.on('drain', () => (this.paused = false));
  }

  pump(now: number): void {
    if (this.rate <= 0 || this.closed) return;
    this.tokens = Math.min(this.cap, this.tokens + (this.rate * (now - this.last)) / 1000);
    this.last = now;
    while (this.window.length > 0 && this.window.peekFront()!.at <= now - 1000) this.inWindow -= this.window.shift()!.lines;
    if (this.paused || this.splitRest !== undefined) return;
    const n = Math.min(Math.floor(this.tokens), this.perSecond - this.inWindow);
    if (n <= 0) return;
    this.tokens -= n;
    this.window.push({ at: now, lines: n });
    this.inWindow += n;
    this.writeBatch(n);
  }

  private writeBatch(n: number): void {
    let text = '';
    for (let i = 0; i < n; i++) text += `${this.prefix}${++this.seq}\n`;
    if (!this.pacing.splitWrites) {
      this.stats.linesWritten += n;
      this.write(text);
      return;
    }
    // The last line goes out in two parts: up to its middle now, the rest (and the newline) later.
    const lastLine = `${this.prefix}${this.seq}\n`;
    const cut = text.length - lastLine.length + Math.ceil((lastLine.length - 1) / 2);
    this.stats.linesWritten += n - 1;
    this.write(text.slice(0, cut));
    this.splitRest = text.slice(cut);
    this.splitTimer = setTimeout(() => this.finishSplit(), this.pacing.splitDelayMs);
  }

  private finishSplit(): void {
    clearTimeout(this.splitTimer);
    this.splitTimer = undefined;
    const rest = this.splitRest;
    if (rest === undefined) return;
    this.splitRest = undefined;
    if (this.closed) return;
    this.stats.linesWritten += 1;
    this.stats.splitLines += 1;
    this.write(rest);
  }

  private write(text: string): void {
    if (!this.socket.write(text)) {
      this.paused = true;
      this.stats.drainWaits += 1;
    }
  }

  /** Ends the connection at a line boundary; cuts it if it has not flushed within `graceMs`. */
  end(graceMs: number): void {
    this.finishSplit();
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), graceMs).unref();
  }

  forget(): void {
    this.closed = true;
    clearTimeout(this.splitTimer);
  }
}

/** What every socket of a depot shares. */
interface SocketContext {
  readonly pacing: Pacing;
  readonly counters: Counters;
  readonly maxClients: number;
  /** Every client of every socket, for the pacing timer. */
  readonly live: Set<LineClient>;
  readonly onError: (message: string) => void;
}

/** One listening unix socket of one instance, and its clients. */
class LineSocket {
  private readonly server: Server;
  readonly clients = new Set<LineClient>();

  private constructor(
    readonly path: string,
    prefix: string,
    rate: number,
    depot: SocketContext,
  ) {
    this.server = createServer(socket => {
      const client = new LineClient(socket, prefix, rate, depot.pacing, depot.counters);
      this.clients.add(client);
      depot.live.add(client);
      socket.on('error', () => socket.destroy()); // EPIPE, ECONNRESET: the reader went away
      socket.once('close', () => {
        client.forget();
        this.clients.delete(client);
        depot.live.delete(client);
      });
      socket.resume(); // a reader has nothing to say; whatever it sends is discarded
    });
    this.server.maxConnections = depot.maxClients;
  }

  static async listen(path: string, prefix: string, rate: number, depot: SocketContext): Promise<LineSocket> {
    const socket = new LineSocket(path, prefix, rate, depot);
    await new Promise<void>((resolveListen, reject) => {
      socket.server.once('error', reject);
      socket.server.listen(path, () => {
        socket.server.off('error', reject);
        resolveListen();
      });
    });
    // Once listening, an error is one accept that failed (EMFILE): told once, the socket goes on.
    let told = false;
    socket.server.on('error', err => {
      if (!told) depot.onError(`socket ${path}: ${err.message}`);
      told = true;
    });
    return socket;
  }

  /** Stops listening, ends every client (flushing a split line first) and removes the socket file. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>(done => this.server.close(() => done()));
    for (const client of this.clients) client.end(graceMs);
    await closed;
    await rm(this.path, { force: true });
  }
}

/** A running instance: its description and its two sockets. */
interface Running {
  readonly instance: SimInstance;
  readonly stdout: LineSocket;
  readonly stderr: LineSocket;
}

function checkCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max} (got ${value})`);
  }
}

/**
 * The depot: `new FakeDea(options)`, subscribe to `events$`, `await start()`; then change it
 * with `change` / `churnOnce` (or let `churnMs` do it) and end with `stop()`.
 */
export class FakeDea {
  readonly dir: string;
  readonly instancesFile: string;
  /**
   * What the depot does, as it does it. Hot and not replayed: subscribe before `start()` to see
   * `ready`. Completes after `stopped`.
   */
  readonly events$: Observable<DepotEvent>;

  private readonly eventSubject = new Subject<DepotEvent>();
  private readonly running = new Map<number, Running>();
  private readonly live = new Set<LineClient>();
  private readonly counters: Counters = { linesWritten: 0, splitLines: 0, drainWaits: 0 };
  private readonly sockets: SocketContext;
  private readonly subscriptions = new Subscription();
  /** Changes to the depot, one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve();
  private nextJobId = 1;
  /** Set once DIR/containers was found empty or missing: from then on everything in it is ours. */
  private ownsContainers = false;
  private fileWrites = 0;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: FakeDeaOptions) {
    checkCount('apps', opts.apps, 1, 1_000_000);
    checkCount('instancesPerApp', opts.instancesPerApp, 1, 1_000_000);
    if (!(opts.rate >= 0 && Number.isFinite(opts.rate))) throw new RangeError(`rate must be a number >= 0 (got ${opts.rate})`);
    if (opts.churnMs !== undefined && !(opts.churnMs >= 1)) throw new RangeError(`churnMs must be >= 1 (got ${opts.churnMs})`);
    this.dir = resolve(opts.dir);
    this.instancesFile = join(this.dir, 'instances.json');
    this.events$ = this.eventSubject.asObservable();
    this.sockets = {
      pacing: { tickMs: opts.tickMs ?? 20, splitWrites: opts.splitWrites ?? false, splitDelayMs: opts.splitDelayMs ?? 3 },
      counters: this.counters,
      maxClients: opts.maxClientsPerSocket ?? 32,
      live: this.live,
      onError: message => this.emit({ event: 'error', message }),
    };
  }

  private get containersDir(): string {
    return join(this.dir, 'containers');
  }

  /**
   * Creates the sockets of every instance, then writes instances.json, then emits `ready`.
   * Fails with a DepotUsageError, having created nothing, when DIR is too deep for a socket path
   * or holds sockets from a run that did not stop; on any other failure it removes what it made.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('a FakeDea starts once');
    this.state = 'starting';
    const wanted: { appId: string; index: number }[] = [];
    for (let app = 1; app <= this.opts.apps; app++) {
      for (let index = 0; index < this.opts.instancesPerApp; index++) wanted.push({ appId: `sim-app-${app}`, index });
    }
    try {
      // The longest path this start makes is the last instance's: check it before making any.
      this.checkSocketPath(this.describe('sim-app-1', 0, wanted.length).stdoutPath);
      await this.refuseLeftovers();
      this.ownsContainers = true;
      await mkdir(this.containersDir, { recursive: true });
      await this.serialize(async () => {
        for (let i = 0; i < wanted.length; i += PARALLEL) {
          await Promise.all(wanted.slice(i, i + PARALLEL).map(w => this.launch(w.appId, w.index)));
        }
        await this.writeInstancesFile();
      });
    } catch (err) {
      this.state = 'stopping';
      await this.closeAll().catch(() => undefined);
      this.state = 'stopped';
      this.eventSubject.complete();
      throw err;
    }
    if (this.stopping !== undefined) return; // stop() was called meanwhile: it closes what start made
    this.state = 'running';
    this.subscriptions.add(interval(this.sockets.pacing.tickMs).subscribe(() => this.pump()));
    if (this.opts.churnMs !== undefined) {
      // A tick that comes while the last change is still being made is skipped, not queued.
      this.subscriptions.add(
        interval(this.opts.churnMs)
          .pipe(exhaustMap(() => this.churnOnce().catch((err: Error) => this.emit({ event: 'error', message: `churn: ${err.message}` }))))
          .subscribe(),
      );
    }
    this.emit({ event: 'ready', instances: this.running.size, dir: this.dir });
  }

  /** The instances listed in instances.json now, by app and index. */
  instances(): SimInstance[] {
    return [...this.running.values()].map(r => r.instance).sort(byAppAndIndex);
  }

  stats(): DepotStats {
    return {
      instances: this.running.size,
      clients: this.live.size,
      ...this.counters,
      fileWrites: this.fileWrites,
    };
  }

  /**
   * Starts `add` and stops `remove` as one change: the new sockets listen, then instances.json
   * is replaced, then the removed instances' sockets close and their files go. Emits `removed`
   * and `added` once done. Unknown job ids are an error (nothing is changed).
   */
  change(change: DepotChange): Promise<AppliedChange> {
    return this.serialize(async () => {
      if (this.state !== 'running') throw new Error(`the depot is ${this.state}`);
      const remove = [...new Set(change.remove ?? [])];
      const unknown = remove.filter(job => !this.running.has(job));
      if (unknown.length > 0) throw new Error(`no running instance with job id ${unknown.join(', ')}`);
      for (const w of change.add ?? []) {
        if (!isValidAppId(w.appId)) {
          throw new RangeError(`invalid app id ${JSON.stringify(w.appId)}: 1-48 of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
        }
        checkCount('index', w.index, 0, 1_000_000);
      }
      const leaving = remove.map(job => this.running.get(job)!);
      const added: SimInstance[] = [];
      // Undoes the change if it cannot be made whole: the new instances go, the old ones stay.
      const undo = async (err: unknown): Promise<never> => {
        const launched = added.map(a => this.running.get(a.jobId)!);
        for (const a of added) this.running.delete(a.jobId);
        for (const r of leaving) this.running.set(r.instance.jobId, r);
        await this.retireAll(launched).catch(() => undefined);
        throw err;
      };
      try {
        for (const w of change.add ?? []) added.push((await this.launch(w.appId, w.index)).instance);
        for (const r of leaving) this.running.delete(r.instance.jobId);
        await this.writeInstancesFile();
      } catch (err) {
        return undo(err);
      }
      await this.retireAll(leaving);
      for (const r of leaving) this.emit({ event: 'removed', app: r.instance.appId, index: r.instance.index, job: r.instance.jobId });
      for (const a of added) this.emit({ event: 'added', app: a.appId, index: a.index, job: a.jobId });
      return { added, removed: leaving.map(r => r.instance) };
    });
  }

  /**
   * Restarts the instance that has run longest: it goes, and a new one with the same app and
   * index (new job id, container and sockets) takes its place, as a DEA restarting it would.
   */
  churnOnce(): Promise<AppliedChange> {
    let oldest: SimInstance | undefined;
    for (const r of this.running.values()) if (oldest === undefined || r.instance.jobId < oldest.jobId) oldest = r.instance;
    if (oldest === undefined) return Promise.resolve({ added: [], removed: [] });
    return this.change({ remove: [oldest.jobId], add: [{ appId: oldest.appId, index: oldest.index }] });
  }

  /**
   * Stops churn and pacing, replaces instances.json with an empty list (so a watcher stops its
   * readers), closes every socket (clients get what was written, or are cut after the grace
   * time) and removes the socket files and container directories. instances.json stays.
   * Emits `stopped` and completes `events$`. Idempotent.
   */
  stop(reason = 'stopped'): Promise<void> {
    this.stopping ??= (async () => {
      this.subscriptions.unsubscribe();
      await this.serialize(async () => {
        this.state = 'stopping';
        await this.closeAll();
      }).catch((err: Error) => this.emit({ event: 'error', message: `while stopping: ${err.message}` }));
      this.state = 'stopped';
      this.emit({ event: 'stopped', reason });
      this.eventSubject.complete();
    })();
    return this.stopping;
  }

  private emit(event: DepotEvent): void {
    this.eventSubject.next(event);
  }

  private pump(): void {
    const now = performance.now();
    for (const client of this.live) client.pump(now);
  }

  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const result = this.queue.then(step);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private describe(appId: string, index: number, jobId: number): SimInstance {
    const handle = `c${jobId}`;
    const containerPath = join(this.containersDir, handle);
    const jobDir = join(containerPath, 'jobs', String(jobId));
    return {
      appId,
      index,
      jobId,
      instanceId: randomUUID().replace(/-/g, ''),
      handle,
      containerPath,
      stdoutPath: join(jobDir, 'stdout.sock'),
      stderrPath: join(jobDir, 'stderr.sock'),
    };
  }

  private checkSocketPath(path: string): void {
    const bytes = Buffer.byteLength(path);
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      throw new DepotUsageError(
        `the socket path ${path} is ${bytes} bytes, longer than the ${MAX_SOCKET_PATH_BYTES} a unix socket path may have: ` +
          `use a depot directory at least ${bytes - MAX_SOCKET_PATH_BYTES} bytes shorter`,
      );
    }
  }

  /** Sockets left by a run that was killed would make listen fail; removing them is the user's call. */
  private async refuseLeftovers(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.containersDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (entries.length > 0) {
      throw new DepotUsageError(
        `${this.containersDir} is not empty (left by a simulator that did not stop cleanly?): remove it or use another directory`,
      );
    }
  }

  /** Makes an instance's directories and sockets and adds it to the running set (not yet to the file). */
  private async launch(appId: string, index: number): Promise<Running> {
    const instance = this.describe(appId, index, this.nextJobId++);
    this.checkSocketPath(instance.stdoutPath);
    const who = `${appId}/${index}`;
    await mkdir(join(instance.containerPath, 'jobs', String(instance.jobId)), { recursive: true });
    let stdout: LineSocket | undefined;
    try {
      stdout = await this.listen(instance.stdoutPath, `${who} out `, this.opts.rate);
      const stderr = await this.listen(instance.stderrPath, `${who} err `, this.opts.rate / STDERR_EVERY);
      const running = { instance, stdout, stderr };
      this.running.set(instance.jobId, running);
      return running;
    } catch (err) {
      // Best effort: the error to report is the one that stopped the launch.
      await stdout?.close(0).catch(() => undefined);
      await rm(instance.containerPath, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  private async listen(path: string, prefix: string, rate: number): Promise<LineSocket> {
    try {
      return await LineSocket.listen(path, prefix, rate, this.sockets);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const tooMany = e.code === 'EMFILE' || e.code === 'ENFILE';
      const hint = tooMany ? ' (too many open files: raise `ulimit -n` or simulate fewer instances)' : '';
      throw new Error(`cannot listen on ${path}: ${e.code ?? e.message}${hint}`);
    }
  }

  /**
   * Closes the sockets of instances already taken off the running set, then removes their
   * container directories. Every one is tried; the first failure is rethrown at the end.
   * All sockets close before any directory goes, so that the fds they free are there for rm.
   */
  private async retireAll(leaving: readonly Running[]): Promise<void> {
    const grace = this.opts.closeGraceMs ?? 250;
    const failures: unknown[] = [];
    const inBatches = async (step: (r: Running) => Promise<unknown>) => {
      for (let i = 0; i < leaving.length; i += PARALLEL) {
        for (const result of await Promise.allSettled(leaving.slice(i, i + PARALLEL).map(step))) {
          if (result.status === 'rejected') failures.push(result.reason);
        }
      }
    };
    await inBatches(r => Promise.all([r.stdout.close(grace), r.stderr.close(grace)]));
    await inBatches(r => rm(r.instance.containerPath, { recursive: true, force: true }));
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Unlists every instance (if instances.json was written, it is replaced with an empty list),
   * closes them, then removes the containers directory: start() made sure it held nothing
   * before, so whatever is in it now is the depot's own.
   */
  private async closeAll(): Promise<void> {
    const leaving = [...this.running.values()];
    this.running.clear();
    try {
      if (this.fileWrites > 0) await this.writeInstancesFile();
    } finally {
      try {
        await this.retireAll(leaving);
      } finally {
        if (this.ownsContainers) await rm(this.containersDir, { recursive: true, force: true });
      }
    }
  }

  /** Replaces instances.json whole: a reader sees the old file or the new one, never a mix. */
  private async writeInstancesFile(): Promise<void> {
    const text = `${JSON.stringify({ instances: this.instances().map(deaJson) })}\n`;
    const tmp = join(this.dir, `.instances.json.${process.pid}.${this.fileWrites + 1}.tmp`);
    try {
      const file = await open(tmp, 'w', 0o644);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.instancesFile);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.fileWrites += 1;
  }
}

function byAppAndIndex(a: SimInstance, b: SimInstance): number {
  const appA = Number(a.appId.slice('sim-app-'.length));
  const appB = Number(b.appId.slice('sim-app-'.length));
  if (Number.isInteger(appA) && Number.isInteger(appB) && appA !== appB) return appA - appB;
  if (a.appId !== b.appId) return a.appId < b.appId ? -1 : 1;
  return a.index - b.index || a.jobId - b.jobId;
}

/** An instance as the DEA's snapshot wrote it (the fields the deaagent reads, and a few more). */
function deaJson(i: SimInstance): Record<string, unknown> {
  if (!isAbsolute(i.containerPath)) throw new Error(`not an absolute path: ${i.containerPath}`);
  return {
    application_id: i.appId,
    application_name: i.appId,
    application_version: 'sim-1',
    instance_id: i.instanceId,
    instance_index: i.index,
    state: 'RUNNING',
    warden_handle: i.handle,
    warden_job_id: i.jobId,
    warden_container_path: i.containerPath,
    syslog_drain_urls: [],
  };
}
