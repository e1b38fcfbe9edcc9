// The fake DEA depot against real unix sockets and files in a temp dir: instances.json lists what
// it should, each socket writes consecutive numbered lines (paced, paused for a slow reader, split
// when asked), churn replaces the file by rename so a reader never sees half of it, and stop
// leaves no socket behind. Plus the `simulate-dea` command's argument checks and run loop.
import { Command, CommanderError } from 'commander';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { registerSimulateDea, runSimulateDea } from '../../../src/cli/simulateDeaCommand';
import { isValidAppId } from '../../../src/envelope/codec';
import { DepotEvent, DepotUsageError, FakeDea, FakeDeaOptions, MAX_SOCKET_PATH_BYTES } from '../../../src/simulator/fakeDea';
import { waitFor, within } from '../../support/waitFor';

interface DeaInstanceJson {
  application_id: string;
  instance_index: number;
  warden_job_id: number;
  warden_container_path: string;
  state: string;
  instance_id: string;
}

/** A client of one socket: the chunks as they came and the lines they join into. */
class LineReader {
  readonly chunks: string[] = [];
  readonly lines: string[] = [];
  /** When each line arrived (performance.now()). */
  readonly arrivals: number[] = [];
  readonly closed: Promise<void>;
  private partial = '';

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.chunks.push(chunk);
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      const now = performance.now();
      for (const line of parts) {
        this.lines.push(line);
        this.arrivals.push(now);
      }
    });
    socket.on('error', () => undefined); // the depot going away is what some specs wait for
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async connect(path: string): Promise<LineReader> {
    const socket = connect(path);
    await once(socket, 'connect');
    return new LineReader(socket);
  }
}

/** The first place `lines` is not `<prefix>1`, `<prefix>2`, …, or undefined if there is none. */
function firstGap(lines: readonly string[], prefix: string): string | undefined {
  const bad = lines.findIndex((line, i) => line !== `${prefix}${i + 1}`);
  return bad < 0 ? undefined : `line ${bad}: expected ${JSON.stringify(`${prefix}${bad + 1}`)}, got ${JSON.stringify(lines[bad])}`;
}

