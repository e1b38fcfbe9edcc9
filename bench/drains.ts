// The drains phase's outside programs: a syslog-ng receiver (the far end of every drain), rsyslog
// (the baseline forwarder, obtained without installing it), and a counter that reads the lines the
// receiver wrote. run.ts runs the phase itself; everything here only starts, stops and counts.
//
// syslog-ng (Debian's syslog-ng-core) must be installed. rsyslog cannot be installed beside it
// (Debian marks the two as conflicting), so its .deb and those of its libraries that are not
// installed are fetched with `apt-get download` into a cache dir, unpacked with `dpkg-deb -x`, and
// run from there (LD_LIBRARY_PATH, `-M` for its module dir). Every process started here is handed
// to the caller's `track` and is stopped by its PID only; every wait is bounded.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { digits } from './proto';

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));

export type Track = (proc: ChildProcess) => void;

function alive(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** Keeps the last 100 lines a child writes on stdout and stderr (for error messages). */
function keepOutput(proc: ChildProcess): string[] {
  const out: string[] = [];
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', line => {
      out.push(line);
      if (out.length > 100) out.shift();
    });
  }
  return out;
}

// --- ports ------------------------------------------------------------------------------------

/** `n` distinct free TCP ports on 127.0.0.1 (held together, then released: the race is small). */
export async function freeTcpPorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map(s => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map(s => new Promise<void>(resolve => s.close(() => resolve()))));
  }
}

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>(resolve => s.close(() => resolve()));
  return port;
}

