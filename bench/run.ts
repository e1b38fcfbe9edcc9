// loggregator-rx benchmark: `npm run bench` (builds, then runs dist/bench/run.js).
//
// Processes (all on this host, all traffic to 127.0.0.1):
//   this process   orchestrates: starts and stops the others, runs the searches, prints
//   sender         (child.ts sender) paces bench lines over UDP, a small batch per ~1 ms slot, by
//                  running the C sender (udpSender.c, compiled at start: cSender.ts) per trial,
//                  or with node's dgram when it cannot be compiled
//   sink           (child.ts sink) bare dgram receiver that only counts: the raw ceiling
//   serve          phases 2 and 3: the built CLI, `node dist/src/cli/main.js serve` (router +
//                  traffic controller in one process), tail clients on its traffic controller
//   router         the built CLI, `main.js router`, one fresh one per phase (memory, fan-out, drains)
//   tails          (child.ts tails) websocket tail clients (the `ws` package)
//   agent phase    (child.ts dea) the DEA simulator as a library, one depot per trial, in a temp dir;
//                  the agent as the built CLI (`main.js agent`); a router (`main.js router`); and
//                  (child.ts agentTails) one websocket tail client per app
//   drains phase   syslog-ng (the receiver at the far end of every drain), a router with drain
//                  bindings, and rsyslog (the baseline forwarder, fetched with apt-get download
//                  into a cache dir, never installed): see drains.ts
//   fan-in phase   3 routers and a traffic controller (`main.js traffic-controller`), and 1 router
//                  for the baseline; two tails children: see fanIn.ts
//   firehose phase a `serve`; two consumers children (2 firehose consumers of one subscription, and
//                  1 tail client for the baseline): see firehose.ts
//
// The machine is small and noisy, so every throughput figure is printed next to a baseline
// measured in the same run. Every loop is bounded in count and in time, and a hard limit ends
// the whole run. Only the children started here are ever killed, by their PIDs.
//
// Knobs (environment): BENCH_SENDER=node (the node sender even when the C one compiles),
// BENCH_ROUTER_WORKERS (LOGGREGATOR_ROUTER_WORKERS of every router, default auto), BENCH_SCALING=0
// (no single-worker searches), BENCH_HARD_LIMIT_MS (default 720000), BENCH_AGENT_BATCH_BYTES (the agent's agent.batchBytes; 0: no batching), BENCH_TRIAL_MS (default 2000), BENCH_ONLY=ceiling,ingest,latency,memory,fanout,agent,drains,fanin,firehose,
// BENCH_PROFILE=1 (router, traffic controller and agent children run with --cpu-prof; profiles in BENCH_PROFILE_DIR, default
// /tmp/loggregator-bench-profiles; summarise with `node dist/bench/profileSummary.js FILE`),
// BENCH_ROUTER_CLI=path/to/main.js (run another build of the router, e.g. to compare a change),
// BENCH_AGENT_CLI=path/to/main.js (the same for the agent), BENCH_FANIN_CLIENTS (tail clients per side in the fan-in phase, default 1).
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DepotStats, STDERR_EVERY } from '../src/simulator/fakeDea';
import {
  AgentTailStats,
  ChildRpc,
  DatagramTemplate,
  DeaStartArgs,
  LatencySummary,
  MESSAGE_BYTES,
  Rfc5424Template,
  TailStats,
} from './proto';
import {
  LAG_LIMIT_MS,
  Metrics,
  PROFILE_DIR,
  ROUTER_WORKERS,
  RouterChild,
  Search,
  ServeChild,
  TRIAL_MS,
  Trial,
  awaitLogEntry,
  cpuSeconds,
  fetchMetrics,
  fmt,
  forkHelper,
  killChildren,
  mb,
  median,
  metric,
  pct,
  phaseHeader,
  printTrial,
  say,
  search,
  send,
  sendArgs,
  settle,
  sleep,
  startRouterChild,
  startServeChild,
  stopChild,
  stopServeChild,
  sumSeries,
  track,
  trialCount,
  udpRcvbufErrors,
  verdict,
} from './harness';
import { FanInResults, fanInRows, phaseFanIn } from './fanIn';
import { FirehoseResults, firehoseRows, phaseFirehose } from './firehose';
import { chooseSender } from './cSender';
import { CounterStats, Expect, LineCounter, SyslogReceiver, freeTcpPorts, freeUdpPort, obtainRsyslog, startRsyslog, startSyslogReceiver, syslogNgPath, writeBindings } from './drains';

const HARD_LIMIT_MS = Number(process.env.BENCH_HARD_LIMIT_MS ?? 720_000);
const PHASES = (process.env.BENCH_ONLY ?? 'ceiling,ingest,latency,memory,fanout,agent,drains,fanin,firehose').split(',');

const TARGET_INGEST_RATIO = 0.5;
const TARGET_P99_MS = 5;
const TARGET_MEMORY_RATIO = 2;
const LATENCY_RATE = 10_000;
/** Trials of phase 3 on each path; the verdict is on the median of their p99s. */
const LATENCY_TRIALS = 5;
/** Searches stop starting trials after this long (a trial in progress finishes). */
const CEILING_SEARCH_MS = 40_000;
const INGEST_TC_MS = 35_000;
const INGEST_DIRECT_MS = 20_000;
const INGEST_ONE_WORKER_MS = 25_000;
/** BENCH_SCALING=0 leaves out the single-worker searches of the scaling table. */
const SCALING = process.env.BENCH_SCALING !== '0';
const MEMORY_APPS = 10_000;
const MEMORY_LINES_PER_APP = 100;
const FANOUT_CLIENTS = 100;

/** The agent phase: instance counts to measure, where each search starts (total lines/s), and its time budget. */
interface AgentSetup {
  readonly key: string;
  readonly label: string;
  readonly apps: number;
  readonly perApp: number;
  readonly start: number;
}
const AGENT_SETUPS: readonly AgentSetup[] = [
  { key: '1', label: '1 instance (1 app)', apps: 1, perApp: 1, start: 16_000 },
  { key: '200', label: '200 instances (100 apps × 2)', apps: 100, perApp: 2, start: 5000 },
];
/** Searches of the agent phase stop starting trials after this long (a trial in progress finishes). */
const AGENT_SEARCH_MS = 76_000;
/** After every socket is connected, the agent phase waits this long before its window opens. */
const AGENT_RAMP_MS = 250;

// --- phases -----------------------------------------------------------------------------------

interface RouterTrial extends Trial {
  readonly stats: TailStats;
  readonly latency: LatencySummary;
  readonly framesPerSec: number;
}

/** Phase 2's searches: through the traffic controller (the headline), and from the router of the same `serve` directly. */
interface IngestResults {
  /** LOGGREGATOR_ROUTER_WORKERS of the `serve` measured: ROUTER_WORKERS. */
  workers: string;
  tc?: Search;
  direct?: Search;
  /** The scaling table's other side: through the TC with LOGGREGATOR_ROUTER_WORKERS=1. */
  tcOneWorker?: Search;
  errors: string[];
}

interface Results {
  ceiling?: Search & { recvBufferBytes: number };
  ingest?: IngestResults;
  /** Phase 3: LATENCY_TRIALS trials each through the TC and directly, interleaved. */
  latency?: { tc: RouterTrial[]; direct: RouterTrial[] };
  memory?: {
    idleRss: number;
    fullRss: number;
    idleHeap: number;
    fullHeap: number;
    lines: number;
    apps: number;
    payloadBytes: number;
    recentBytesGauge: number;
    sent: number;
    ingested: number;
    fillRate: number;
    fillSeconds: number;
  };
  fanout?: Search;
  agent?: {
    /** Router ingest with one tail client on the router directly, from phase (2) of this run, lines/s (undefined if it did not run). */
    baseline?: number;
    setups: { setup: AgentSetup; search: Search }[];
  };
  drains?: {
    /** Keyed by DrainSetup.key; `error` when the setup could not run (e.g. no rsyslog, no drains in the router). */
    setups: Partial<Record<DrainKey, { label: string; search?: Search; error?: string }>>;
    rsyslog: string;
    /** imudp worker threads rsyslog ran with. */
    rsyslogThreads: number;
    seconds: number;
  };
  fanin?: FanInResults;
  firehose?: FirehoseResults;
}

async function phaseCeiling(sender: ChildRpc, results: Results): Promise<void> {
  phaseHeader('(1) raw ceiling: bare dgram receiver (its own child process) that only counts datagrams');
  const sinkRpc = await forkHelper('sink');
  try {
    const { port, recvBufferBytes } = await sinkRpc.call<{ port: number; recvBufferBytes: number }>('address', null, 5000);
    say(`  receiver on 127.0.0.1:${port}, SO_RCVBUF ${fmt(recvBufferBytes)} bytes (the router asks for the same 8 MiB)`);
    const count = () => sinkRpc.call<{ count: number; lastRecvNs: number }>('count', null, 5000);
    const trial = async (rate: number): Promise<Trial> => {
      const before = (await count()).count;
      const rcvbuf0 = udpRcvbufErrors();
      const cpu0 = cpuSeconds(sinkRpc.proc.pid);
      const r = await send(sender, sendArgs(port, rate, 'bench-ceiling'));
      let last = await count();
      await settle(
        async () => {
          last = await count();
          return last.count - before;
        },
        r.sent,
        300,
        3000,
      );
      const received = last.count - before;
      const lossless = received === r.sent;
      const lagMs = lossless ? (last.lastRecvNs - r.lastSendNs) / 1e6 : NaN;
      const cpu = cpuSeconds(sinkRpc.proc.pid) - cpu0;
      const cpuUsPerLine = (cpu * 1e6) / Math.max(1, received);
      return {
        target: rate,
        sent: r.sent,
        achieved: r.achievedRate,
        received,
        lossless,
        lagMs,
        pass: verdict(lossless, lagMs).pass,
        senderLimited: r.achievedRate < rate * 0.9,
        cpuUsPerLine,
        detail:
          `cpu/line: receiver ${fmt(cpuUsPerLine, 1)} µs, sender ${fmt((r.cpuMs * 1e3) / Math.max(1, r.sent), 1)} µs; ` +
          `receiver busy ${pct(cpu / (r.elapsedMs / 1000))} of the send time; rcvbuf drops +${udpRcvbufErrors() - rcvbuf0}`,
      };
    };
    const s = await search('ceiling', trial, 20_000, 12, Date.now() + CEILING_SEARCH_MS);
    results.ceiling = { ...s, recvBufferBytes };
  } finally {
    await stopChild(sinkRpc.proc);
  }
}

