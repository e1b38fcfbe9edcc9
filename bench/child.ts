// Helper processes of the benchmark, forked by run.ts with one role each:
//   sink    a bare dgram receiver that only counts datagrams (the raw ceiling)
//   sender  paces bench lines at a target rate to a UDP port, or round-robin over several (router envelopes,
//           or RFC 5424 lines for rsyslog): with the C sender (udpSender.c, its path as the second
//           argument) when run.ts could compile it, else with node's dgram
//   tails   N websocket tail clients (to a router, or to the traffic controller with a token) that
//           count, check and time every line they receive
//   dea     the DEA simulator (src/simulator/fakeDea.ts), one depot per agent trial
//   agentTails  one websocket tail client per app, counting the simulator's numbered lines
//   consumers   N websocket clients that share one trial's lines (each line expected at exactly
//           one of them): the firehose phase's consumers of one subscription, or one tail client
// Each answers requests over the IPC channel and exits when its parent goes away.
import { spawn } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { DepotStats, FakeDea } from '../src/simulator/fakeDea';
import {
  AgentTailStats,
  ConsumerStats,
  DatagramTemplate,
  DeaStartArgs,
  LatencySummary,
  Reply,
  Request,
  Rfc5424Template,
  SendArgs,
  SendResult,
  StampTemplate,
  TailStats,
  logTexts,
  monotonicNs,
  parseFrame,
  senderSpec,
} from './proto';

type Handler = (args: any) => unknown;

function serve(handlers: Record<string, Handler>): void {
  process.on('message', async (m: Request) => {
    let reply: Reply;
    try {
      const handler = handlers[m.cmd];
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      reply = { id: m.id, ok: true, result: await handler(m.args) };
    } catch (err) {
      reply = { id: m.id, ok: false, error: (err as Error).stack ?? String(err) };
    }
    process.send?.(reply);
  });
  // The parent is gone (or closed the channel): nothing left to do here.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ id: 0, ok: true, result: 'ready' } satisfies Reply);
}

const RECV_BUFFER_BYTES = 8 * 1024 * 1024; // what the router asks for by default

// --- sink -----------------------------------------------------------------------------------

function sink(): void {
  const socket = createSocket('udp4');
  let count = 0;
  let lastRecvNs = 0;
  socket.on('message', () => {
    count++;
    lastRecvNs = monotonicNs();
  });
  socket.on('error', () => undefined);
  socket.bind(0, '127.0.0.1', () => {
    try {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES);
    } catch {
      // the kernel caps it; same for the router
    }
    serve({
      address: () => ({ port: socket.address().port, recvBufferBytes: socket.getRecvBufferSize() }),
      count: () => ({ count, lastRecvNs }),
    });
  });
}

// --- sender ---------------------------------------------------------------------------------

const TEXTS = logTexts(256).map(t => Buffer.from(t, 'latin1'));

function connect(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      try {
        socket.setSendBufferSize(4 * 1024 * 1024);
      } catch {
        // capped by the kernel
      }
      resolve(socket);
    });
  });
}

/** The datagram templates of a run: one per app, line seq using templates[seq % length]. */
function templatesFor(a: SendArgs): StampTemplate[] {
  const Template = a.format === 'rfc5424' ? Rfc5424Template : DatagramTemplate;
  if (a.appCount <= 1) return [new Template(a.appPrefix)];
  return Array.from({ length: a.appCount }, (_, i) => new Template(`${a.appPrefix}${i}`));
}