/** Local ports on 127.0.0.1 in state LISTEN (TCP) or bound (UDP), from /proc/net/{tcp,udp}. */
function boundPorts(proto: 'tcp' | 'udp'): Set<number> {
  const out = new Set<number>();
  try {
    for (const line of readFileSync(`/proc/net/${proto}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const [ip, port] = f[1].split(':');
      if (ip !== '0100007F' && ip !== '00000000') continue;
      if (proto === 'tcp' && f[3] !== '0A') continue; // LISTEN
      out.add(parseInt(port, 16));
    }
  } catch {
    // no /proc: callers time out with a clear message
  }
  return out;
}

async function awaitBound(proc: ChildProcess, what: string, proto: 'tcp' | 'udp', ports: number[], output: string[], maxMs = 10_000): Promise<void> {
  const until = Date.now() + maxMs;
  for (;;) {
    if (!alive(proc)) throw new Error(`${what} exited (code ${proc.exitCode}) before it listened:\n${output.join('\n')}`);
    const bound = boundPorts(proto);
    const missing = ports.filter(p => !bound.has(p));
    if (missing.length === 0) return;
    if (Date.now() > until) {
      throw new Error(`${what} did not bind ${proto} ports ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} within ${maxMs} ms:\n${output.join('\n')}`);
    }
    await sleep(50);
  }
}

// --- the receiver: syslog-ng --------------------------------------------------------------------

export interface SyslogReceiver {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** One line per frame received: `APP-NAME DESTPORT MESSAGE`. */
  readonly file: string;
  readonly internalLog: string;
  readonly ports: readonly number[];
  readonly output: string[];
}

export function syslogNgPath(): string | undefined {
  for (const p of ['/usr/sbin/syslog-ng', '/usr/bin/syslog-ng', '/sbin/syslog-ng']) if (existsSync(p)) return p;
  return undefined;
}

/**
 * syslog-ng listening on every port in `ports` (127.0.0.1, TCP, RFC 6587 octet counting, RFC 5424
 * parsing), all writing to one file with the cheap template `${PROGRAM} ${DESTPORT} ${MESSAGE}\n`.
 * flags(flow-control): when the file falls behind, syslog-ng stops reading the sockets (the
 * senders see TCP backpressure) rather than dropping lines, so any loss is the sender's.
 * threaded(no): one thread; with 100 busy connections it spends about half the CPU per line of
 * its threaded default (measured here: ~22 against ~40 µs), leaving more of the 2 cores to the
 * forwarder under test; with one connection the two are alike (~5 µs).
 */
export async function startSyslogReceiver(dir: string, ports: readonly number[], track: Track): Promise<SyslogReceiver> {
  const bin = syslogNgPath();
  if (!bin) throw new Error('syslog-ng is not installed (apt-get install -y syslog-ng-core)');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'lines');
  const internalLog = path.join(dir, 'internal.log');
  writeFileSync(file, '');
  writeFileSync(internalLog, '');
  // Per connection syslog-ng's window is log-iw-size / max-connections; it must hold log-fetch-limit.
  const drivers = ports
    .map(p => `  syslog(ip("127.0.0.1") port(${p}) transport("tcp") max-connections(4) log-iw-size(20000) log-fetch-limit(1000) log-msg-size(65536));`)
    .join('\n');
  const conf = `@version: 3.35
options { threaded(no); stats-freq(0); mark-freq(0); keep-hostname(yes); use-dns(no); dns-cache(no); chain-hostnames(no); create-dirs(no); };
source s_drains {
${drivers}
};
source s_self { internal(); };
destination d_lines { file("${file}" template("\${PROGRAM} \${DESTPORT} \${MESSAGE}\\n") template-escape(no) log-fifo-size(100000)); };
destination d_internal { file("${internalLog}" template("\${ISODATE} \${MESSAGE}\\n")); };
log { source(s_drains); destination(d_lines); flags(flow-control); };
log { source(s_self); destination(d_internal); };
`;
  const confPath = path.join(dir, 'syslog-ng.conf');
  writeFileSync(confPath, conf);
  const proc = spawn(bin, ['-F', '--no-caps', '-f', confPath, '-R', path.join(dir, 'persist'), '-p', path.join(dir, 'syslog-ng.pid'), '-c', path.join(dir, 'ctl')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc);
  const output = keepOutput(proc);
  await awaitBound(proc, 'syslog-ng', 'tcp', [...ports], output);
  return { proc, pid: proc.pid!, file, internalLog, ports, output };
}

// --- counting what the receiver wrote ---------------------------------------------------------

/** What a LineCounter saw since it was armed. */
export interface CounterStats {
  /** Distinct expected seqs received. */
  readonly distinct: number;
  readonly duplicates: number;
  /** Bench lines of this trial that came with the wrong app name or to the wrong port (drain). */
  readonly misrouted: number;
  /** Lines that are not this trial's bench lines (other seqs, notices, parse errors). */
  readonly foreign: number;
  /** When the last new line was seen (monotonic ns, at the poll that read it; 0: none). */
  readonly lastNewNs: number;
  /** Per-line latency, ms: when the poll read it minus its send time (≥ the true latency by up to a poll). */
  readonly p50: number;
  readonly p99: number;
  /** Up to 3 of the foreign lines, for the report. */
  readonly samples: readonly string[];
}

/** Which app and receiver port a seq must arrive with. */
export type Expect = (seq: number) => { app: string; port: number };

/**
 * Reads the receiver's file as it grows (every `pollMs` while armed) and counts the bench lines
 * (`#SSSSSSSSSS tTTTT… text`, see proto.ts) of the armed seq range. Arming truncates the file
 * (syslog-ng appends, so its next write starts at the new end).
 */
export class LineCounter {
  private fd: number;
  private offset = 0;
  private rest = Buffer.alloc(0);
  private readonly buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  private timer?: NodeJS.Timeout;
  private seqBase = 0;
  private seen = new Uint8Array(0);
  private expect: Expect = () => ({ app: '', port: 0 });
  private s = { distinct: 0, duplicates: 0, misrouted: 0, foreign: 0, lastNewNs: 0 };
  private lat = new Float64Array(0);
  private latN = 0;
  private samples: string[] = [];

  constructor(
    readonly file: string,
    private readonly pollMs = 10,
  ) {
    this.fd = openSync(file, 'r');
  }

  arm(seqBase: number, count: number, expect: Expect): void {
    this.disarm();
    truncateSync(this.file, 0);
    this.offset = 0;
    this.rest = Buffer.alloc(0);
    this.seqBase = seqBase;
    this.seen = new Uint8Array(count);
    this.expect = expect;
    this.s = { distinct: 0, duplicates: 0, misrouted: 0, foreign: 0, lastNewNs: 0 };
    this.lat = new Float64Array(count);
    this.latN = 0;
    this.samples = [];
    this.timer = setInterval(() => this.poll(), this.pollMs);
  }

  disarm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.disarm();
    closeSync(this.fd);
  }

  stats(): CounterStats {
    this.poll();
    const a = this.lat.slice(0, this.latN).sort();
    const q = (p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
    return { ...this.s, p50: q(0.5), p99: q(0.99), samples: this.samples };
  }

  /** Reads what was appended since the last poll. */
  poll(): void {
    let size: number;
    try {
      size = fstatSync(this.fd).size;
    } catch {
      return;
    }
    if (size < this.offset) {
      // truncated behind our back: start again
      this.offset = 0;
      this.rest = Buffer.alloc(0);
    }
    while (this.offset < size) {
      const n = readSync(this.fd, this.buf, 0, Math.min(this.buf.length, size - this.offset), this.offset);
      if (n <= 0) break;
      this.offset += n;
      const chunk = this.rest.length ? Buffer.concat([this.rest, this.buf.subarray(0, n)]) : this.buf.subarray(0, n);
      const nowNs = Number(process.hrtime.bigint());
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
        this.line(chunk, from, nl, nowNs);
        from = nl + 1;
      }
      this.rest = Buffer.from(chunk.subarray(from)); // a copy: this.buf is reused
    }
  }

  private line(b: Buffer, from: number, end: number, nowNs: number): void {
    const sp1 = b.indexOf(32, from);
    const sp2 = sp1 < 0 || sp1 >= end ? -1 : b.indexOf(32, sp1 + 1);
    const m = sp2 + 1; // at '#'
    if (sp2 < 0 || sp2 >= end || end - m < 33 || b[m] !== 35 /* # */) return this.foreignLine(b, from, end);
    const seq = digits(b, m + 1, 10);
    const sentNs = digits(b, m + 13, 20);
    const i = seq - this.seqBase;
    if (seq < 0 || i < 0 || i >= this.seen.length) return this.foreignLine(b, from, end);
    if (this.seen[i]) {
      this.s.duplicates++;
      return;
    }
    this.seen[i] = 1;
    this.s.distinct++;
    this.s.lastNewNs = nowNs;
    if (sentNs > 0 && this.latN < this.lat.length) this.lat[this.latN++] = (nowNs - sentNs) / 1e6;
    const want = this.expect(seq);
    const app = b.toString('latin1', from, sp1);
    const port = digits(b, sp1 + 1, sp2 - sp1 - 1);
    if (app !== want.app || port !== want.port) this.s.misrouted++;
  }

  private foreignLine(b: Buffer, from: number, end: number): void {
    this.s.foreign++;
    if (this.samples.length < 3) this.samples.push(b.toString('utf8', from, Math.min(end, from + 160)));
  }
}

// --- rsyslog: obtained without installing it -------------------------------------------------

export interface Rsyslog {
  readonly bin: string;
  /** Where its .so modules are (`-M`). */
  readonly modDir: string;
  /** LD_LIBRARY_PATH for the libraries unpacked beside it. */
  readonly libPath: string;
  readonly version: string;
  /** Where it came from, for the report. */
  readonly origin: string;
}

export type RsyslogResult = { readonly ok: true; readonly rsyslog: Rsyslog } | { readonly ok: false; readonly reason: string };

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number; out: string }> {
  return new Promise(resolve => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}${err && code === -1 ? String(err.message) : ''}` });
    });
  });
}

/** The cache dir for downloaded tools: $BENCH_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /loggregator-bench. */
export function benchCacheDir(): string {
  return process.env.BENCH_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'loggregator-bench');
}

/** rsyslogd, its module dir and library path inside an unpacked tree, if it is complete. */
function layout(root: string): { bin: string; modDir: string; libPath: string } | undefined {
  const bin = path.join(root, 'usr', 'sbin', 'rsyslogd');
  if (!existsSync(bin)) return undefined;
  for (const base of [path.join(root, 'usr', 'lib'), path.join(root, 'lib')]) {
    let entries: string[] = [];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const triplet of ['', ...entries]) {
      const modDir = path.join(base, triplet, 'rsyslog');
      if (existsSync(path.join(modDir, 'imudp.so'))) {
        const libs = [path.join(base, triplet), path.join(root, 'lib', triplet)].filter(existsSync);
        return { bin, modDir, libPath: libs.join(':') };
      }
    }
  }
  return undefined;
}

/** Shared libraries that rsyslogd or the modules the bench loads cannot find (ldd "not found"). */
async function missingLibs(l: { bin: string; modDir: string; libPath: string }): Promise<string[]> {
  const env = { ...process.env, LD_LIBRARY_PATH: l.libPath };
  const missing = new Set<string>();
  for (const f of [l.bin, path.join(l.modDir, 'imudp.so')]) {
    const r = await run('ldd', [f], { env, timeoutMs: 10_000 });
    for (const m of r.out.matchAll(/^\s*(\S+) => not found/gm)) missing.add(m[1]);
  }
  return [...missing];
}

async function versionOf(l: { bin: string; libPath: string }): Promise<string | undefined> {
  const r = await run(l.bin, ['-v'], { env: { ...process.env, LD_LIBRARY_PATH: l.libPath }, timeoutMs: 10_000 });
  const m = /rsyslogd\s+(\S+)/.exec(r.out);
  return r.code === 0 && m ? m[1] : undefined;
}

/**
 * rsyslog ready to run from the cache, fetching it the first time: `apt-get download rsyslog`
 * plus those of its Depends (per `apt-cache depends`) that are not installed, `dpkg-deb -x`
 * of each into one tree, checked with ldd and `rsyslogd -v`, then renamed into place. When the
 * lists are missing it runs `apt-get update` once (as root) and tries again. Never installs.
 */
export async function obtainRsyslog(say: (s: string) => void): Promise<RsyslogResult> {
  const cache = path.join(benchCacheDir(), 'rsyslog');
  const root = path.join(cache, 'root');
  const cached = layout(root);
  if (cached && (await missingLibs(cached)).length === 0) {
    const version = await versionOf(cached);
    if (version) return { ok: true, rsyslog: { ...cached, version, origin: `cached in ${root}` } };
  }
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb', 'dpkg-query', 'ldd']) {
    if ((await run('sh', ['-c', `command -v ${tool}`], { timeoutMs: 5000 })).code !== 0) {
      return { ok: false, reason: `${tool} not found (rsyslog is fetched with apt-get download; not a Debian-like host?)` };
    }
  }
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, 'fetch-'));
  try {
    say(`  fetching rsyslog (not installed: it conflicts with syslog-ng-core) with apt-get download into ${cache} …`);
    const depends = async () => {
      const r = await run('apt-cache', ['depends', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', 'rsyslog'], { timeoutMs: 30_000 });
      return r.code === 0 ? [...r.out.matchAll(/^\s*\|?Depends:\s+([^\s<>]+)/gm)].map(m => m[1]) : undefined;
    };
    const installed = async (pkg: string) => (await run('dpkg-query', ['-W', '-f=${db:Status-Status}', pkg], { timeoutMs: 10_000 })).out.trim() === 'installed';
    const download = async () => {
      const deps = (await depends()) ?? [];
      const wanted = ['rsyslog'];
      for (const d of deps) if (!(await installed(d))) wanted.push(d);
      const r = await run('apt-get', ['download', '-q', ...wanted], { cwd: work, timeoutMs: 120_000 });
      return { r, wanted };
    };
    let { r, wanted } = await download();
    if (r.code !== 0 && process.getuid?.() === 0) {
      say(`  apt-get download failed (${lastLine(r.out)}); running apt-get update once and trying again`);
      const u = await run('apt-get', ['update', '-q'], { timeoutMs: 180_000 });
      if (u.code !== 0) return { ok: false, reason: `apt-get update failed: ${lastLine(u.out)}` };
      ({ r, wanted } = await download());
    }
    if (r.code !== 0) return { ok: false, reason: `apt-get download ${wanted.join(' ')} failed: ${lastLine(r.out)}` };
    const debs = readdirSync(work).filter(f => f.endsWith('.deb'));
    const tree = path.join(work, 'root');
    for (const deb of debs) {
      const x = await run('dpkg-deb', ['-x', deb, tree], { cwd: work, timeoutMs: 60_000 });
      if (x.code !== 0) return { ok: false, reason: `dpkg-deb -x ${deb} failed: ${lastLine(x.out)}` };
    }
    const l = layout(tree);
    if (!l) return { ok: false, reason: `the rsyslog package (${debs.join(', ')}) has no usr/sbin/rsyslogd or no imudp.so` };
    const missing = await missingLibs(l);
    if (missing.length) return { ok: false, reason: `rsyslogd still lacks libraries after fetching ${wanted.join(' ')}: ${missing.join(', ')}` };
    const version = await versionOf(l);
    if (!version) return { ok: false, reason: 'the fetched rsyslogd does not run (`rsyslogd -v` failed)' };
    rmSync(root, { recursive: true, force: true });
    renameSync(tree, root);
    const final = layout(root)!;
    return { ok: true, rsyslog: { ...final, version, origin: `fetched (${debs.join(', ')}) into ${root}` } };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function lastLine(out: string): string {
  const lines = out.split('\n').filter(l => l.trim() !== '' && !l.startsWith('W: Download is performed unsandboxed'));
  return (lines[lines.length - 1] ?? '(no output)').trim();
}

export interface RsyslogChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly output: string[];
  readonly internalLog: string;
}

/**
 * rsyslogd in the foreground (-n) as a plain forwarder: imudp on 127.0.0.1:udpPort with `threads`
 * receiving threads (imudp's module parameter, 1–32) and an 8 MiB receive buffer (as the router
 * asks) → omfwd TCP to 127.0.0.1:tcpPort with RFC 6587 octet-counted
 * framing and an RFC 5424 template. Its own messages go to a file in `dir`; no imuxsock, no
 * imklog, no /dev/log; its work directory and PID file are in `dir`.
 */
export async function startRsyslog(rs: Rsyslog, dir: string, udpPort: number, tcpPort: number, track: Track, threads = 1): Promise<RsyslogChild> {
  mkdirSync(path.join(dir, 'work'), { recursive: true });
  const internalLog = path.join(dir, 'rsyslog-internal.log');
  const conf = `global(workDirectory="${path.join(dir, 'work')}" maxMessageSize="64k")
module(load="imudp" threads="${Math.max(1, Math.min(32, threads))}")
template(name="rfc5424" type="string" string="<%PRI%>1 %TIMESTAMP:::date-rfc3339% %HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%")
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port="${tcpPort}" protocol="tcp" TCP_Framing="octet-counted" template="rfc5424")
}
input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="forward" rcvBufSize="8m")
*.* action(type="omfile" file="${internalLog}")
`;
  const confPath = path.join(dir, 'rsyslog.conf');
  writeFileSync(confPath, conf);
  const check = await run(rs.bin, ['-N1', '-f', confPath, '-M', rs.modDir], { env: { ...process.env, LD_LIBRARY_PATH: rs.libPath }, timeoutMs: 10_000 });
  if (check.code !== 0) throw new Error(`rsyslogd -N1 rejected its config:\n${check.out}`);
  const proc = spawn(rs.bin, ['-n', '-f', confPath, '-i', path.join(dir, 'rsyslogd.pid'), '-M', rs.modDir], {
    env: { ...process.env, LD_LIBRARY_PATH: rs.libPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc);
  const output = keepOutput(proc);
  await awaitBound(proc, 'rsyslogd', 'udp', [udpPort], output);
  return { proc, pid: proc.pid!, output, internalLog };
}

/** `<dataDir>/bindings.json` as the router's file store reads it (written whole, then renamed in). */
export function writeBindings(dataDir: string, bindings: ReadonlyArray<{ app: string; url: string }>): void {
  mkdirSync(dataDir, { recursive: true });
  const tmp = path.join(dataDir, `.bindings.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ bindings }, null, 1));
  renameSync(tmp, path.join(dataDir, 'bindings.json'));
}