/** Where the tail clients of phases 2 and 3 read: a `serve`'s traffic controller (with its token) or its router directly. */
interface TailPath {
  readonly key: 'tc' | 'direct';
  readonly label: string;
  readonly serve: ServeChild;
  readonly url: (app: string) => string;
  readonly headers?: Record<string, string>;
}

const throughTc = (s: ServeChild): TailPath => ({
  key: 'tc',
  label: 'through the traffic controller',
  serve: s,
  url: app => `ws://127.0.0.1:${s.tcPort}/tail?app=${app}`,
  headers: { Authorization: `Bearer ${s.token}` },
});
const directTo = (s: ServeChild): TailPath => ({
  key: 'direct',
  label: 'from the router directly',
  serve: s,
  url: app => `ws://127.0.0.1:${s.httpPort}/tail?app=${app}`,
});

/**
 * One app's tail clients, connected once and kept for a series of trials (as a user keeps
 * `logs APP` open); each trial and probe uses its own range of seqs, so a late line is never
 * counted twice.
 */
interface TailSession {
  readonly path: TailPath;
  readonly app: string;
  readonly clients: number;
  nextSeq: number;
}

/**
 * Connects the session's clients and sends 20 lines at a time until a batch reaches every
 * client (the traffic controller subscribes to the router after the client's upgrade: lines
 * sent before that are not seen); throws when that takes over 10 s.
 */
async function openSession(session: TailSession, sender: ChildRpc, tails: ChildRpc): Promise<void> {
  const { path: p, app, clients } = session;
  await tails.call('connect', { url: p.url(app), n: clients, timeoutMs: 10_000, headers: p.headers }, 20_000);
  const until = Date.now() + 10_000;
  let st: TailStats | undefined;
  for (let attempt = 0; attempt < 40 && Date.now() < until; attempt++) {
    const seqBase = session.nextSeq;
    session.nextSeq += 1020;
    await tails.call('arm', { expected: 20, seqBase, recordLatency: false }, 5000);
    await send(sender, { port: p.serve.udpPort, rate: 2000, count: 20, appPrefix: app, appCount: 1, seqStart: seqBase, maxMs: 2000 });
    await settle(
      async () => {
        st = await tails.call<TailStats>('stats', null, 5000);
        return st.complete;
      },
      clients,
      300,
      Math.max(0, Math.min(1500, until - Date.now())),
    );
    if (st?.complete === clients) return;
  }
  throw new Error(`${p.label}: after 10 s of probing the fewest probe lines a client got was ${st?.minDistinct ?? 0}/20 (${st?.open ?? 0}/${clients} open)`);
}

/**
 * One trial: `count` lines of the session's app at `rate` into the router's UDP port; it passes
 * when every client got every line, with no notice, the last line and 99% of lines ≤ LAG_LIMIT_MS
 * after they were sent. "achieved" is the sender's rate, as in phase 1. A session whose clients
 * were closed (e.g. by the traffic controller) is opened again first.
 */
