// Shared by the bench's phases (run.ts, fanIn.ts, firehose.ts): the children it starts (tracked, killed by
// PID only), measuring helpers, one trial's verdict and the rate search. Importing it sets the
// handlers that kill those children when the bench exits or is interrupted.
import { ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ChildRpc, SendArgs, SendResult } from './proto';

export const TRIAL_MS = Number(process.env.BENCH_TRIAL_MS ?? 2000);
export const PROFILE_DIR = process.env.BENCH_PROFILE ? (process.env.BENCH_PROFILE_DIR ?? '/tmp/loggregator-bench-profiles') : undefined;
export const LAG_LIMIT_MS = 100;

// --- children: started here, tracked, killed by PID only --------------------------------------

const children = new Set<ChildProcess>();

export function track(proc: ChildProcess): void {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
}

export function alive(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

export function killChildren(signal: NodeJS.Signals): void {
  for (const proc of children) {
    if (proc.pid !== undefined && alive(proc)) {
      try {
        process.kill(proc.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

process.on('exit', () => killChildren('SIGKILL'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren('SIGKILL');
    process.exit(130);
  });
}

export function waitExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (!alive(proc)) return Promise.resolve(true);
  return new Promise(resolve => {
    const t = setTimeout(() => resolve(false), ms);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export async function stopChild(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (!alive(proc) || proc.pid === undefined) return;
  process.kill(proc.pid, 'SIGTERM');
  if (!(await waitExit(proc, graceMs)) && alive(proc)) {
    process.kill(proc.pid, 'SIGKILL');
    await waitExit(proc, 2000);
  }
}

/** A helper child (child.ts) with one role; `args` follow the role on its command line. */
export async function forkHelper(role: string, args: readonly string[] = []): Promise<ChildRpc> {
  const proc = fork(path.join(__dirname, 'child.js'), [role, ...args], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(proc);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${role} helper did not start within 10 s`)), 10_000);
    proc.once('message', () => {
      clearTimeout(t);
      resolve();
    });
    proc.once('exit', code => {
      clearTimeout(t);
      reject(new Error(`${role} helper exited with ${code} before it was ready`));
    });
  });
  return new ChildRpc(role, proc);
}

export interface RouterChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly udpPort: number;
  readonly httpPort: number;
  readonly base: string;
  readonly log: string[];
}

/**
 * LOGGREGATOR_ROUTER_WORKERS for every router the bench starts, unless a phase sets its own (the
 * scaling table's single-worker side): BENCH_ROUTER_WORKERS, else "auto" (one worker thread per
 * CPU, the default config's value; a router that has no workers setting ignores it).
 */
export const ROUTER_WORKERS = process.env.BENCH_ROUTER_WORKERS ?? 'auto';

/**
 * The built CLI running `command` (`router`, `traffic-controller`, `serve`) in its own process,
 * tracked, with the bench's preload, no LOGGREGATOR_* variable of the bench's own environment but
 * LOGGREGATOR_ROUTER_WORKERS and those in `env`, and its log (stderr) piped: read it with
 * awaitLogEntry. BENCH_ROUTER_CLI picks the build.
 */
export function spawnCli(command: string, profileName: string, env: Record<string, string>): ChildProcess {
  const cli = process.env.BENCH_ROUTER_CLI ?? path.join(__dirname, '..', 'src', 'cli', 'main.js');
  const execArgv = ['--expose-gc', '--require', path.join(__dirname, 'routerPreload.js')];
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${profileName}-${process.pid}.cpuprofile`);
  }
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOGGREGATOR_')));
  const proc = spawn(process.execPath, [...execArgv, cli, command], {
    env: { ...inherited, LOGGREGATOR_ROUTER_WORKERS: ROUTER_WORKERS, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(proc);
  return proc;
}

/** The built CLI (`router`) in its own process, on free ports; resolves once it is listening. */
export async function startRouterChild(name: string, env: Record<string, string> = {}): Promise<RouterChild> {
  const proc = spawnCli('router', `router-${name}`, {
    LOGGREGATOR_ROUTER_UDP_HOST: '127.0.0.1',
    LOGGREGATOR_ROUTER_UDP_PORT: '0',
    LOGGREGATOR_ROUTER_HTTP_HOST: '127.0.0.1',
    LOGGREGATOR_ROUTER_HTTP_PORT: '0',
    ...env,
  });
  const { entry, log } = await awaitLogEntry(proc, `router (${name})`, 'router listening', e => Boolean(e.udp && e.http));
  const udpPort = Number(String(entry.udp).split(':').pop());
  const http = new URL(String(entry.http));
  return { proc, pid: proc.pid!, udpPort, httpPort: Number(http.port), base: `http://127.0.0.1:${http.port}`, log };
}

export interface ServeChild extends RouterChild {
  /** The traffic controller's HTTP port (tail, recent, metrics) in the same process. */
  readonly tcPort: number;
  readonly tcBase: string;
  /** A bearer token the traffic controller accepts for every app. */
  readonly token: string;
  /** Its data dir and tokens file live here; removed by stopServeChild. */
  readonly dir: string;
}

/**
 * The built CLI's `serve`, as a new user runs it: router and traffic controller in one process,
 * with the default config but for free ports on 127.0.0.1, a data dir in a temp dir, and a tokens
 * file (written here with a random token for every app). Resolves once both listen.
 */
export async function startServeChild(name: string, env: Record<string, string> = {}): Promise<ServeChild> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lgb-serve-'));
  const token = randomBytes(24).toString('base64url');
  const tokensFile = path.join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ tokens: { [token]: '*' } }), { mode: 0o600 });
  const proc = spawnCli('serve', `serve-${name}`, {
    LOGGREGATOR_ROUTER_UDP_HOST: '127.0.0.1',
    LOGGREGATOR_ROUTER_UDP_PORT: '0',
    LOGGREGATOR_ROUTER_HTTP_HOST: '127.0.0.1',
    LOGGREGATOR_ROUTER_HTTP_PORT: '0',
    LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_HOST: '127.0.0.1',
    LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
    LOGGREGATOR_DATA_DIR: path.join(dir, 'data'),
    LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_TOKENS_FILE: tokensFile,
    ...env,
  });
  try {
    const { entries, log } = await awaitLogEntries(proc, `serve (${name})`, [
      { message: 'router listening', complete: e => Boolean(e.udp && e.http) },
      { message: 'traffic controller listening', complete: e => Boolean(e.http) },
    ]);
    const [routerEntry, tcEntry] = entries;
    const udpPort = Number(String(routerEntry.udp).split(':').pop());
    const http = new URL(String(routerEntry.http));
    const tc = new URL(String(tcEntry.http));
    return {
      proc,
      pid: proc.pid!,
      udpPort,
      httpPort: Number(http.port),
      base: `http://127.0.0.1:${http.port}`,
      tcPort: Number(tc.port),
      tcBase: `http://127.0.0.1:${tc.port}`,
      token,
      dir,
      log,
    };
  } catch (err) {
    await stopChild(proc);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function stopServeChild(serve: ServeChild, graceMs = 8000): Promise<void> {
  await stopChild(serve.proc, graceMs);
  rmSync(serve.dir, { recursive: true, force: true });
}

/**
 * Resolves with the first JSON log line of a child (on its stderr) whose message is `message`
 * and that `complete` accepts, and the last 200 lines; rejects if the child exits first or
 * nothing comes within 30 s (on a loaded 2-core host, four routers starting at once have taken
 * over 15 s).
 */
export async function awaitLogEntry(
  proc: ChildProcess,
  what: string,
  message: string,
  complete: (entry: Record<string, unknown>) => boolean,
): Promise<{ entry: Record<string, unknown>; log: string[] }> {
  const { entries, log } = await awaitLogEntries(proc, what, [{ message, complete }]);
  return { entry: entries[0], log };
}

/**
 * As awaitLogEntry, for several log lines (in any order) read from one reader of the child's
 * stderr: resolves once each has come. The log keeps its last 200 lines after that too.
 */
export function awaitLogEntries(
  proc: ChildProcess,
  what: string,
  wants: ReadonlyArray<{ message: string; complete: (entry: Record<string, unknown>) => boolean }>,
): Promise<{ entries: Record<string, unknown>[]; log: string[] }> {
  const log: string[] = [];
  const entries: Array<Record<string, unknown> | undefined> = wants.map(() => undefined);
  const missing = () => wants.filter((_, i) => !entries[i]).map(w => `"${w.message}"`).join(', ');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not report ${missing()} within 30 s:\n${log.join('\n')}`)), 30_000);
    proc.once('exit', code => {
      clearTimeout(t);
      reject(new Error(`${what} exited with ${code} before ${missing()}:\n${log.join('\n')}`));
    });
    createInterface({ input: proc.stderr! }).on('line', line => {
      log.push(line);
      if (log.length > 200) log.shift();
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      const i = wants.findIndex((w, k) => !entries[k] && entry.message === w.message && w.complete(entry));
      if (i < 0) return;
      entries[i] = entry;
      if (entries.every(Boolean)) {
        clearTimeout(t);
        resolve({ entries: entries as Record<string, unknown>[], log });
      }
    });
  });
}

// --- measuring helpers ------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

export type Metrics = Map<string, number>;

export async function fetchMetrics(target: { readonly base: string }, timeoutMs = 5000): Promise<Metrics> {
  const res = await fetch(`${target.base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  const out: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export const metric = (m: Metrics, key: string) => m.get(key) ?? NaN;

/** CPU seconds (user + system) a child has used so far, from /proc; NaN where unavailable. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds (user + system) of each thread of a process so far, by thread id, from
 * /proc/<pid>/task/<tid>/stat (worker threads are threads of the process: the router's workers,
 * the traffic controller's thread in `serve`, and V8's and libuv's helper threads). Empty where
 * unavailable; a thread that ended between two readings is missing from the later one.
 */
export function threadCpuSeconds(pid: number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (pid === undefined) return out;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** UDP receive-buffer overflows on this host (all sockets), from /proc/net/snmp. */
export function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter(l => l.startsWith('Udp:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')]);
  } catch {
    return NaN;
  }
}

/** Polls until `probe` reaches `want`, stops changing for `quietMs`, or `maxMs` passes. */
export async function settle(probe: () => Promise<number>, want: number, quietMs: number, maxMs: number): Promise<number> {
  const start = Date.now();
  let last = await probe();
  let lastChange = Date.now();
  while (last < want && Date.now() - lastChange < quietMs && Date.now() - start < maxMs) {
    await sleep(50);
    const v = await probe();
    if (v !== last) {
      last = v;
      lastChange = Date.now();
    }
  }
  return last;
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
export const pct = (n: number) => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : 'n/a');
export const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;

export function say(text = ''): void {
  process.stdout.write(text + '\n');
}

// --- trials and the search --------------------------------------------------------------------

/**
 * One trial at one rate. It passes when it is lossless (every line sent arrived: at the sink, or
 * at every tail client) and the receiver kept up: the last line arrived at most LAG_LIMIT_MS
 * after it was sent (and, at tail clients, 99% of lines did). Without the second condition a short trial "passes" at rates the receiver
 * cannot sustain, because the 8 MiB socket buffer (~6,500 datagrams) quietly absorbs the deficit.
 */
export interface Trial {
  readonly target: number;
  readonly sent: number;
  readonly achieved: number;
  /** Lines received (the fewest any one client got, for tail trials). */
  readonly received: number;
  readonly lossless: boolean;
  /**
   * How far behind the receiver was, ms (NaN if not everything arrived): last line received minus
   * last line sent; for tail trials, the larger of that and the 99th-percentile latency.
   */
  readonly lagMs: number;
  readonly pass: boolean;
  readonly senderLimited: boolean;
  /** CPU time the receiver (sink or router) spent per line received, µs: less noisy than rates. */
  readonly cpuUsPerLine: number;
  readonly detail: string;
  /** Overrides the verdict word printed (e.g. BEHIND when a trial fails for a reason other than loss or lag). */
  readonly word?: string;
  /** What limited the rate when `senderLimited` (default "sender"). */
  readonly limitedBy?: string;
}

export const trialCount = (rate: number) => Math.max(1, Math.round((rate * TRIAL_MS) / 1000));

export function verdict(lossless: boolean, lagMs: number): { pass: boolean; word: string } {
  if (!lossless) return { pass: false, word: 'LOST  ' };
  if (!(lagMs <= LAG_LIMIT_MS)) return { pass: false, word: 'BEHIND' };
  return { pass: true, word: 'ok    ' };
}

export function sendArgs(port: number, rate: number, app: string, count = trialCount(rate)): SendArgs {
  return { port, rate, count, appPrefix: app, appCount: 1, seqStart: 0, maxMs: (count / rate) * 1000 * 2 + 500 };
}

export async function send(sender: ChildRpc, args: SendArgs): Promise<SendResult> {
  return sender.call<SendResult>('send', args, args.maxMs + 15_000);
}

export function printTrial(label: string, t: Trial): void {
  say(
    `  ${label} ${fmt(t.target).padStart(7)}/s  sent ${fmt(t.sent).padStart(7)} @ ${fmt(t.achieved).padStart(7)}/s` +
      `  got ${fmt(t.received).padStart(7)}  lag ${fmt(t.lagMs).padStart(5)} ms  ${t.word ?? verdict(t.lossless, t.lagMs).word}` +
      `${t.senderLimited ? ` (${t.limitedBy ?? 'sender'}-limited)` : ''}  ${t.detail}`,
  );
}

export interface Search {
  readonly best?: Trial;
  readonly lowestFail?: number;
  readonly trials: Trial[];
  readonly senderLimited: boolean;
}

/**
 * Highest passing rate: one uncounted warm-up trial, then doubling from `start` until a rate
 * fails, then bisection to within 10%. A rate passes if one of up to two trials at it passes
 * (one noisy trial on a shared 2-core machine does not sink it). At most `maxTrials` trials, and
 * none started after `until` (Date.now()).
 */
export async function search(
  label: string,
  trial: (rate: number) => Promise<Trial>,
  start: number,
  maxTrials: number,
  until = Infinity,
): Promise<Search> {
  const warm = await trial(Math.round(start / 2));
  printTrial(`${label} (warm-up)`, warm);
  const trials: Trial[] = [];
  let best: Trial | undefined;
  let lo = 0;
  let hi = Infinity;
  let senderLimited = false;
  const attempt = async (rate: number): Promise<Trial> => {
    let t: Trial | undefined;
    for (let k = 0; k < 2 && trials.length < maxTrials && (k === 0 || Date.now() < until); k++) {
      t = await trial(Math.round(rate));
      trials.push(t);
      printTrial(label, t);
      if (t.pass) break;
    }
    return t!;
  };
  let rate = start;
  while (trials.length < maxTrials && Date.now() < until) {
    const t = await attempt(rate);
    if (t.pass) {
      lo = rate;
      if (!best || t.achieved > best.achieved) best = t;
      if (t.senderLimited) {
        senderLimited = true;
        break;
      }
      rate *= 2;
    } else {
      hi = rate;
      break;
    }
  }
  for (let step = 0; step < 5 && hi !== Infinity && !senderLimited && trials.length < maxTrials && Date.now() < until; step++) {
    if (lo > 0 && hi / lo < 1.1) break;
    const mid = lo === 0 ? hi / 2 : (lo + hi) / 2;
    const t = await attempt(mid);
    if (t.pass) {
      lo = mid;
      if (!best || t.achieved > best.achieved) best = t;
    } else hi = mid;
  }
  return { best, lowestFail: hi === Infinity ? undefined : Math.round(hi), trials, senderLimited };
}

export const sumSeries = (m: Metrics | undefined, prefix: string) => {
  if (!m) return NaN;
  let sum = 0;
  for (const [k, v] of m) if (k.startsWith(prefix)) sum += v;
  return sum;
};

export const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

export function phaseHeader(text: string): void {
  say(`${text}   [load ${loadavg().map(l => l.toFixed(2)).join(' ')}]`);
}