async function sendNode(a: SendArgs): Promise<SendResult> {
  const sockets = await Promise.all((a.ports?.length ? a.ports : [a.port]).map(connect));
  let sendErrors = 0;
  for (const socket of sockets) socket.on('error', () => sendErrors++);
  const templates = templatesFor(a);
  const cpu0 = process.cpuUsage();

  // Never more than 2 ms worth of lines in one burst: a stall is caught up over several slots.
  const maxBurst = Math.max(1, Math.ceil(a.rate * 0.002));
  return new Promise<SendResult>(resolve => {
    const t0 = process.hrtime.bigint();
    const deadline = t0 + BigInt(Math.round(a.maxMs * 1e6));
    let sent = 0;
    let maxBacklog = 0;
    let firstNs = 0;
    let lastNs = t0;
    const finish = () => {
      const elapsedMs = Number(lastNs - t0) / 1e6;
      for (const socket of sockets) socket.close();
      const cpu = process.cpuUsage(cpu0);
      resolve({
        sent,
        elapsedMs,
        firstSendNs: firstNs || Number(t0),
        lastSendNs: Number(lastNs),
        achievedRate: elapsedMs > 0 ? (sent / elapsedMs) * 1000 : 0,
        maxBacklog,
        sendErrors,
        cpuMs: (cpu.user + cpu.system) / 1000,
      });
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      const due = Math.min(a.count, Math.floor((Number(now - t0) * a.rate) / 1e9) + 1);
      const backlog = due - sent;
      if (backlog > maxBacklog) maxBacklog = backlog;
      const n = Math.min(backlog, maxBurst);
      for (let k = 0; k < n; k++) {
        const seq = a.seqStart + sent;
        const template = templates[seq % templates.length];
        const stamp = monotonicNs();
        if (firstNs === 0) firstNs = stamp;
        const datagram = template.stamp(seq, stamp, TEXTS[seq % TEXTS.length]);
        try {
          // No callback: with one, node defers every send's completion (about 2x the cost);
          // errors still arrive as 'error' events, counted above.
          sockets[seq % sockets.length].send(datagram);
        } catch {
          sendErrors++;
        }
        sent++;
      }
      lastNs = process.hrtime.bigint();
      if (sent >= a.count || lastNs > deadline) {
        setImmediate(finish);
      } else if (due - sent > 0) {
        setImmediate(tick);
      } else {
        setTimeout(tick, 1);
      }
    };
    tick();
  });
}

/**
 * One run of the C sender (udpSender.c): the templates and texts go to it in a spec file, the
 * rest on its command line; it prints one JSON line. It is killed (by its PID) if it overruns
 * its own time limit by 10 s.
 */
function sendC(bin: string, dir: string, a: SendArgs): Promise<SendResult> {
  const spec = path.join(dir, `spec-${++specs}.bin`);
  writeFileSync(spec, senderSpec(templatesFor(a), TEXTS));
  const ports = a.ports?.length ? a.ports : [a.port];
  const args = [spec, String(a.rate), String(a.count), String(a.seqStart), String(a.maxMs), ports.join(',')];
  return new Promise<SendResult>((resolve, reject) => {
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      if (proc.pid !== undefined && proc.exitCode === null) process.kill(proc.pid, 'SIGKILL');
    }, a.maxMs + 10_000);
    proc.on('error', e => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        unlinkSync(spec);
      } catch {
        // already gone
      }
      const line = out.split('\n').find(l => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line) as SendResult);
      else reject(new Error(`udpSender exited (code ${code}, signal ${signal}): ${err.trim() || out.trim()}`));
    });
  });
}

let specs = 0;