async function readInstances(file: string): Promise<DeaInstanceJson[]> {
  return (JSON.parse(await readFile(file, 'utf8')) as { instances: DeaInstanceJson[] }).instances;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('FakeDea', () => {
  let dir: string;
  const cleanups: (() => unknown)[] = [];

  async function depot(opts: Partial<FakeDeaOptions> = {}): Promise<{ dea: FakeDea; events: DepotEvent[] }> {
    const dea = new FakeDea({ dir, apps: 1, instancesPerApp: 1, rate: 0, ...opts });
    const events: DepotEvent[] = [];
    dea.events$.subscribe(e => events.push(e));
    cleanups.push(() => dea.stop());
    await dea.start();
    return { dea, events };
  }

  async function reader(path: string): Promise<LineReader> {
    const r = await LineReader.connect(path);
    cleanups.push(() => r.socket.destroy());
    return r;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dea-'));
  });

  afterEach(async () => {
    for (const step of cleanups.splice(0).reverse()) await step();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists every instance in instances.json, in the DEA's format, each with its two sockets listening", async () => {
    const { dea, events } = await depot({ apps: 3, instancesPerApp: 2 });
    const listed = await readInstances(join(dir, 'instances.json'));

    expect(events).toEqual([{ event: 'ready', instances: 6, dir }]);
    expect(listed).toHaveLength(6);
    expect(listed.map(i => [i.application_id, i.instance_index])).toEqual([
      ['sim-app-1', 0],
      ['sim-app-1', 1],
      ['sim-app-2', 0],
      ['sim-app-2', 1],
      ['sim-app-3', 0],
      ['sim-app-3', 1],
    ]);
    expect(new Set(listed.map(i => i.warden_job_id)).size).toBe(6);
    expect(new Set(listed.map(i => i.instance_id)).size).toBe(6);
    for (const i of listed) {
      expect(isValidAppId(i.application_id)).toBe(true);
      expect(Number.isInteger(i.warden_job_id)).toBe(true);
      expect(i.state).toBe('RUNNING');
      expect(typeof i.instance_id).toBe('string');
      expect(isAbsolute(i.warden_container_path) && i.warden_container_path.startsWith(`${dir}/`)).toBe(true);
      for (const stream of ['stdout', 'stderr']) {
        const path = join(i.warden_container_path, 'jobs', String(i.warden_job_id), `${stream}.sock`);
        expect((await stat(path)).isSocket()).toBe(true);
      }
    }
    expect(dea.instances().map(i => i.jobId)).toEqual(listed.map(i => i.warden_job_id));
  });

  it('writes consecutive numbered lines to each client, from 1 for every new connection', async () => {
    const { dea } = await depot({ apps: 2, instancesPerApp: 2, rate: 200 });
    const instance = dea.instances()[3];
    const out = await reader(instance.stdoutPath);
    const err = await reader(instance.stderrPath);
    await waitFor(() => out.lines.length >= 20 && err.lines.length >= 2, { what: 'lines on both sockets' });
    const late = await reader(instance.stdoutPath);
    await waitFor(() => late.lines.length >= 5, { what: 'lines on a second connection' });

    expect(firstGap(out.lines, 'sim-app-2/1 out ')).toBeUndefined();
    expect(firstGap(err.lines, 'sim-app-2/1 err ')).toBeUndefined();
    expect(firstGap(late.lines, 'sim-app-2/1 out ')).toBeUndefined();
    expect(out.lines.length).toBeGreaterThan(late.lines.length);
  });

  it('never writes more than `rate` lines in a second to a client', async () => {
    const rate = 50;
    const { dea } = await depot({ rate });
    const connectedAt = performance.now();
    const out = await reader(dea.instances()[0].stdoutPath);
    await new Promise(resolve => setTimeout(resolve, 1100));

    // Every line that had arrived one second after connecting was written within that second.
    const inFirstSecond = out.arrivals.filter(t => t <= connectedAt + 1000).length;
    expect(inFirstSecond).toBeLessThanOrEqual(rate);
    expect(inFirstSecond).toBeGreaterThanOrEqual(rate / 5);
    expect(firstGap(out.lines, 'sim-app-1/0 out ')).toBeUndefined();
  });

  it('pauses for a reader that stops reading and goes on with the next number once it reads again', async () => {
    const { dea } = await depot({ rate: 100_000 });
    const out = await reader(dea.instances()[0].stdoutPath);
    await waitFor(() => out.lines.length > 0, { what: 'the first lines' });
    out.socket.pause();
    await waitFor(() => dea.stats().drainWaits > 0, { what: 'the depot to wait for a drain', timeoutMs: 5_000 });
    const written = dea.stats().linesWritten;
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(dea.stats().linesWritten).toBe(written); // nothing more while the reader is behind

    out.socket.resume();
    await waitFor(() => out.lines.length >= written + 5_000, { what: 'lines after the reader caught up', timeoutMs: 5_000 });
    expect(firstGap(out.lines, 'sim-app-1/0 out ')).toBeUndefined();
  });

  it('with splitWrites, writes some lines in two parts that still join into consecutive lines', async () => {
    const { dea } = await depot({ rate: 200, splitWrites: true });
    const out = await reader(dea.instances()[0].stdoutPath);
    await waitFor(() => out.lines.length >= 20, { what: 'lines' });

    expect(out.chunks.some(c => !c.endsWith('\n'))).toBe(true);
    expect(dea.stats().splitLines).toBeGreaterThan(0);
    expect(firstGap(out.lines, 'sim-app-1/0 out ')).toBeUndefined();
  });

  it('churns by replacing instances.json with rename(): a reader never sees it half-written or missing', async () => {
    const file = join(dir, 'instances.json');
    // 100 instances make a file of ~25 KB: an in-place rewrite would be caught half-done.
    const { dea, events } = await depot({ apps: 20, instancesPerApp: 5, churnMs: 5 });
    const stopReading = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const fs = require('node:fs');
       const deadline = Date.now() + workerData.ms;
       let reads = 0, failures = 0, firstFailure;
       const versions = new Set();
       while (Date.now() < deadline && Atomics.load(workerData.stop, 0) === 0) {
         try {
           const list = JSON.parse(fs.readFileSync(workerData.file, 'utf8')).instances;
           versions.add(list.map(i => i.warden_job_id).join(','));
           reads++;
         } catch (err) {
           failures++;
           firstFailure = firstFailure || String(err);
         }
       }
       parentPort.postMessage({ reads, failures, firstFailure, versions: versions.size });`,
      { eval: true, workerData: { file, ms: 4_000, stop: stopReading } },
    );
    cleanups.push(() => worker.terminate());
    const report = once(worker, 'message') as Promise<[{ reads: number; failures: number; firstFailure?: string; versions: number }]>;
    await waitFor(() => events.filter(e => e.event === 'added').length >= 20, { what: '20 churns', timeoutMs: 3_500 });
    Atomics.store(stopReading, 0, 1);
    const [{ reads, failures, firstFailure, versions }] = await within(report, 5_000, 'the reader to report');

    expect({ failures, firstFailure }).toEqual({ failures: 0, firstFailure: undefined });
    expect(reads).toBeGreaterThan(0);
    expect(versions).toBeGreaterThan(1); // it did read while the file changed

    await dea.stop();
    expect(await readdir(dir)).toEqual(['instances.json']); // no temp file left behind
    const removed = events.filter(e => e.event === 'removed') as { app: string; index: number; job: number }[];
    const added = events.filter(e => e.event === 'added') as { app: string; index: number; job: number }[];
    // Each churn restarts the longest-running instance as the same app and index, with a new job.
    expect(removed.map(e => e.job).slice(0, 3)).toEqual([1, 2, 3]);
    expect(added.slice(0, 3)).toEqual([
      { event: 'added', app: 'sim-app-1', index: 0, job: 101 },
      { event: 'added', app: 'sim-app-1', index: 1, job: 102 },
      { event: 'added', app: 'sim-app-1', index: 2, job: 103 },
    ]);
  });

  it('applies a change set: new sockets listen before the file lists them, old ones go after', async () => {
    const { dea, events } = await depot({ apps: 2, instancesPerApp: 1, rate: 100 });
    const [first] = dea.instances();
    const old = await reader(first.stdoutPath);
    await waitFor(() => old.lines.length > 0, { what: 'a line from the old instance' });

    const file = join(dir, 'instances.json');
    const inodeBefore = (await stat(file)).ino;

    const { added, removed } = await dea.change({ remove: [first.jobId], add: [{ appId: 'extra-app', index: 7 }] });

    expect((await stat(file)).ino).not.toBe(inodeBefore); // replaced by another file, not rewritten in place
    const listed = await readInstances(file);
    expect(listed.map(i => [i.application_id, i.instance_index, i.warden_job_id])).toEqual([
      ['extra-app', 7, 3],
      ['sim-app-2', 0, 2],
    ]);
    expect(removed.map(i => i.jobId)).toEqual([1]);
    expect(await exists(first.stdoutPath)).toBe(false);
    expect(await exists(first.containerPath)).toBe(false);
    await within(old.closed, 2_000, 'the removed instance closing its client');
    const fresh = await reader(added[0].stdoutPath);
    await waitFor(() => fresh.lines.length > 0, { what: 'a line from the new instance' });
    expect(fresh.lines[0]).toBe('extra-app/7 out 1');
    expect(events.slice(1)).toEqual([
      { event: 'removed', app: 'sim-app-1', index: 0, job: 1 },
      { event: 'added', app: 'extra-app', index: 7, job: 3 },
    ]);

    await expect(dea.change({ remove: [99] })).rejects.toThrow('no running instance with job id 99');
    expect(dea.instances()).toHaveLength(2);
  });

  it('stop lists no instance, closes every client and removes every socket file', async () => {
    const { dea, events } = await depot({ apps: 2, instancesPerApp: 2, rate: 100, splitWrites: true });
    const paths = dea.instances().flatMap(i => [i.stdoutPath, i.stderrPath]);
    const out = await reader(paths[0]);
    await waitFor(() => out.lines.length > 0, { what: 'a line' });
    let completed = false;
    dea.events$.subscribe({ complete: () => (completed = true) });

    await dea.stop('test');

    await within(out.closed, 2_000, 'the client to be closed');
    expect(out.chunks.join('').endsWith('\n')).toBe(true); // a line split in two was finished first
    for (const path of paths) expect(await exists(path)).toBe(false);
    expect(await readdir(dir)).toEqual(['instances.json']);
    expect(await readInstances(join(dir, 'instances.json'))).toEqual([]);
    expect(events[events.length - 1]).toEqual({ event: 'stopped', reason: 'test' });
    expect(completed).toBe(true);
    expect(dea.stats()).toMatchObject({ instances: 0, clients: 0 });
  });

  it('refuses a directory too deep for unix socket paths, naming the path, and creates nothing', async () => {
    const deep = join(dir, 'd'.repeat(MAX_SOCKET_PATH_BYTES - dir.length - 20));
    const dea = new FakeDea({ dir: deep, apps: 1, instancesPerApp: 1, rate: 1 });

    const failure = await dea.start().then(
      () => undefined,
      (err: Error) => err,
    );

    expect(failure).toBeInstanceOf(DepotUsageError);
    expect(failure?.message).toContain(`${deep}/containers/c1/jobs/1/stdout.sock`);
    expect(await exists(deep)).toBe(false);
  });

  it('refuses a containers directory left by a run that did not stop, and leaves it alone', async () => {
    await mkdir(join(dir, 'containers', 'c1'), { recursive: true });
    const dea = new FakeDea({ dir, apps: 1, instancesPerApp: 1, rate: 1 });

    await expect(dea.start()).rejects.toThrow(DepotUsageError);
    expect(await exists(join(dir, 'containers', 'c1'))).toBe(true);
    expect(await exists(join(dir, 'instances.json'))).toBe(false);
  });
});

describe('simulate-dea command', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dea-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function parse(args: string[]): { error?: CommanderError; stderr: string } {
    let stderr = '';
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeErr: t => (stderr += t), writeOut: () => undefined });
    registerSimulateDea(program);
    try {
      program.parse(['simulate-dea', dir, ...args], { from: 'user' });
    } catch (err) {
      return { error: err as CommanderError, stderr };
    }
    return { stderr };
  }

  it.each([
    [['--apps', '0'], '--apps must be a whole number from 1 to 1000'],
    [['--apps', '1001'], '--apps must be a whole number from 1 to 1000'],
    [['--apps', 'many'], '--apps must be a whole number from 1 to 1000'],
    [['--instances', '101'], '--instances must be a whole number from 1 to 100'],
    [['--rate', '-1'], '--rate must be a whole number from 0 to 100000'],
    [['--rate', '2.5'], '--rate must be a whole number from 0 to 100000'],
    [['--rate', '100001'], '--rate must be a whole number from 0 to 100000'],
    [['--churn', '0'], '--churn must be a number of seconds from 0.01 to 86400'],
    [['--duration', 'soon'], '--duration must be a number of seconds from 0.1 to 604800'],
  ])('exits 2 on %j, saying what is wrong', (args, message) => {
    const { error, stderr } = parse(args);

    expect(error?.exitCode).toBe(2);
    expect(stderr).toContain(`argument '${args[1]}' is invalid. ${message}`);
  });

  it('prints ready, the churn and stopped as JSON lines, and exits 0 after --duration', async () => {
    const out: string[] = [];
    const err: string[] = [];

    const code = await runSimulateDea(
      { dir, apps: 2, instances: 1, rate: 10, splitWrites: false, churnSeconds: 0.05, durationSeconds: 0.3 },
      { out: t => out.push(t), err: t => err.push(t) },
    );

    const events = out.map(line => JSON.parse(line) as DepotEvent);
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(events[0]).toEqual({ event: 'ready', instances: 2, dir });
    expect(events.filter(e => e.event === 'removed').length).toBeGreaterThanOrEqual(1);
    expect(events.filter(e => e.event === 'added').length).toBe(events.filter(e => e.event === 'removed').length);
    expect(events[events.length - 1]).toEqual({ event: 'stopped', reason: 'duration' });
    expect(await readdir(dir)).toEqual(['instances.json']);
  });

  it('stops on the abort signal (SIGTERM in the CLI) and exits 0', async () => {
    const out: string[] = [];
    const abort = new AbortController();
    const running = runSimulateDea(
      { dir, apps: 1, instances: 1, rate: 10, splitWrites: false },
      { out: t => out.push(t), err: () => undefined, signal: abort.signal },
    );
    await waitFor(() => out.length > 0, { what: 'ready' });
    abort.abort('SIGTERM');

    expect(await within(running, 5_000, 'the stop')).toBe(0);
    expect(JSON.parse(out[out.length - 1])).toEqual({ event: 'stopped', reason: 'SIGTERM' });
  });

  it('exits 2 with the offending path when DIR is too deep', async () => {
    const err: string[] = [];
    const deep = join(dir, 'd'.repeat(100));

    const code = await runSimulateDea(
      { dir: deep, apps: 1, instances: 1, rate: 1, splitWrites: false },
      { out: () => undefined, err: t => err.push(t) },
    );

    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/the socket path .*\/containers\/c1\/jobs\/1\/stdout\.sock is \d+ bytes, longer than the 107/);
  });
});