async function routerTrial(
  router: RouterChild,
  sender: ChildRpc,
  tails: ChildRpc,
  rate: number,
  session: TailSession,
  count = trialCount(rate),
  tcBase?: string,
): Promise<RouterTrial> {
  const clients = session.clients;
  if ((await tails.call<TailStats>('stats', null, 5000)).open < clients) await openSession(session, sender, tails);
  const seqBase = session.nextSeq;
  session.nextSeq += count + 1000;
  await tails.call('arm', { expected: count, seqBase, recordLatency: true }, 5000);
  const tcMetrics = () => (tcBase ? fetchMetrics({ base: tcBase }).catch(() => undefined) : Promise.resolve(undefined));
  const [m0, tc0] = await Promise.all([fetchMetrics(router), tcMetrics()]);
  const rcvbuf0 = udpRcvbufErrors();
  const cpu0 = cpuSeconds(router.pid);
  const tcpu0 = cpuSeconds(tails.proc.pid);
  const r = await send(sender, { ...sendArgs(router.udpPort, rate, session.app, count), seqStart: seqBase });
  let stats = await tails.call<TailStats>('stats', null, 5000);
  await settle(
    async () => {
      stats = await tails.call<TailStats>('stats', null, 5000);
      return stats.complete === clients ? Infinity : stats.totalFrames;
    },
    Infinity,
    500,
    clients > 1 ? 6000 : 4000,
  );
  const cpu = cpuSeconds(router.pid) - cpu0;
  const tcpu = cpuSeconds(tails.proc.pid) - tcpu0;
  const [m1, tc1] = await Promise.all([fetchMetrics(router), tcMetrics()]);
  const latency = await tails.call<LatencySummary>('latency', null, 10_000);
  const delta = (key: string) => metric(m1, key) - metric(m0, key);
  const ingested = delta('loggregator_ingested_total');
  const tailDrops = delta('loggregator_dropped_total{reason="tail_slow_consumer"}');
  const tcDrops = sumSeries(tc1, 'loggregator_tc_dropped_total{') - sumSeries(tc0, 'loggregator_tc_dropped_total{');
  const gcMs = ['minor', 'major', 'incremental', 'weakcb'].reduce((sum, kind) => sum + (delta(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`) || 0) * 1000, 0);
  const loopLagMaxMs = metric(m1, 'nodejs_eventloop_lag_max_seconds') * 1000; // reset at every scrape: this trial's
  const framesPerSec = stats.lastRecvNs > stats.firstRecvNs ? stats.totalFrames / ((stats.lastRecvNs - stats.firstRecvNs) / 1e9) : NaN;
  const lossless = stats.complete === clients && stats.notices === 0 && r.sent === count;
  // Per line ingested with one client; per frame delivered (line × client) with several.
  const cpuUsPerLine = (cpu * 1e6) / Math.max(1, ingested * clients);
  const per = clients > 1 ? 'frame' : 'line';
  const who = tcBase ? 'serve (router + TC)' : 'router';
  // Behind by: the later of the last line's arrival and the 99th-percentile line's latency.
  const lagMs = lossless ? Math.max((stats.lastRecvNs - r.lastSendNs) / 1e6, latency.p99) : NaN;
  const fanoutDetail = clients > 1 ? `clients complete ${stats.complete}/${clients}, ${fmt(framesPerSec)} frames/s, ` : '';
  return {
    target: rate,
    sent: r.sent,
    achieved: r.achievedRate,
    received: stats.minDistinct,
    lossless,
    lagMs,
    pass: verdict(lossless, lagMs).pass,
    senderLimited: r.achievedRate < rate * 0.9,
    cpuUsPerLine,
    detail:
      `${fanoutDetail}latency p50 ${fmt(latency.p50, 1)} p99 ${fmt(latency.p99, 1)} ms; ingested ${fmt(ingested)}, rcvbuf drops +${udpRcvbufErrors() - rcvbuf0}, ` +
      `tail drops ${fmt(tailDrops)}${tcBase ? `, TC drops ${fmt(tcDrops)}` : ''}${stats.notices ? `, ${fmt(stats.notices)} NOTICES` : ''}; ` +
      `cpu/${per}: ${who} ${fmt(cpuUsPerLine, 1)} µs, tails ${fmt((tcpu * 1e6) / Math.max(1, ingested * clients), 1)} µs, ` +
      `sender ${fmt((r.cpuMs * 1e3) / Math.max(1, r.sent), 1)} µs; ` +
      `${who} busy ${pct(cpu / (r.elapsedMs / 1000))} of the send time (loop lag max ${fmt(loopLagMaxMs)} ms, gc ${fmt(gcMs)} ms)`,
    stats,
    latency,
    framesPerSec,
  };
}

/** A search over one tail path of a `serve`: one session for all its trials. */
async function ingestSearch(label: string, p: TailPath, sender: ChildRpc, tails: ChildRpc, untilMs: number): Promise<Search> {
  const session: TailSession = { path: p, app: `ingest-${p.key}`, clients: 1, nextSeq: 1_000_000 };
  await openSession(session, sender, tails);
  const tcBase = p.key === 'tc' ? p.serve.tcBase : undefined;
  return search(label, rate => routerTrial(p.serve, sender, tails, rate, session, trialCount(rate), tcBase), 10_000, 12, untilMs);
}

function sayIngest(label: string, s: Search, ceiling: number | undefined): void {
  say(
    `  → ${label}: ${s.best ? `${fmt(s.best.achieved)} lines/s` : 'no passing rate'}` +
      `${s.senderLimited ? ' (sender-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}` +
      `${s.best && ceiling ? ` = ${fmt(s.best.achieved / ceiling, 2)} × the raw ceiling (1)` : ''}`,
  );
}

async function phaseIngest(sender: ChildRpc, tails: ChildRpc, results: Results): Promise<void> {
  phaseHeader(
    `(2) ingest while one websocket tail client receives every line: \`serve\` (router + traffic controller, one process, ` +
      `LOGGREGATOR_ROUTER_WORKERS=${ROUTER_WORKERS}), the client on the traffic controller with a bearer token; sender, serve, tails: separate processes`,
  );
  const res: IngestResults = (results.ingest = { workers: ROUTER_WORKERS, errors: [] });
  const ceiling = results.ceiling?.best?.achieved;
  const start = Date.now();
  const attempt = async (what: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (err) {
      const why = `${what}: ${(err as Error).message.split('\n')[0]}`;
      res.errors.push(why);
      say(`  NOT MEASURED: ${why}`);
    }
  };
  let serve: ServeChild | undefined;
  try {
    serve = await startServeChild('ingest');
    const s = serve;
    say(`  serve pid ${s.pid}: router udp :${s.udpPort} http :${s.httpPort}, traffic controller :${s.tcPort}`);
    await attempt('through the TC', async () => {
      res.tc = await ingestSearch('ingest TC    ', throughTc(s), sender, tails, start + INGEST_TC_MS);
      sayIngest(`through the traffic controller (workers ${ROUTER_WORKERS})`, res.tc, ceiling);
    });
    await attempt('from the router directly', async () => {
      res.direct = await ingestSearch('ingest direct', directTo(s), sender, tails, start + INGEST_TC_MS + INGEST_DIRECT_MS);
      sayIngest(`from the router directly (same serve)`, res.direct, ceiling);
    });
  } finally {
    await tails.call('close', null, 10_000).catch(() => undefined);
    if (serve) await stopServeChild(serve);
  }
  if (!SCALING) return;
  if (ROUTER_WORKERS === '1') {
    say('  the scaling search (LOGGREGATOR_ROUTER_WORKERS=1) is the search above: BENCH_ROUTER_WORKERS=1');
    return;
  }
  serve = undefined;
  try {
    await attempt('through the TC with 1 worker', async () => {
      serve = await startServeChild('ingest-1w', { LOGGREGATOR_ROUTER_WORKERS: '1' });
      const s: ServeChild = serve;
      say(`  scaling: the same through the traffic controller with LOGGREGATOR_ROUTER_WORKERS=1 (serve pid ${s.pid}):`);
      res.tcOneWorker = await ingestSearch('ingest TC 1w ', throughTc(s), sender, tails, Date.now() + INGEST_ONE_WORKER_MS);
      sayIngest('through the traffic controller (workers 1)', res.tcOneWorker, ceiling);
    });
  } finally {
    await tails.call('close', null, 10_000).catch(() => undefined);
    if (serve) await stopServeChild(serve);
  }
}

async function phaseLatency(sender: ChildRpc, results: Results): Promise<void> {
  phaseHeader(
    `(3) ingest→tail latency at ${fmt(LATENCY_RATE)} lines/s through the traffic controller of \`serve\`, ${LATENCY_TRIALS} trials of ${fmt(TRIAL_MS)} ms, each its own p99 ` +
      `(send time in each message; both ends read CLOCK_MONOTONIC); interleaved with as many from its router directly`,
  );
  const serve = await startServeChild('latency');
  // One tails child per path, so both sessions stay open and their trials can alternate.
  const tails = { tc: await forkHelper('tails'), direct: await forkHelper('tails') };
  const res: NonNullable<Results['latency']> = (results.latency = { tc: [], direct: [] });
  try {
    const paths = [throughTc(serve), directTo(serve)];
    const sessions = paths.map(p => ({ path: p, app: `latency-${p.key}`, clients: 1, nextSeq: 1_000_000 }) satisfies TailSession);
    for (const s of sessions) await openSession(s, sender, tails[s.path.key]);
    const trial = (s: TailSession, count: number) =>
      routerTrial(serve, sender, tails[s.path.key], LATENCY_RATE, s, count, s.path.key === 'tc' ? serve.tcBase : undefined);
    for (const s of sessions) printTrial(`${s.path.key.padEnd(6)} warm-up`, await trial(s, LATENCY_RATE));
    for (let i = 0; i < LATENCY_TRIALS; i++) {
      for (const s of sessions) {
        const t = await trial(s, trialCount(LATENCY_RATE));
        printTrial(`${s.path.key.padEnd(6)} ${i + 1}/${LATENCY_TRIALS}`, t);
        res[s.path.key].push(t);
      }
    }
    for (const s of sessions) {
      const ts = res[s.path.key];
      say(
        `  ${s.path.label}: p99 of each trial ${ts.map(t => fmt(t.latency.p99, 2)).join(', ')} ms → median ${fmt(median(ts.map(t => t.latency.p99)), 2)} ms; ` +
          `p50 median ${fmt(median(ts.map(t => t.latency.p50)), 2)} ms, max ${fmt(Math.max(...ts.map(t => t.latency.max)), 1)} ms` +
          `${ts.every(t => t.lossless) ? '' : `; ${ts.filter(t => !t.lossless).length} trial(s) LOST LINES`}`,
      );
    }
  } finally {
    await Promise.all(Object.values(tails).map(t => t.call('close', null, 10_000).catch(() => undefined)));
    await Promise.all([...Object.values(tails).map(t => stopChild(t.proc)), stopServeChild(serve)]);
  }
}

async function memorySnapshot(router: RouterChild): Promise<Metrics> {
  process.kill(router.pid, 'SIGUSR2'); // routerPreload.js: global.gc() twice
  await sleep(1000);
  await fetchMetrics(router); // the first scrape allocates; read the second
  await sleep(300);
  return fetchMetrics(router);
}

async function phaseMemory(sender: ChildRpc, results: Results, ingestRate: number | undefined): Promise<void> {
  const wantLines = MEMORY_APPS * MEMORY_LINES_PER_APP;
  phaseHeader(`(4) memory: ${fmt(MEMORY_APPS)} apps × ${MEMORY_LINES_PER_APP} retained lines of ${MESSAGE_BYTES}-byte messages, no tail clients`);
  const router = await startRouterChild('memory', {
    LOGGREGATOR_ROUTER_RECENT_MAX_APPS: String(MEMORY_APPS),
    LOGGREGATOR_ROUTER_RECENT_LINES_PER_APP: String(MEMORY_LINES_PER_APP),
  });
  try {
    await sleep(1000);
    const idle = await memorySnapshot(router);
    const idleRss = metric(idle, 'process_resident_memory_bytes');
    const idleHeap = metric(idle, 'nodejs_heap_size_used_bytes');
    say(`  idle router: RSS ${mb(idleRss)}, heap used ${mb(idleHeap)}`);

    // Fill in chunks at a rate the router absorbs (no tail client: ingest alone is cheaper than
    // in (2)); a chunk that loses lines slows the rest; then top up the apps that lost some.
    let rate = Math.max(10_000, Math.min(60_000, Math.round(ingestRate ?? 20_000)));
    const firstRate = rate;
    let sent = 0;
    let ingested = 0;
    let loopLagMaxMs = 0;
    const start = Date.now();
    const ingestedNow = async () => {
      const m = await fetchMetrics(router);
      loopLagMaxMs = Math.max(loopLagMaxMs, metric(m, 'nodejs_eventloop_lag_max_seconds') * 1000);
      return metric(m, 'loggregator_ingested_total');
    };
    const chunk = async (count: number) => {
      const r = await send(sender, {
        port: router.udpPort,
        rate,
        count,
        appPrefix: 'fill-',
        appCount: MEMORY_APPS,
        seqStart: sent,
        maxMs: Math.max(5000, (count / rate) * 1000 * 3),
      });
      const before = ingested;
      sent += r.sent;
      ingested = await settle(ingestedNow, sent, 500, 5000);
      if (ingested - before < r.sent) {
        say(`  fill: a chunk lost ${fmt(r.sent - (ingested - before))} of ${fmt(r.sent)} lines at ${fmt(rate)}/s (loop lag max so far ${fmt(loopLagMaxMs)} ms); slowing down`);
        rate = Math.max(2000, Math.round(rate * 0.6));
      } else if (count > MEMORY_APPS) {
        rate = Math.min(60_000, Math.round(rate * 1.2));
      }
    };
    for (let i = 0; i < 10 && Date.now() - start < 75_000; i++) await chunk(wantLines / 10);
    let lines = metric(await fetchMetrics(router), 'loggregator_recent_lines');
    for (let round = 0; round < 30 && lines < wantLines && Date.now() - start < 95_000; round++) {
      await chunk(MEMORY_APPS); // one more line to every app: tops up the apps that lost some
      lines = metric(await fetchMetrics(router), 'loggregator_recent_lines');
    }
    const fillSeconds = (Date.now() - start) / 1000;
    say(
      `  filled: sent ${fmt(sent)}, ingested ${fmt(ingested)}, retained ${fmt(lines)} lines in ${fmt(fillSeconds, 1)} s ` +
        `(from ${fmt(firstRate)}/s, ended at ${fmt(rate)}/s; router event-loop lag max ${fmt(loopLagMaxMs)} ms)`,
    );

    const afterFill = await fetchMetrics(router); // GC figures of the fill itself, before the forced GCs
    await sleep(1000);
    const full = await memorySnapshot(router);
    const res = await fetch(`${router.base}/recent?app=fill-4242`, { signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    say(`  check: GET /recent?app=fill-4242 → ${res.status}, X-Line-Count ${res.headers.get('x-line-count')}, ${fmt(Buffer.byteLength(body))} bytes`);
    const m = (results.memory = {
      idleRss,
      fullRss: metric(full, 'process_resident_memory_bytes'),
      idleHeap,
      fullHeap: metric(full, 'nodejs_heap_size_used_bytes'),
      lines: metric(full, 'loggregator_recent_lines'),
      apps: metric(full, 'loggregator_recent_apps'),
      payloadBytes: metric(full, 'loggregator_recent_lines') * MESSAGE_BYTES,
      recentBytesGauge: metric(full, 'loggregator_recent_bytes'),
      sent,
      ingested,
      fillRate: firstRate,
      fillSeconds,
    });
    const d = m.fullRss - m.idleRss;
    const h = m.fullHeap - m.idleHeap;
    say(
      `  full router: RSS ${mb(m.fullRss)} (+${mb(d)}), heap used ${mb(m.fullHeap)} (+${mb(h)}) of heap total ${mb(metric(full, 'nodejs_heap_size_total_bytes'))}; ` +
        `${fmt(m.lines)} lines in ${fmt(m.apps)} apps`,
    );
    // A series that has not been observed yet (no minor GC while idle) is absent: 0.
    const since = (key: string) => (afterFill.get(key) ?? 0) - (idle.get(key) ?? 0);
    const gc = (kind: string, what: string) => since(`nodejs_gc_duration_seconds_${what}{kind="${kind}"}`);
    const slowMajor = gc('major', 'count') - since('nodejs_gc_duration_seconds_bucket{le="0.1",kind="major"}');
    say(
      `  router GC during the fill: major ${fmt(gc('major', 'count'))} collections, ${fmt(gc('major', 'sum') * 1000)} ms in all, ${fmt(slowMajor)} of them > 100 ms; ` +
        `minor ${fmt(gc('minor', 'count'))}, ${fmt(gc('minor', 'sum') * 1000)} ms`,
    );
    say(
      `  per retained line: RSS +${fmt(d / m.lines)} B, heap +${fmt(h / m.lines)} B; payload ${MESSAGE_BYTES} B/line (${mb(m.payloadBytes)}) → ` +
        `RSS ${fmt(d / m.payloadBytes, 3)}× payload, heap ${fmt(h / m.payloadBytes, 3)}× payload (loggregator_recent_bytes says ${mb(m.recentBytesGauge)})`,
    );
  } finally {
    await stopChild(router.proc, 8000);
  }
}

async function phaseFanout(sender: ChildRpc, tails: ChildRpc, results: Results): Promise<void> {
  phaseHeader(`(5) fan-out: ${FANOUT_CLIENTS} websocket tail clients on one app (all clients in one child process)`);
  const router = await startRouterChild('fanout');
  try {
    let n = 0;
    // A new app and new clients per trial (on the router directly: subscribed once the upgrade is done).
    const trial = async (rate: number) => {
      const session: TailSession = { path: { key: 'direct', label: 'router', serve: router as ServeChild, url: app => `ws://127.0.0.1:${router.httpPort}/tail?app=${app}` }, app: `fanout-${++n}`, clients: FANOUT_CLIENTS, nextSeq: 0 };
      await tails.call('connect', { url: session.path.url(session.app), n: FANOUT_CLIENTS, timeoutMs: 10_000 }, 20_000);
      return routerTrial(router, sender, tails, rate, session);
    };
    results.fanout = await search('fanout ', trial, 200, 9);
  } finally {
    await tails.call('close', null, 10_000).catch(() => undefined);
    await stopChild(router.proc, 8000);
  }
}

// --- the agent phase --------------------------------------------------------------------------

interface AgentChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly base: string;
  readonly log: string[];
}

/** The built CLI (`agent`) in its own process, its /metrics on a free port; resolves once it watches. */
async function startAgentChild(name: string, instancesPath: string, routerUdpPort: number): Promise<AgentChild> {
  const cli = process.env.BENCH_AGENT_CLI ?? path.join(__dirname, '..', 'src', 'cli', 'main.js');
  // routerPreload.js only adds SIGUSR2 → gc() and "exit when the bench is gone": the agent needs the second.
  const execArgv = ['--require', path.join(__dirname, 'routerPreload.js')];
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `agent-${name}-${process.pid}.cpuprofile`);
  }
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOGGREGATOR_')));
  const proc = spawn(process.execPath, [...execArgv, cli, 'agent', '--instances', instancesPath, '--router', `127.0.0.1:${routerUdpPort}`], {
    env: {
      ...inherited,
      LOGGREGATOR_AGENT_HTTP_HOST: '127.0.0.1',
      LOGGREGATOR_AGENT_HTTP_PORT: '0',
      // BENCH_AGENT_BATCH_BYTES=0: the agent without batching, to compare (default: the config's).
      ...(process.env.BENCH_AGENT_BATCH_BYTES === undefined ? {} : { LOGGREGATOR_AGENT_BATCH_BYTES: process.env.BENCH_AGENT_BATCH_BYTES }),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(proc);
  const { entry, log } = await awaitLogEntry(proc, `agent (${name})`, 'agent watching', e => Boolean(e.http));
  const http = new URL(String(entry.http));
  return { proc, pid: proc.pid!, base: `http://127.0.0.1:${http.port}`, log };
}

type DeaStats = DepotStats & { errors: string[] };

interface AgentTrial extends Trial {
  /** stdout lines/s per instance socket (the simulator's R; stderr gets a tenth). */
  readonly perSocketRate: number;
  /** Lines/s the simulator wrote during the window (it pauses a socket while the agent is behind). */
  readonly writtenRate: number;
  /** Agent CPU per line it read, µs (window). */
  readonly agentUsPerLine: number;
  /** Simulator CPU per line it wrote, µs (window), and its share of one core. */
  readonly simUsPerLine: number;
  readonly simBusy: number;
  readonly agentBusy: number;
}

interface AgentRig {
  readonly dir: string;
  readonly router: RouterChild;
  readonly agent: AgentChild;
  readonly dea: ChildRpc;
  readonly tails: ChildRpc;
}

/**
 * The agent's /metrics, or an empty map if it does not answer in time: an agent far behind
 * can hold its event loop for seconds (every readable socket is read and passed on in one go),
 * and that must not end the bench. Its figures then print as n/a.
 */
async function agentMetrics(agent: AgentChild, timeoutMs = 5000): Promise<Metrics> {
  try {
    return await fetchMetrics(agent, timeoutMs);
  } catch {
    return new Map();
  }
}

/**
 * Lines per second the simulator writes to one instance's stdout + stderr at `r` (stderr: r/10).
 * Its pacing (LineClient in src/simulator/fakeDea.ts) is a token bucket topped up every 20 ms
 * tick and holding at most max(1, 4 ticks' worth), writing whole lines only, and never more than
 * max(1, floor(rate)) lines in any second; at a few lines/s that is less than r (at 11/s: 10).
 */
function simulatorLinesPerSecond(r: number): number {
  const paced = (rate: number) => {
    const tickMs = 20;
    const cap = Math.max(1, (rate * tickMs * 4) / 1000);
    let tokens = 1;
    let lines = 0;
    const ticks = 500; // 10 s
    for (let i = 0; i < ticks; i++) {
      tokens = Math.min(cap, tokens + (rate * tickMs) / 1000);
      const n = Math.floor(tokens);
      tokens -= n;
      lines += n;
    }
    return Math.min(lines / ((ticks * tickMs) / 1000), Math.max(1, Math.floor(rate)));
  };
  return paced(r) + paced(r / STDERR_EVERY);
}

const agentLinesRead = (m: Metrics) =>
  metric(m, 'loggregator_agent_lines_total{stream="stdout"}') + metric(m, 'loggregator_agent_lines_total{stream="stderr"}');
const agentDrops = (m: Metrics) =>
  metric(m, 'loggregator_agent_dropped_total{reason="send_queue_full"}') + metric(m, 'loggregator_agent_dropped_total{reason="send_error"}');

/**
 * One trial: a new depot (same DIR, so the same agent keeps watching the same instances.json)
 * writing `rate` lines/s in all (stdout + stderr, over every instance) for as long as the agent
 * reads them. The window of TRIAL_MS opens once every socket is connected; then the depot stops
 * (its sockets end after what was written, instances.json goes empty) and the tail clients must
 * end up with every line the simulator wrote, per (app/index/stream) 1…n with no gap.
 *
 * It passes when: every line arrived; 99% of lines, and the last, reached a tail client
 * ≤ LAG_LIMIT_MS after the agent read them (envelope timestamp); and the simulator wrote at
 * ≥ 90% of the rate. The simulator pauses a socket the agent does not drain, so a slow agent
 * shows as a shortfall with "sim paused" > 0: BEHIND. A shortfall with no pause while the
 * simulator is busy ≥ 80% of a core is the simulator's own limit: the trial counts (if
 * lossless) and the search stops there, as with a sender-limited trial.
 */
async function agentTrial(rig: AgentRig, setup: AgentSetup, rate: number): Promise<AgentTrial> {
  const { router, agent, dea, tails } = rig;
  const n = setup.apps * setup.perApp;
  // A whole number of lines per second per socket: the simulator caps every second at floor(R).
  const perSocketRate = Math.max(1, Math.round(rate / (n * (1 + 1 / STDERR_EVERY))));
  const offered = n * simulatorLinesPerSecond(perSocketRate);
  // The last depot's instances have the same identities: the agent must have let go of them.
  const instancesRead = async () => {
    const g = metric(await agentMetrics(agent), 'loggregator_agent_instances');
    return Number.isNaN(g) ? 1 : g; // no answer: not known to be 0
  };
  await settle(async () => -(await instancesRead()), 0, 5000, 5000);
  await tails.call('arm', null, 5000);
  const mStart = await agentMetrics(agent);
  const rStart = await fetchMetrics(router);
  const rcvbuf0 = udpRcvbufErrors();
  const args: DeaStartArgs = { dir: rig.dir, apps: setup.apps, instancesPerApp: setup.perApp, rate: perSocketRate };
  await dea.call('start', args, 30_000);
  const connectBy = Date.now() + 5000;
  let st = await dea.call<DeaStats>('stats', null, 5000);
  while (st.clients < 2 * n && Date.now() < connectBy) {
    await sleep(25);
    st = await dea.call<DeaStats>('stats', null, 5000);
  }
  const connected = st.clients;
  await sleep(AGENT_RAMP_MS);
  // The agent's line count, CPU and time are read together when its scrape answers (late, if
  // its event loop is stalled: then the agent's figures cover a slightly shifted window; after
  // 1 s they are n/a). The others are read together, without waiting for the agent.
  const snap = async () => {
    const agentSide = agentMetrics(agent, 1000).then(m => ({ m, cpu: cpuSeconds(agent.pid), at: performance.now() }));
    const [d, t] = await Promise.all([dea.call<DeaStats>('stats', null, 5000), tails.call<AgentTailStats>('stats', null, 5000)]);
    const cpu = { sim: cpuSeconds(dea.proc.pid), router: cpuSeconds(router.pid), tails: cpuSeconds(tails.proc.pid) };
    const at = performance.now();
    return { at, d, t, cpu, agent: await agentSide };
  };
  const s0 = await snap();
  await sleep(TRIAL_MS);
  const s1 = await snap();
  const final = await dea.call<DeaStats>('stop', null, 15_000);
  let ts = s1.t;
  await settle(
    async () => {
      ts = await tails.call<AgentTailStats>('stats', null, 5000);
      return ts.consecutive >= final.linesWritten ? Infinity : ts.consecutive + ts.above;
    },
    Infinity,
    500,
    4000,
  );
  const mEnd = await agentMetrics(agent);
  const rEnd = await fetchMetrics(router);
  const latency = await tails.call<LatencySummary>('latency', null, 10_000);

  const dt = (s1.at - s0.at) / 1000;
  const written = final.linesWritten;
  const writtenRate = (s1.d.linesWritten - s0.d.linesWritten) / dt;
  const delivered = s1.t.consecutive + s1.t.above - (s0.t.consecutive + s0.t.above);
  const agentDt = (s1.agent.at - s0.agent.at) / 1000;
  const agentCpu = s1.agent.cpu - s0.agent.cpu;
  const read = agentLinesRead(s1.agent.m) - agentLinesRead(s0.agent.m);
  const cpu = (k: keyof typeof s0.cpu) => s1.cpu[k] - s0.cpu[k];
  const agentUsPerLine = (agentCpu * 1e6) / Math.max(1, read);
  const simUsPerLine = (cpu('sim') * 1e6) / Math.max(1, s1.d.linesWritten - s0.d.linesWritten);
  const simBusy = cpu('sim') / dt;
  const agentBusy = agentCpu / agentDt;
  const pausedInWindow = s1.d.drainWaits - s0.d.drainWaits;
  const drops = agentDrops(mEnd) - agentDrops(mStart);
  const readAll = agentLinesRead(mEnd) - agentLinesRead(mStart);
  const ingested = metric(rEnd, 'loggregator_ingested_total') - metric(rStart, 'loggregator_ingested_total');
  const tailDrops =
    metric(rEnd, 'loggregator_dropped_total{reason="tail_slow_consumer"}') - metric(rStart, 'loggregator_dropped_total{reason="tail_slow_consumer"}');
  const lossless = connected >= 2 * n && written > 0 && ts.consecutive === written && ts.above === 0 && ts.notices === 0 && !(drops > 0);
  const lagMs = lossless ? Math.max(latency.p99, ts.lastLagMs) : NaN;
  const keptPace = writtenRate >= 0.9 * offered;
  // Short of the rate: the agent did not drain a socket (the simulator paused: the agent is
  // behind), or the simulator ran out of CPU (its limit, not the agent's), or neither: the
  // simulator's timer was starved by the rest of the host (the trial says nothing: SHORT).
  const simLimited = !keptPace && pausedInWindow === 0 && simBusy >= 0.8;
  const v = verdict(lossless, lagMs);
  const pass = v.pass && (keptPace || simLimited);
  const word = v.pass && !pass ? (pausedInWindow > 0 ? 'BEHIND' : 'SHORT ') : undefined;
  const missing = written - ts.consecutive;
  // prom-client resets it at every scrape: the larger of the window's and the drain's.
  const loopLagMs = Math.max(metric(s1.agent.m, 'nodejs_eventloop_lag_max_seconds'), metric(mEnd, 'nodejs_eventloop_lag_max_seconds')) * 1000;
  return {
    target: offered,
    sent: written,
    achieved: delivered / dt,
    received: ts.consecutive,
    lossless,
    lagMs,
    pass,
    senderLimited: simLimited,
    limitedBy: 'simulator',
    word,
    cpuUsPerLine: agentUsPerLine,
    perSocketRate,
    writtenRate,
    agentUsPerLine,
    simUsPerLine,
    simBusy,
    agentBusy,
    detail:
      `R ${fmt(perSocketRate)}/s per socket × ${n}; sim wrote ${fmt(writtenRate)}/s (paused ${fmt(pausedInWindow)}×), ` +
      `agent read ${fmt(read / agentDt)}/s${connected < 2 * n ? `; ONLY ${connected}/${2 * n} SOCKETS CONNECTED` : ''}` +
      `${missing !== 0 ? `; missing ${fmt(missing)} (agent read ${fmt(readAll)}, dropped ${fmt(drops)}; router ingested ${fmt(ingested)}, rcvbuf drops +${udpRcvbufErrors() - rcvbuf0}, tail drops ${fmt(tailDrops)})` : ''}` +
      `${ts.above ? `, ${fmt(ts.above)} above a gap` : ''}${ts.duplicates ? `, ${fmt(ts.duplicates)} duplicates` : ''}` +
      `${final.errors.length ? `; simulator errors: ${final.errors.slice(0, 2).join('; ')}` : ''}; ` +
      `agent→tail p50 ${fmt(latency.p50, 1)} p99 ${fmt(latency.p99, 1)} ms, agent loop lag max ${fmt(loopLagMs)} ms; ` +
      `cpu/line: agent ${fmt(agentUsPerLine, 1)} µs (busy ${pct(agentBusy)}), sim ${fmt(simUsPerLine, 1)} µs (busy ${pct(simBusy)}), ` +
      `router ${fmt((cpu('router') * 1e6) / Math.max(1, delivered), 1)} µs, tails ${fmt((cpu('tails') * 1e6) / Math.max(1, delivered), 1)} µs`,
  };
}

/** Median over a search's lossless trials of one per-line figure. */
function medianOf(srch: Search | undefined, f: (t: AgentTrial) => number): number {
  return median(((srch?.trials ?? []) as AgentTrial[]).filter(t => t.lossless).map(f).filter(Number.isFinite));
}

async function phaseAgent(results: Results): Promise<void> {
  phaseHeader(
    '(6) agent: simulator (child) → unix sockets → agent (built CLI) → UDP → router (built CLI) → websocket tail client per app (child)',
  );
  const phaseStart = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'lgb-'));
  const baseline = results.ingest?.direct?.best?.achieved;
  results.agent = { baseline, setups: [] };
  let router: RouterChild | undefined;
  let agent: AgentChild | undefined;
  let dea: ChildRpc | undefined;
  let tails: ChildRpc | undefined;
  try {
    [router, dea, tails] = await Promise.all([startRouterChild('agent'), forkHelper('dea'), forkHelper('agentTails')]);
    agent = await startAgentChild('bench', path.join(dir, 'instances.json'), router.udpPort);
    say(
      `  depot ${dir}; rate = lines/s in all (stdout, plus a tenth of that on stderr, over every instance); ` +
        `router ingest baseline from (2), tail client on the router directly as here: ${baseline ? `${fmt(baseline)} lines/s` : 'n/a (phase 2 did not run)'} ` +
        `(of ${MESSAGE_BYTES}-byte lines; the simulator's, "sim-app-1/0 out 123", are ~20 bytes and cost the router less: the ratio can exceed 1)`,
    );
    for (const [i, setup] of AGENT_SETUPS.entries()) {
      const until = phaseStart + (AGENT_SEARCH_MS * (i + 1)) / AGENT_SETUPS.length;
      const apps = Array.from({ length: setup.apps }, (_, a) => `sim-app-${a + 1}`);
      await tails.call('connect', { urls: apps.map(a => `ws://127.0.0.1:${router!.httpPort}/tail?app=${a}`), timeoutMs: 10_000 }, 20_000);
      say(`  ${setup.label}, ${apps.length} tail client${apps.length > 1 ? 's' : ''}:`);
      const rig: AgentRig = { dir, router, agent, dea, tails };
      const s = await search(`agent ${setup.key.padStart(3)}`, rate => agentTrial(rig, setup, rate), setup.start, 8, until);
      results.agent.setups.push({ setup, search: s });
      const best = s.best as AgentTrial | undefined;
      say(
        `  → ${setup.label}: ${best ? `${fmt(best.achieved)} lines/s delivered` : 'no passing rate'}` +
          `${s.senderLimited ? ' (simulator-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}` +
          `${best && baseline ? ` = ${fmt(best.achieved / baseline, 2)} × router ingest` : ''}; ` +
          (best
            ? `at that rate agent CPU ${fmt(best.agentUsPerLine / 10, 2)} s per 100k lines read (busy ${pct(best.agentBusy)} of a core), ` +
              `simulator ${fmt(best.simUsPerLine / 10, 2)} s per 100k written (busy ${pct(best.simBusy)}); `
            : '') +
          `medians over lossless trials: agent ${fmt(medianOf(s, t => t.agentUsPerLine) / 10, 2)} s, simulator ${fmt(medianOf(s, t => t.simUsPerLine) / 10, 2)} s per 100k`,
      );
    }
    say(`  agent phase: ${fmt((Date.now() - phaseStart) / 1000, 1)} s`);
  } finally {
    if (tails) await tails.call('close', null, 10_000).catch(() => undefined);
    if (dea) await dea.call('stop', null, 10_000).catch(() => undefined);
    await Promise.all([agent, router, dea, tails].map(c => (c ? stopChild(c.proc, 8000) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- the drains phase -------------------------------------------------------------------------

/** Drains per app in the fan-out setup: this many apps, each bound to its own drain (receiver port). */
const DRAIN_APPS = 100;
/** Lines in one drain trial at most (TRIAL_MS at the rate, capped here). */
const DRAIN_MAX_LINES = 200_000;
/** Searches of the drains phase stop starting trials after this long (a trial in progress finishes). */
const DRAINS_SEARCH_MS = 72_000;
/** The single-worker search of the scaling table (router → 1 drain), after those. */
const DRAINS_ONE_WORKER_MS = 24_000;
/** How long a router setup waits for its first line through the drain(s) before it is given up. */
const DRAIN_PROBE_MS = 10_000;
const TARGET_DRAIN_RATIO = 1;
/** rsyslog's imudp worker threads: as many cores as the router gets with LOGGREGATOR_ROUTER_WORKERS=auto. */
const RSYSLOG_THREADS = Math.max(1, cpus().length);

type DrainKey = 'one' | 'rsyslog' | 'hundred' | 'oneW1';
/** (7b) must reach this share of (7a): 100 drains cost little more per line than one. */
const TARGET_HUNDRED_RATIO = 0.8;

/** One thing that forwards UDP-in lines to the syslog-ng receiver: the router (1 or 100 drains) or rsyslog. */
interface DrainSetup {
  readonly key: DrainKey;
  readonly label: string;
  /** Its UDP input. */
  readonly udpPort: number;
  /** Its PID, for CPU from /proc. */
  readonly pid: number;
  readonly format: 'envelope' | 'rfc5424';
  readonly appPrefix: string;
  readonly appCount: number;
  /** Which app name and receiver port each seq must arrive with. */
  readonly expect: Expect;
  /** The router's metrics; none for rsyslog. */
  readonly metrics?: () => Promise<Metrics>;
  readonly start: number;
}

interface DrainTrial extends Trial {
  /** CPU per line delivered, µs: the forwarder (router or rsyslog), the receiver (syslog-ng), and per line sent: the sender. */
  readonly fwdUsPerLine: number;
  readonly receiverUsPerLine: number;
  readonly senderUsPerLine: number;
  readonly fwdBusy: number;
  readonly receiverBusy: number;
}

interface DrainRig {
  readonly sender: ChildRpc;
  readonly receiver: SyslogReceiver;
  readonly counter: LineCounter;
  /** Next unused seq: every trial and probe gets its own range, so a late line is never counted twice. */
  nextSeq: number;
}

/**
 * One trial: `count` lines at `rate` into the setup's UDP input; it passes when the receiver's
 * file ends up with every one of them (each with its app's name, at its app's drain port) and
 * the last arrived ≤ LAG_LIMIT_MS after it was sent. "achieved" is the delivered rate: lines
 * received ÷ (last line received − first line sent).
 */
async function drainTrial(rig: DrainRig, setup: DrainSetup, rate: number): Promise<DrainTrial> {
  const count = Math.min(trialCount(rate), DRAIN_MAX_LINES);
  const seqBase = rig.nextSeq;
  rig.nextSeq += count + 1000;
  rig.counter.arm(seqBase, count, setup.expect);
  const m0 = await setup.metrics?.();
  const rcvbuf0 = udpRcvbufErrors();
  const cpu0 = { fwd: cpuSeconds(setup.pid), recv: cpuSeconds(rig.receiver.pid) };
  const r = await send(rig.sender, {
    ...sendArgs(setup.udpPort, rate, setup.appPrefix, count),
    appCount: setup.appCount,
    seqStart: seqBase,
    format: setup.format,
  });
  let st: CounterStats = rig.counter.stats();
  await settle(
    async () => {
      st = rig.counter.stats();
      return st.distinct;
    },
    count,
    500,
    8000,
  );
  const cpu = { fwd: cpuSeconds(setup.pid) - cpu0.fwd, recv: cpuSeconds(rig.receiver.pid) - cpu0.recv };
  st = rig.counter.stats();
  rig.counter.disarm();
  const m1 = await setup.metrics?.();
  const delta = (prefix: string) => sumSeries(m1, prefix) - sumSeries(m0, prefix);
  // Every line sent must arrive (a sender that cannot keep the rate sends fewer in its time limit:
  // that is the sender's limit, and the trial still says whether what it sent got through).
  const lossless = r.sent > 0 && st.distinct === r.sent && st.misrouted === 0;
  const lagMs = lossless ? (st.lastNewNs - r.lastSendNs) / 1e6 : NaN;
  const deliveredSeconds = (st.lastNewNs - r.firstSendNs) / 1e9;
  const delivered = st.distinct > 0 && deliveredSeconds > 0 ? st.distinct / deliveredSeconds : 0;
  const got = Math.max(1, st.distinct);
  const fwdUsPerLine = (cpu.fwd * 1e6) / got;
  const receiverUsPerLine = (cpu.recv * 1e6) / got;
  const senderUsPerLine = (r.cpuMs * 1e3) / Math.max(1, r.sent);
  const span = Math.max(deliveredSeconds, r.elapsedMs / 1000);
  const who = setup.key === 'rsyslog' ? 'rsyslog' : 'router';
  const routerDetail = setup.metrics
    ? `router ingested +${fmt(delta('loggregator_ingested_total'))}, drain sent +${fmt(delta('loggregator_drain_sent_total{'))}, ` +
      `drain dropped +${fmt(delta('loggregator_drain_dropped_total{'))}; `
    : '';
  return {
    target: rate,
    sent: r.sent,
    achieved: delivered,
    received: st.distinct,
    lossless,
    lagMs,
    pass: verdict(lossless, lagMs).pass,
    senderLimited: r.achievedRate < rate * 0.9,
    cpuUsPerLine: fwdUsPerLine,
    fwdUsPerLine,
    receiverUsPerLine,
    senderUsPerLine,
    fwdBusy: cpu.fwd / span,
    receiverBusy: cpu.recv / span,
    detail:
      `delivered ${fmt(delivered)}/s; ${routerDetail}rcvbuf drops +${udpRcvbufErrors() - rcvbuf0}` +
      `${st.duplicates ? `, ${fmt(st.duplicates)} duplicates` : ''}${st.misrouted ? `, ${fmt(st.misrouted)} MISROUTED (wrong app or drain)` : ''}` +
      `${st.foreign ? `, ${fmt(st.foreign)} other lines (e.g. ${JSON.stringify(st.samples[0] ?? '')})` : ''}; ` +
      `send→file p50 ${fmt(st.p50, 1)} p99 ${fmt(st.p99, 1)} ms; ` +
      `cpu/line: ${who} ${fmt(fwdUsPerLine, 1)} µs (busy ${pct(cpu.fwd / span)}), syslog-ng ${fmt(receiverUsPerLine, 1)} µs (busy ${pct(cpu.recv / span)}), ` +
      `sender ${fmt(senderUsPerLine, 1)} µs`,
  };
}

/** Sends one line per app until all arrive (drain connected, bindings loaded); undefined when they did, else why not. */
async function drainProbe(rig: DrainRig, setup: DrainSetup, maxMs: number): Promise<string | undefined> {
  const until = Date.now() + maxMs;
  let st: CounterStats | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const seqBase = rig.nextSeq;
    rig.nextSeq += setup.appCount + 1000;
    rig.counter.arm(seqBase, setup.appCount, setup.expect);
    await send(rig.sender, {
      port: setup.udpPort,
      rate: 2000,
      count: setup.appCount,
      appPrefix: setup.appPrefix,
      appCount: setup.appCount,
      seqStart: seqBase,
      maxMs: 2000,
      format: setup.format,
    });
    await settle(async () => rig.counter.stats().distinct, setup.appCount, 1000, Math.max(0, Math.min(1500, until - Date.now())));
    st = rig.counter.stats();
    rig.counter.disarm();
    if (st.distinct === setup.appCount && st.misrouted === 0) return undefined;
    if (Date.now() >= until) break;
  }
  return (
    `after ${fmt(maxMs / 1000)} s of probing, ${st?.distinct ?? 0}/${setup.appCount} probe lines reached the receiver` +
    `${st?.misrouted ? ` (${st.misrouted} with the wrong app or drain)` : ''}${st?.foreign ? `; other lines there: ${JSON.stringify(st.samples)}` : ''}`
  );
}

async function phaseDrains(sender: ChildRpc, results: Results): Promise<void> {
  phaseHeader(
    `(7) drains: sender (child) → UDP → router (built CLI) or rsyslog → TCP, RFC 6587 octet-counted RFC 5424 → syslog-ng → file (read here)`,
  );
  const phaseStart = Date.now();
  const res: NonNullable<Results['drains']> = (results.drains = { setups: {}, rsyslog: 'not tried', rsyslogThreads: RSYSLOG_THREADS, seconds: NaN });
  if (!syslogNgPath()) {
    const why = 'syslog-ng is not installed (apt-get install -y syslog-ng-core): no receiver for the drains';
    for (const key of ['one', 'rsyslog', 'hundred', 'oneW1'] as const) res.setups[key] = { label: key, error: why };
    say(`  drains phase not run: ${why}`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'lgb-drains-'));
  let receiver: SyslogReceiver | undefined;
  let counter: LineCounter | undefined;
  let router: RouterChild | undefined;
  let rsyslogProc: ChildProcess | undefined;
  try {
    // Ports: [0] rsyslog's drain, [1] the router's single drain, [2..] one per app of the 100.
    const [ports, rs] = await Promise.all([freeTcpPorts(2 + DRAIN_APPS), obtainRsyslog(say)]);
    const [rsPort, onePort, ...hundredPorts] = ports;
    receiver = await startSyslogReceiver(path.join(dir, 'receiver'), ports, track);
    counter = new LineCounter(receiver.file);
    say(
      `  receiver: syslog-ng (pid ${receiver.pid}) on ${ports.length} TCP ports, flags(flow-control) (it slows its senders rather than dropping), ` +
        `template "\${PROGRAM} \${DESTPORT} \${MESSAGE}" to one file, read here every 10 ms`,
    );
    const rig: DrainRig = { sender, receiver, counter, nextSeq: 1_000_000 };

    // The router: every binding in <dataDir>/bindings.json before it starts (the store also watches the file).
    const dataDir = path.join(dir, 'data');
    const hundredApp = (i: number) => `drain-app-${i}`;
    writeBindings(dataDir, [
      { app: 'drain-one', url: `syslog://127.0.0.1:${onePort}` },
      ...hundredPorts.map((p, i) => ({ app: hundredApp(i), url: `syslog://127.0.0.1:${p}` })),
    ]);
    router = await startRouterChild('drains', { LOGGREGATOR_DATA_DIR: dataDir });
    const routerMetrics = () => fetchMetrics(router!);

    const setups: DrainSetup[] = [
      {
        key: 'one',
        label: 'router → 1 drain',
        udpPort: router.udpPort,
        pid: router.pid,
        format: 'envelope',
        appPrefix: 'drain-one',
        appCount: 1,
        expect: () => ({ app: 'drain-one', port: onePort }),
        metrics: routerMetrics,
        start: 10_000,
      },
    ];
    // The baseline: rsyslog, if it could be fetched and starts.
    const rsLabel = 'rsyslog → 1 drain (baseline)';
    const rsUdpPort = await freeUdpPort();
    const rsChild = rs.ok ? await startRsyslog(rs.rsyslog, path.join(dir, 'rsyslog'), rsUdpPort, rsPort, track, RSYSLOG_THREADS).catch((err: Error) => err) : undefined;
    if (!rs.ok || !rsChild || rsChild instanceof Error) {
      const why = !rs.ok ? rs.reason : `it did not start: ${(rsChild as Error).message.split('\n').slice(0, 4).join(' | ')}`;
      res.rsyslog = `unavailable: ${why}`;
      res.setups.rsyslog = { label: rsLabel, error: res.rsyslog };
      say(`  rsyslog baseline unavailable: ${why}; the phase goes on without it`);
    } else {
      rsyslogProc = rsChild.proc;
      res.rsyslog = `rsyslog ${rs.rsyslog.version}, ${rs.rsyslog.origin}`;
      setups.push({
        key: 'rsyslog',
        label: rsLabel,
        udpPort: rsUdpPort,
        pid: rsChild.pid,
        format: 'rfc5424',
        appPrefix: 'rsyslog-one',
        appCount: 1,
        expect: () => ({ app: 'rsyslog-one', port: rsPort }),
        start: 10_000,
      });
      say(
        `  baseline: ${res.rsyslog}; imudp with threads="${RSYSLOG_THREADS}" (one per CPU, as many as the router's workers with "auto"; rcvbuf 8 MiB) → omfwd TCP_Framing="octet-counted", RFC 5424 template; ` +
          `its input is the same ${MESSAGE_BYTES}-byte message as an RFC 5424 line, one per datagram (${new Rfc5424Template('rsyslog-one').bytes.length} bytes; ` +
            `the router's JSON envelope: ${new DatagramTemplate('drain-one').bytes.length} bytes)`,
      );
    }
    setups.push({
      key: 'hundred',
      label: `router → ${DRAIN_APPS} drains (${DRAIN_APPS} apps, each its own drain)`,
      udpPort: router.udpPort,
      pid: router.pid,
      format: 'envelope',
      appPrefix: 'drain-app-',
      appCount: DRAIN_APPS,
      expect: seq => ({ app: hundredApp(seq % DRAIN_APPS), port: hundredPorts[seq % DRAIN_APPS] }),
      metrics: routerMetrics,
      start: 5000,
    });
    say(`  router (pid ${router.pid}) with ${1 + DRAIN_APPS} bindings in ${path.join(dataDir, 'bindings.json')}; rate = lines/s offered in all (over every app)`);

    let routerDrainsMissing: string | undefined;
    const measure = async (setup: DrainSetup, routerLog: readonly string[], until: number) => {
      if (setup.metrics && routerDrainsMissing) {
        res.setups[setup.key] = { label: setup.label, error: routerDrainsMissing };
        say(`  ${setup.label}: skipped (${routerDrainsMissing})`);
        return;
      }
      const probeError = await drainProbe(rig, setup, setup.metrics ? DRAIN_PROBE_MS : 5000);
      if (probeError) {
        const why = setup.metrics ? `the router delivered nothing to its drains (does it read bindings.json? ${probeError})` : probeError;
        if (setup.metrics) routerDrainsMissing = 'the router delivered nothing to its drains';
        res.setups[setup.key] = { label: setup.label, error: why };
        say(`  ${setup.label}: NOT MEASURED: ${why}`);
        if (setup.metrics) say(`    router log (last lines): ${routerLog.slice(-5).join(' | ')}`);
        return;
      }
      say(`  ${setup.label}:`);
      const s = await search(`drains ${setup.key.padEnd(7)}`, rate => drainTrial(rig, setup, rate), setup.start, 8, until);
      res.setups[setup.key] = { label: setup.label, search: s };
      const best = s.best as DrainTrial | undefined;
      say(
        `  → ${setup.label}: ${best ? `${fmt(best.achieved)} lines/s delivered` : 'no passing rate'}` +
          `${s.senderLimited ? ' (sender-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}; ` +
          `medians over lossless trials: cpu/line ${setup.key === 'rsyslog' ? 'rsyslog' : 'router'} ${fmt(medianDrain(s, t => t.fwdUsPerLine), 1)} µs, ` +
          `syslog-ng ${fmt(medianDrain(s, t => t.receiverUsPerLine), 1)} µs`,
      );
    };
    for (const [i, setup] of setups.entries()) await measure(setup, router.log, phaseStart + (DRAINS_SEARCH_MS * (i + 1)) / setups.length);

    // The scaling table's other side: the same single drain through a router with one worker
    // (same bindings file), alone on the host: the default router is stopped first.
    if (SCALING && ROUTER_WORKERS !== '1') {
      await stopChild(router.proc, 8000);
      const one = (router = await startRouterChild('drains-1w', { LOGGREGATOR_DATA_DIR: dataDir, LOGGREGATOR_ROUTER_WORKERS: '1' }));
      say(`  scaling: router (pid ${one.pid}) with LOGGREGATOR_ROUTER_WORKERS=1, the same bindings`);
      await measure(
        { ...setups[0], key: 'oneW1', label: 'router → 1 drain, LOGGREGATOR_ROUTER_WORKERS=1', udpPort: one.udpPort, pid: one.pid, metrics: () => fetchMetrics(one) },
        one.log,
        Date.now() + DRAINS_ONE_WORKER_MS,
      );
    }
    const one = res.setups.one?.search?.best?.achieved;
    const base = res.setups.rsyslog?.search?.best?.achieved;
    if (one && base) {
      const c = cpuAtCommonRate(res.setups.one?.search, res.setups.rsyslog?.search);
      say(
        `  router → 1 drain / rsyslog: ${fmt(one / base, 2)} (goal ≥ ${fmt(TARGET_DRAIN_RATIO, 1)})` +
          `${res.setups.rsyslog?.search?.senderLimited ? ' (rsyslog was sender-limited: its rate is a lower bound, so this ratio is an upper bound)' : ''}` +
          (c ? `; cpu/line at ${fmt(c.rate)}/s (the highest rate both passed): router ${fmt(c.a, 1)} µs, rsyslog ${fmt(c.b, 1)} µs = ${fmt(c.a / c.b, 2)}×` : ''),
      );
    }
    res.seconds = (Date.now() - phaseStart) / 1000;
    say(`  drains phase: ${fmt(res.seconds, 1)} s`);
  } finally {
    counter?.close();
    await Promise.all([router?.proc, rsyslogProc, receiver?.proc].map(p => (p ? stopChild(p, 5000) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function medianDrain(srch: Search | undefined, f: (t: DrainTrial) => number): number {
  return median(((srch?.trials ?? []) as DrainTrial[]).filter(t => t.lossless).map(f).filter(Number.isFinite));
}

/**
 * CPU per line of two setups at the same offered rate: the highest rate at which both had a
 * passing trial (both searches start at 10,000/s and double, so they share rates). Per line
 * figures at low rates carry fixed costs (timers, polling): compare like with like.
 */
function cpuAtCommonRate(a: Search | undefined, b: Search | undefined): { rate: number; a: number; b: number; receiver: number } | undefined {
  const ok = (s: Search | undefined) => ((s?.trials ?? []) as DrainTrial[]).filter(t => t.pass && !t.senderLimited);
  const bs = ok(b);
  let found: { rate: number; a: number; b: number; receiver: number } | undefined;
  for (const ta of ok(a)) {
    const tb = bs.filter(t => t.target === ta.target).sort((x, y) => x.fwdUsPerLine - y.fwdUsPerLine)[0];
    if (tb && (!found || ta.target > found.rate)) found = { rate: ta.target, a: ta.fwdUsPerLine, b: tb.fwdUsPerLine, receiver: ta.receiverUsPerLine };
  }
  return found;
}

// --- summary ----------------------------------------------------------------------------------

function table(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ') + ' |';
  say(line(rows[0]));
  say('|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows.slice(1)) say(line(r));
}

function summary(r: Results): void {
  say();
  say(`Summary (a rate passes when every line arrives and the receiver keeps up: the last line, and 99% of lines at a tail client, ≤ ${LAG_LIMIT_MS} ms after sending)`);
  const rows: string[][] = [['#', 'measure', 'result', 'baseline / ratio', 'target', 'verdict']];
  const ceiling = r.ceiling?.best?.achieved;
  if (r.ceiling) {
    rows.push([
      '1',
      'raw ceiling: bare dgram receiver',
      `${fmt(ceiling ?? NaN)} lines/s${r.ceiling.senderLimited ? ' (sender-limited: a lower bound)' : ''}`,
      'baseline 1.00',
      '-',
      '-',
    ]);
  }
  const searchCell = (s: Search | undefined, why?: string) =>
    !s
      ? `not measured${why ? `: ${why}` : ''}`
      : s.best
        ? `${fmt(s.best.achieved)} lines/s${s.senderLimited ? ' (sender-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}`
        : 'no passing rate found';
  const cpuPerLine = (srch?: Search) => median((srch?.trials ?? []).filter(t => t.lossless).map(t => t.cpuUsPerLine));
  if (r.ingest) {
    const g = r.ingest;
    const v = g.tc?.best?.achieved ?? 0;
    const ratio = ceiling && g.tc ? v / ceiling : NaN;
    rows.push([
      '2',
      `ingest through the traffic controller (\`serve\`, workers ${g.workers}), 1 tail client gets every line`,
      searchCell(g.tc, g.errors[0]),
      `${fmt(ratio, 3)} × (1)`,
      `≥ ${TARGET_INGEST_RATIO} × (1)`,
      Number.isFinite(ratio) ? (ratio >= TARGET_INGEST_RATIO ? 'PASS' : 'FAIL') : 'n/a',
    ]);
    const d = g.direct?.best?.achieved;
    rows.push([
      '2a',
      'the same, tail client on the router of that `serve` directly',
      searchCell(g.direct),
      [ceiling && d ? `${fmt(d / ceiling, 2)} × (1)` : '', d && v ? `(2) ÷ (2a) ${fmt(v / d, 2)}` : ''].filter(Boolean).join('; ') || 'n/a',
      '-',
      '-',
    ]);
    if (r.ceiling) {
      const sinkUs = cpuPerLine(r.ceiling);
      rows.push([
        '2b',
        'CPU per line (median of lossless trials)',
        `serve ${fmt(cpuPerLine(g.tc), 1)} µs through the TC, ${fmt(cpuPerLine(g.direct), 1)} µs direct (router + TC, one process; incl. the client's frame); bare receiver ${fmt(sinkUs, 1)} µs`,
        `receiver/serve (TC) ${fmt(sinkUs / cpuPerLine(g.tc), 2)}`,
        '-',
        '-',
      ]);
    }
  }
  if (r.latency) {
    const p99 = (ts: RouterTrial[]) => median(ts.map(t => t.latency.p99));
    const cell = (ts: RouterTrial[]) =>
      ts.length
        ? `median p99 ${fmt(p99(ts), 2)} ms (trials: ${ts.map(t => fmt(t.latency.p99, 1)).join(', ')}), median p50 ${fmt(median(ts.map(t => t.latency.p50)), 2)} ms` +
          `${ts.every(t => t.lossless) ? ', none lost' : `, LINES LOST in ${ts.filter(t => !t.lossless).length}`}`
        : 'not measured';
    const tc = r.latency.tc;
    const ok = tc.length === LATENCY_TRIALS && tc.every(t => t.lossless) && p99(tc) <= TARGET_P99_MS;
    rows.push([
      '3',
      `ingest→tail latency @ ${fmt(LATENCY_RATE)} lines/s through the TC, ${LATENCY_TRIALS} trials`,
      cell(tc),
      `direct: ${cell(r.latency.direct)}`,
      `median p99 ≤ ${TARGET_P99_MS} ms`,
      tc.length ? (ok ? 'PASS' : 'FAIL') : 'n/a',
    ]);
  }
  if (r.memory) {
    const m = r.memory;
    const d = m.fullRss - m.idleRss;
    const h = m.fullHeap - m.idleHeap;
    rows.push([
      '4',
      `memory, ${fmt(m.apps)} apps × ${fmt(m.lines / Math.max(1, m.apps))} lines`,
      `RSS +${mb(d)} = ${fmt(d / m.lines)} B/line (heap +${fmt(h / m.lines)} B/line)`,
      `payload ${mb(m.payloadBytes)}: RSS ${fmt(d / m.payloadBytes, 3)}×, heap ${fmt(h / m.payloadBytes, 3)}×`,
      `≤ ${TARGET_MEMORY_RATIO}× payload`,
      m.lines === MEMORY_APPS * MEMORY_LINES_PER_APP ? (d / m.payloadBytes <= TARGET_MEMORY_RATIO ? 'PASS' : 'FAIL') : 'INCOMPLETE FILL',
    ]);
  }
  if (r.fanout) {
    const best = r.fanout.best as RouterTrial | undefined;
    rows.push([
      '5',
      `fan-out, ${FANOUT_CLIENTS} tail clients on one app`,
      best
        ? `${fmt(best.achieved)} lines/s in → ${fmt(best.framesPerSec)} frames/s out (${fmt(best.framesPerSec / FANOUT_CLIENTS)}/client); ` +
          `${best.stats.complete}/${FANOUT_CLIENTS} clients got every line (fails at ~${fmt(r.fanout.lowestFail ?? NaN)}/s)`
        : 'no passing rate found',
      `${ceiling && best ? `frames out ${fmt(best.framesPerSec / ceiling, 2)} × (1); ` : ''}router ${fmt(cpuPerLine(r.fanout), 1)} µs cpu/frame`,
      '-',
      '-',
    ]);
  }
  if (r.agent) {
    const base = r.agent.baseline;
    for (const [i, { setup, search: srch }] of r.agent.setups.entries()) {
      const best = srch.best as AgentTrial | undefined;
      const v = best?.achieved ?? 0;
      rows.push([
        `6${'abcdefgh'[i]}`,
        `agent path, ${setup.label} → ${setup.apps} tail client${setup.apps > 1 ? 's' : ''}, every line`,
        best
          ? `${fmt(v)} lines/s (${fmt(best.perSocketRate)}/s per stdout socket)` +
            `${srch.senderLimited ? ' (simulator-limited: a lower bound)' : ` (fails at ~${fmt(srch.lowestFail ?? NaN)}/s)`}`
          : 'no passing rate found',
        base ? `${fmt(v / base, 2)} × (2a)` : '(2a) n/a',
        '-',
        '-',
      ]);
    }
    // CPU per 100k lines at each setup's best passing rate (s = µs per line / 10).
    const at = (f: (t: AgentTrial) => number) =>
      r.agent!.setups
        .map(({ setup, search: srch }) => `${setup.key} inst ${fmt(srch.best ? f(srch.best as AgentTrial) / 10 : NaN, 2)} s`)
        .join(', ');
    const routerUs = cpuPerLine(r.ingest?.direct);
    const ratios = r.agent.setups.map(({ search: srch }) => fmt(srch.best ? (srch.best as AgentTrial).agentUsPerLine / routerUs : NaN, 2)).join(', ');
    rows.push([
      `6${'abcdefgh'[r.agent.setups.length]}`,
      'agent CPU per 100k lines read, at the rates above',
      `${at(t => t.agentUsPerLine)} (simulator per 100k written: ${at(t => t.simUsPerLine)})`,
      r.ingest?.direct ? `serve in (2a): ${fmt(routerUs / 10, 2)} s; agent/serve ${ratios}` : '(2a) n/a',
      '-',
      '-',
    ]);
  }
  if (r.drains) {
    const d = r.drains;
    const row = (key: DrainKey) => d.setups[key];
    const rateOf = (key: DrainKey) => row(key)?.search?.best?.achieved;
    const cell = (key: DrainKey) => {
      const e = row(key);
      if (!e) return 'not run';
      if (e.error) return `not measured: ${e.error}`;
      const srch = e.search!;
      return srch.best
        ? `${fmt(srch.best.achieved)} lines/s${srch.senderLimited ? ' (sender-limited: a lower bound)' : ` (fails at ~${fmt(srch.lowestFail ?? NaN)}/s)`}`
        : 'no passing rate found';
    };
    const one = rateOf('one');
    const base = rateOf('rsyslog');
    const ratio = one && base ? one / base : NaN;
    rows.push([
      '7a',
      'router → 1 syslog drain (TCP, octet-counted RFC 5424), every line',
      cell('one'),
      Number.isFinite(ratio) ? `${fmt(ratio, 3)} × rsyslog (7c)${row('rsyslog')?.search?.senderLimited ? ' (an upper bound)' : ''}` : '(7c) n/a',
      `≥ ${fmt(TARGET_DRAIN_RATIO, 1)} × (7c)`,
      Number.isFinite(ratio) ? (ratio >= TARGET_DRAIN_RATIO ? 'PASS' : 'FAIL') : 'n/a',
    ]);
    const hundred = rateOf('hundred');
    const hundredRatio = one && hundred ? hundred / one : NaN;
    rows.push([
      '7b',
      `router → ${DRAIN_APPS} drains (${DRAIN_APPS} apps, own drain each), every line`,
      cell('hundred'),
      [Number.isFinite(hundredRatio) ? `${fmt(hundredRatio, 3)} × (7a)` : '(7a) n/a', base && hundred ? `${fmt(hundred / base, 2)} × (7c)` : ''].filter(Boolean).join('; '),
      `≥ ${fmt(TARGET_HUNDRED_RATIO, 1)} × (7a)`,
      Number.isFinite(hundredRatio) ? (hundredRatio >= TARGET_HUNDRED_RATIO ? 'PASS' : 'FAIL') : 'n/a',
    ]);
    rows.push(['7c', `rsyslog imudp (threads="${d.rsyslogThreads}") → omfwd 1 drain (same receiver), every line`, cell('rsyslog'), 'baseline 1.00', '-', '-']);
    const us = (key: DrainKey, f: (t: DrainTrial) => number) => medianDrain(row(key)?.search, f);
    const c = cpuAtCommonRate(row('one')?.search, row('rsyslog')?.search);
    rows.push([
      '7d',
      'CPU per line delivered',
      `${c ? `at ${fmt(c.rate)}/s (highest rate both passed): router ${fmt(c.a, 1)} µs, rsyslog ${fmt(c.b, 1)} µs, syslog-ng ${fmt(c.receiver, 1)} µs; ` : ''}` +
        `medians of lossless trials: router ${fmt(us('one', t => t.fwdUsPerLine), 1)} µs (1 drain), ${fmt(us('hundred', t => t.fwdUsPerLine), 1)} µs (${DRAIN_APPS} drains), ` +
        `rsyslog ${fmt(us('rsyslog', t => t.fwdUsPerLine), 1)} µs`,
      c ? `router/rsyslog ${fmt(c.a / c.b, 2)}` : 'n/a',
      '-',
      '-',
    ]);
  }
  if (r.fanin) rows.push(...fanInRows(r.fanin));
  if (r.firehose) rows.push(...firehoseRows(r.firehose));
  table(rows);
  scalingTable(r);
}

/** The same searches with one router worker and with ROUTER_WORKERS (auto: one per CPU), and their ratio. */
function scalingTable(r: Results): void {
  const rate = (s: Search | undefined) => s?.best?.achieved;
  const cell = (s: Search | undefined) => {
    const v = rate(s);
    return v === undefined ? (s ? 'no passing rate' : 'not measured') : `${fmt(v)} lines/s${s?.senderLimited ? ' (sender-limited)' : ''}`;
  };
  const rows: string[][] = [];
  const add = (what: string, one: Search | undefined, many: Search | undefined) => {
    const a = rate(one);
    const b = rate(many);
    rows.push([what, cell(one), cell(many), a && b ? `${fmt(b / a, 2)}×` : 'n/a']);
  };
  if (r.ingest && (r.ingest.tcOneWorker || r.ingest.tc)) add('(2) ingest through the TC, 1 tail client', r.ingest.tcOneWorker, r.ingest.tc);
  if (r.drains && (r.drains.setups.oneW1 || r.drains.setups.one)) add('(7a) router → 1 syslog drain', r.drains.setups.oneW1?.search, r.drains.setups.one?.search);
  if (!rows.length) return;
  say();
  say(`Scaling with the router's worker threads (${cpus().length} cpus; the host also runs the sender, the clients and the receivers)`);
  table([['measure', 'LOGGREGATOR_ROUTER_WORKERS=1', `LOGGREGATOR_ROUTER_WORKERS=${ROUTER_WORKERS}`, `${ROUTER_WORKERS} ÷ 1`], ...rows]);
}

// --- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const results: Results = {};
  const failed: string[] = [];
  const hard = setTimeout(() => {
    process.stderr.write(`bench: hard limit of ${HARD_LIMIT_MS / 1000} s reached; killing children, summary of what finished:\n`);
    killChildren('SIGKILL');
    summary(results);
    process.exit(3);
  }, HARD_LIMIT_MS);
  hard.unref();
  const started = Date.now();
  say(`loggregator-rx bench — node ${process.version}, ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), load ${loadavg().map(l => l.toFixed(2)).join(' ')}`);
  say(`trials of ${TRIAL_MS} ms; ${MESSAGE_BYTES}-byte messages; a trial passes when every line arrives and the receiver keeps up (the last line, and at tail clients 99% of lines, arrive ≤ ${LAG_LIMIT_MS} ms after sending: "lag"); a rate passes if 1 of 2 trials at it does`);
  const senderChoice = await chooseSender();
  say(`sender (every phase, both sides of every ratio): ${senderChoice.description}`);
  say(
    `routers: LOGGREGATOR_ROUTER_WORKERS=${ROUTER_WORKERS}${ROUTER_WORKERS === 'auto' ? ` (= ${cpus().length}, one worker thread per CPU)` : ''}` +
      `${SCALING && ROUTER_WORKERS !== '1' ? '; phases 2 and 7 also measure LOGGREGATOR_ROUTER_WORKERS=1 for the scaling table' : ''}`,
  );
  if (PROFILE_DIR) say(`router CPU profiles → ${PROFILE_DIR}`);
  say();
  const sender = await forkHelper('sender', senderChoice.bin ? [senderChoice.bin] : []);
  const tails = await forkHelper('tails');
  try {
    // A phase that throws (a child that does not start, say) is reported and the run goes on, so
    // the summary still shows every other phase.
    const phase = async (name: string, run: () => Promise<void>) => {
      if (!PHASES.includes(name)) return;
      const t = Date.now();
      try {
        await run();
      } catch (err) {
        const why = (err as Error).message.split('\n')[0];
        failed.push(`${name}: ${why}`);
        say(`  PHASE ${name} FAILED: ${why}`);
      }
      say(`  [${name}: ${fmt((Date.now() - t) / 1000, 1)} s]`);
      say();
    };
    await phase('ceiling', () => phaseCeiling(sender, results));
    await phase('ingest', () => phaseIngest(sender, tails, results));
    await phase('latency', () => phaseLatency(sender, results));
    await phase('memory', () => phaseMemory(sender, results, results.ingest?.direct?.best?.achieved ?? results.ingest?.tc?.best?.achieved));
    await phase('fanout', () => phaseFanout(sender, tails, results));
    await phase('agent', () => phaseAgent(results));
    await phase('drains', () => phaseDrains(sender, results));
    await phase('fanin', () => phaseFanIn(sender, results));
    await phase('firehose', () => phaseFirehose(sender, results));
    summary(results);
    if (failed.length) say(`\nphases that failed: ${failed.join('; ')}`);
    say();
    say(`bench finished in ${fmt((Date.now() - started) / 1000, 1)} s`);
  } finally {
    await Promise.all([stopChild(sender.proc), stopChild(tails.proc)]);
    killChildren('SIGKILL');
  }
}

main().then(
  () => process.exit(0),
  err => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    killChildren('SIGKILL');
    process.exit(1);
  },
);