function sender(): void {
  const bin = process.argv[3];
  if (!bin) return serve({ send: (a: SendArgs) => sendNode(a) });
  const dir = mkdtempSync(path.join(tmpdir(), 'lgb-sender-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // The bench stops its children with SIGTERM: exit, so that the handler above removes the dir.
  process.once('SIGTERM', () => process.exit(0));
  serve({ send: (a: SendArgs) => sendC(bin, dir, a) });
}

// --- tails ----------------------------------------------------------------------------------

interface ClientState {
  ws: WebSocket;
  open: boolean;
  frames: number;
  distinct: number;
  notices: number;
  duplicates: number;
  outOfOrder: number;
  lastSeq: number;
  seen: Uint8Array;
}

function tails(): void {
  let clients: ClientState[] = [];
  let expected = 0;
  let seqBase = 0;
  let recordLatency = false;
  let latencies = new Float64Array(0);
  let latencyCount = 0;
  let firstRecvNs = 0;
  let lastRecvNs = 0;
  let cpuAtArm = process.cpuUsage();

  const onFrame = (c: ClientState, data: Buffer) => {
    const nowNs = monotonicNs();
    if (firstRecvNs === 0) firstRecvNs = nowNs;
    lastRecvNs = nowNs;
    c.frames++;
    const line = parseFrame(data);
    if (!line) {
      c.notices++;
      return;
    }
    const i = line.seq - seqBase;
    if (i < 0 || i >= c.seen.length) return; // not this trial's
    if (c.seen[i]) c.duplicates++;
    else {
      c.seen[i] = 1;
      c.distinct++;
    }
    if (line.seq < c.lastSeq) c.outOfOrder++;
    c.lastSeq = line.seq;
    if (recordLatency && latencyCount < latencies.length) latencies[latencyCount++] = nowNs - line.sentNs;
  };

  const closeAll = async () => {
    const closing = closeSockets(clients.map(c => c.ws));
    clients = [];
    await closing;
  };

  /** `headers`: sent with each upgrade request, e.g. the traffic controller's Authorization. */
  const connectAll = async (a: { url: string; n: number; timeoutMs: number; headers?: Record<string, string> }) => {
    await closeAll();
    const opened = Array.from({ length: a.n }, () => {
      const ws = new WebSocket(a.url, { perMessageDeflate: false, skipUTF8Validation: true, headers: a.headers });
      const c: ClientState = {
        ws,
        open: false,
        frames: 0,
        distinct: 0,
        notices: 0,
        duplicates: 0,
        outOfOrder: 0,
        lastSeq: -1,
        seen: new Uint8Array(0),
      };
      clients.push(c);
      ws.on('message', (data: Buffer) => onFrame(c, data));
      return opening(ws, c, a.timeoutMs);
    });
    await Promise.all(opened);
    return clients.length;
  };

  const arm = (a: { expected: number; seqBase: number; recordLatency: boolean }) => {
    expected = a.expected;
    seqBase = a.seqBase;
    recordLatency = a.recordLatency;
    latencies = new Float64Array(a.recordLatency ? a.expected * Math.max(1, clients.length) : 0);
    latencyCount = 0;
    firstRecvNs = lastRecvNs = 0;
    cpuAtArm = process.cpuUsage();
    for (const c of clients) {
      c.frames = c.distinct = c.notices = c.duplicates = c.outOfOrder = 0;
      c.lastSeq = -1;
      c.seen = new Uint8Array(a.expected);
    }
    return true;
  };

  const stats = (): TailStats => {
    let minDistinct = Infinity;
    let maxDistinct = 0;
    let s = { complete: 0, totalFrames: 0, notices: 0, duplicates: 0, outOfOrder: 0, open: 0 };
    for (const c of clients) {
      minDistinct = Math.min(minDistinct, c.distinct);
      maxDistinct = Math.max(maxDistinct, c.distinct);
      if (c.distinct === expected) s.complete++;
      if (c.open) s.open++;
      s.totalFrames += c.frames;
      s.notices += c.notices;
      s.duplicates += c.duplicates;
      s.outOfOrder += c.outOfOrder;
    }
    const cpu = process.cpuUsage(cpuAtArm);
    return {
      clients: clients.length,
      ...s,
      minDistinct: clients.length ? minDistinct : 0,
      maxDistinct,
      firstRecvNs,
      lastRecvNs,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  };

  const latency = (): LatencySummary => latencySummary(latencies.subarray(0, latencyCount), 1e6);

  serve({ connect: connectAll, arm, stats, latency, close: closeAll });
}

// --- consumers -----------------------------------------------------------------------------

/**
 * N websocket clients (the firehose phase: consumers of one subscription; or a single tail
 * client) that share one trial's lines: each line is expected at exactly one client, so the
 * trial is complete when the union of what they got is every seq. Line seq belongs to app
 * `seq % appCount` (the sender's templates go round-robin by seq), which lets it check, per
 * client, that each app's lines arrive in order, and that no app's lines reach two clients in
 * one trial (the subscription's split is by app). Frames that are not bench lines are notices
 * (drops, router changes): counted, and the first few kept as text.
 */
function consumers(): void {
  interface Consumer {
    ws: WebSocket;
    open: boolean;
    frames: number;
    distinct: number;
    notices: number;
    outOfOrder: number;
    /** Per app index: the last seq this client got of it (-1: none). */
    lastSeq: Float64Array;
    apps: number;
  }
  let clients: Consumer[] = [];
  let expected = 0;
  let seqBase = 0;
  let appCount = 1;
  /** Per line of the trial: 0 not received, else 1 + the index of the client that got it first. */
  let seen = new Uint8Array(0);
  /** Per app index: -1, or the index of the first client that got a line of it in this trial. */
  let owner = new Int16Array(0);
  let distinct = 0;
  let duplicates = 0;
  let splitApps = 0;
  let noticeTexts: string[] = [];
  let recordLatency = false;
  let latencies = new Float64Array(0);
  let latencyCount = 0;
  let firstRecvNs = 0;
  let lastRecvNs = 0;
  let cpuAtArm = process.cpuUsage();

  const onFrame = (c: Consumer, k: number, data: Buffer) => {
    const nowNs = monotonicNs();
    c.frames++;
    const line = parseFrame(data);
    if (!line) {
      c.notices++;
      if (noticeTexts.length < 5) noticeTexts.push(data.toString('utf8').slice(0, 300));
      return;
    }
    const i = line.seq - seqBase;
    if (i < 0 || i >= seen.length) return; // not this trial's (a late line of an earlier one)
    if (firstRecvNs === 0) firstRecvNs = nowNs;
    lastRecvNs = nowNs;
    const app = line.seq % appCount;
    if (owner[app] === -1) owner[app] = k;
    else if (owner[app] !== k && c.lastSeq[app] < seqBase) splitApps++; // counted once per (app, other client)
    if (c.lastSeq[app] < seqBase) c.apps++;
    if (line.seq < c.lastSeq[app]) c.outOfOrder++;
    c.lastSeq[app] = line.seq;
    if (seen[i]) duplicates++;
    else {
      seen[i] = k + 1;
      distinct++;
      c.distinct++;
    }
    if (recordLatency && latencyCount < latencies.length) latencies[latencyCount++] = nowNs - line.sentNs;
  };

  const closeAll = async () => {
    const closing = closeSockets(clients.map(c => c.ws));
    clients = [];
    await closing;
  };

  /** `n` clients of `url` (e.g. /firehose?subscription=ID: the same id for all, so they share it). */
  const connectAll = async (a: { url: string; n: number; timeoutMs: number; headers?: Record<string, string> }) => {
    await closeAll();
    const opened = Array.from({ length: a.n }, (_, k) => {
      const ws = new WebSocket(a.url, { perMessageDeflate: false, skipUTF8Validation: true, headers: a.headers });
      const c: Consumer = { ws, open: false, frames: 0, distinct: 0, notices: 0, outOfOrder: 0, lastSeq: new Float64Array(0), apps: 0 };
      clients.push(c);
      ws.on('message', (data: Buffer) => onFrame(c, k, data));
      return opening(ws, c, a.timeoutMs);
    });
    await Promise.all(opened);
    return clients.length;
  };

  const arm = (a: { expected: number; seqBase: number; appCount: number; recordLatency: boolean }) => {
    expected = a.expected;
    seqBase = a.seqBase;
    appCount = Math.max(1, a.appCount);
    seen = new Uint8Array(a.expected);
    owner = new Int16Array(appCount).fill(-1);
    distinct = duplicates = splitApps = 0;
    noticeTexts = [];
    recordLatency = a.recordLatency;
    latencies = new Float64Array(a.recordLatency ? a.expected : 0);
    latencyCount = 0;
    firstRecvNs = lastRecvNs = 0;
    cpuAtArm = process.cpuUsage();
    for (const c of clients) {
      c.frames = c.distinct = c.notices = c.outOfOrder = c.apps = 0;
      c.lastSeq = new Float64Array(appCount).fill(-1);
    }
    return true;
  };

  const stats = (): ConsumerStats => {
    const cpu = process.cpuUsage(cpuAtArm);
    return {
      clients: clients.length,
      open: clients.filter(c => c.open).length,
      expected,
      distinct,
      complete: distinct === expected,
      duplicates,
      splitApps,
      notices: clients.reduce((n, c) => n + c.notices, 0),
      noticeTexts,
      outOfOrder: clients.reduce((n, c) => n + c.outOfOrder, 0),
      totalFrames: clients.reduce((n, c) => n + c.frames, 0),
      perClient: clients.map(c => ({ frames: c.frames, distinct: c.distinct, apps: c.apps, notices: c.notices })),
      firstRecvNs,
      lastRecvNs,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  };

  const latency = (): LatencySummary => latencySummary(latencies.subarray(0, latencyCount), 1e6);

  serve({ connect: connectAll, arm, stats, latency, close: closeAll });
}

// --- dea -----------------------------------------------------------------------------------

/** The simulator as a library: a new depot per trial (its rate is fixed at start), same DIR. */
function dea(): void {
  let depot: FakeDea | undefined;
  let errors: string[] = [];
  const statsOf = (): DepotStats & { errors: string[] } => ({
    ...(depot?.stats() ?? { instances: 0, clients: 0, linesWritten: 0, splitLines: 0, drainWaits: 0, fileWrites: 0 }),
    errors,
  });
  serve({
    start: async (a: DeaStartArgs) => {
      if (depot) await depot.stop('replaced');
      errors = [];
      depot = new FakeDea({ dir: a.dir, apps: a.apps, instancesPerApp: a.instancesPerApp, rate: a.rate });
      depot.events$.subscribe(e => {
        if (e.event === 'error' && errors.length < 20) errors.push(e.message);
      });
      await depot.start();
      return { instancesFile: depot.instancesFile, instances: depot.instances().length };
    },
    stats: statsOf,
    stop: async () => {
      await depot?.stop('trial over');
      return statsOf();
    },
  });
}

// --- agentTails -----------------------------------------------------------------------------

/**
 * One tail client per app, reading the simulator's lines ("sim-app-3/1 out 17") as the agent
 * and the router passed them on. Per (app/index/stream) it keeps the highest number up to which
 * every line has arrived (numbers above a gap wait in a set until the gap fills), so after a
 * trial the sum of those over all keys is exactly the number of lines that arrived, in full,
 * and it can be compared with the lines the simulator wrote. Latency is measured from the
 * envelope's timestamp (the agent's read time, wall clock) to the arrival here.
 */
function agentTails(): void {
  interface Key {
    next: number;
    above?: Set<number>;
  }
  let clients: { ws: WebSocket; open: boolean }[] = [];
  let keys = new Map<string, Key>();
  let s = { frames: 0, consecutive: 0, above: 0, duplicates: 0, notices: 0, foreign: 0 };
  let firstRecvMs = 0;
  let lastRecvMs = 0;
  let lastLagMs = NaN;
  const LAT_CAP = 1 << 21;
  const lat = new Float64Array(LAT_CAP);
  let latN = 0;

  const MESSAGE = '"message":"';
  const TIMESTAMP = '"timestamp":"';
  const onFrame = (data: Buffer) => {
    const nowMs = performance.timeOrigin + performance.now();
    if (firstRecvMs === 0) firstRecvMs = nowMs;
    lastRecvMs = nowMs;
    s.frames++;
    const text = data.toString('latin1');
    const m = text.indexOf(MESSAGE);
    if (m < 0) return void s.foreign++;
    const start = m + MESSAGE.length;
    const end = text.indexOf('"', start);
    const msg = text.slice(start, end);
    if (!msg.startsWith('sim-app-')) return void s.notices++; // e.g. the router's LGR drop notice
    const sp = msg.lastIndexOf(' ');
    const key = msg.slice(0, sp);
    const n = Number(msg.slice(sp + 1));
    const t = text.indexOf(TIMESTAMP);
    if (t >= 0) {
      const ts = Number(text.slice(t + TIMESTAMP.length, text.indexOf('"', t + TIMESTAMP.length))) / 1e6;
      lastLagMs = nowMs - ts;
      if (latN < LAT_CAP) lat[latN++] = lastLagMs;
    }
    let k = keys.get(key);
    if (!k) keys.set(key, (k = { next: 1 }));
    if (n === k.next) {
      k.next++;
      s.consecutive++;
      if (k.above) {
        while (k.above.delete(k.next)) {
          k.next++;
          s.consecutive++;
          s.above--;
        }
      }
    } else if (n > k.next) {
      k.above ??= new Set();
      if (k.above.has(n)) s.duplicates++;
      else {
        k.above.add(n);
        s.above++;
      }
    } else s.duplicates++;
  };

  const closeAll = async () => {
    const closing = closeSockets(clients.map(c => c.ws));
    clients = [];
    await closing;
  };

  const connect = async (a: { urls: string[]; timeoutMs: number }) => {
    await closeAll();
    await Promise.all(
      a.urls.map(url => {
        const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
        const c = { ws, open: false };
        clients.push(c);
        ws.on('message', (data: Buffer) => onFrame(data));
        return opening(ws, c, a.timeoutMs);
      }),
    );
    return clients.length;
  };

  const arm = () => {
    keys = new Map();
    s = { frames: 0, consecutive: 0, above: 0, duplicates: 0, notices: 0, foreign: 0 };
    firstRecvMs = lastRecvMs = 0;
    lastLagMs = NaN;
    latN = 0;
    return true;
  };

  const stats = (): AgentTailStats => ({
    clients: clients.length,
    open: clients.filter(c => c.open).length,
    keys: keys.size,
    ...s,
    firstRecvMs,
    lastRecvMs,
    lastLagMs,
  });

  const latency = (): LatencySummary => latencySummary(lat.subarray(0, latN), 1);

  serve({ connect, arm, stats, latency, close: closeAll });
}

const role = process.argv[2];
if (role === 'sink') sink();
else if (role === 'sender') sender();
else if (role === 'tails') tails();
else if (role === 'dea') dea();
else if (role === 'agentTails') agentTails();
else if (role === 'consumers') consumers();
else {
  process.stderr.write(`bench child: unknown role ${role}\n`);
  process.exit(2);
}

/**
 * A tail client's open: resolves once it is open (and keeps `state.open` current), rejects on
 * an error, a refused upgrade, or after `timeoutMs`.
 */
function opening(ws: WebSocket, state: { open: boolean }, timeoutMs: number): Promise<void> {
  ws.on('close', () => (state.open = false));
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tail client did not open within ${timeoutMs} ms`)), timeoutMs);
    ws.once('open', () => {
      clearTimeout(t);
      state.open = true;
      resolve();
    });
    ws.once('error', err => {
      clearTimeout(t);
      reject(err);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(t);
      reject(new Error(`tail refused: HTTP ${res.statusCode}`));
    });
  });
}

/** Closes websockets, each cut after 1 s if it does not finish the closing handshake. */
function closeSockets(sockets: WebSocket[]): Promise<void> {
  const closing = sockets.map(
    ws =>
      new Promise<void>(resolve => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close();
      }),
  );
  return Promise.all(closing).then(() => undefined);
}

/** Percentiles of latencies (divided by `perMs` to give ms), from a copy: the samples stay in arrival order. */
function latencySummary(samples: Float64Array, perMs: number): LatencySummary {
  const a = samples.slice().sort();
  const q = (p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] / perMs : NaN);
  return { n: a.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: a.length ? a[a.length - 1] / perMs : NaN };
}
