// Phase (9), the firehose (issue 11): a `serve` (router + traffic controller, as in phase 2),
// lines of FIREHOSE_APPS apps over UDP, and FIREHOSE_CONSUMERS websocket consumers of one
// subscription on the traffic controller's /firehose (bearer token: the `*` token of serve's
// tokens file, which has the firehose scope); consumers of one subscription share the lines,
// split by app. The baseline, in the same `serve` and the same run: one tail client of one app
// on the traffic controller's /tail, every line of that app at the same ingest. Both sides use
// the same trial (the same sender, a `consumers` child with the same code, the same checks), so
// the ratio firehose / tail says what sharing the firehose costs against the one-app tail path.
//
// CPU: router and traffic controller are one process; with router workers (the default on more
// than one CPU) the traffic controller runs in a worker thread of its own. Its thread is found
// before any traffic by GETting its /metrics a few hundred times (only that thread serves them):
// the thread whose CPU rose. Each trial reads every thread's CPU from /proc/<pid>/task/*/stat and
// splits the process's CPU per line delivered into the TC thread, the main thread (the router's
// UDP reader, and its front door, which relays the workers' tail and firehose streams to the TC)
// and the other threads (the router's workers, V8's GC and compiler helpers, libuv's pool).
import {
  Metrics,
  Search,
  ServeChild,
  TRIAL_MS,
  Trial,
  alive,
  cpuSeconds,
  fetchMetrics,
  fmt,
  forkHelper,
  metric,
  pct,
  phaseHeader,
  printTrial,
  say,
  search,
  send,
  sendArgs,
  settle,
  startServeChild,
  stopChild,
  stopServeChild,
  sumSeries,
  threadCpuSeconds,
  trialCount,
  udpRcvbufErrors,
  verdict,
} from './harness';
import { ChildRpc, ConsumerStats, LatencySummary } from './proto';

/** Apps the firehose side's lines go to, round-robin by seq: enough for the split by app to give each consumer about its share. */
export const FIREHOSE_APPS = 64;
/** Consumers of the one subscription. */
export const FIREHOSE_CONSUMERS = 2;
const SUBSCRIPTION = 'bench-firehose';
const TAIL_APP = 'fh-tail';
const FIREHOSE_APP_PREFIX = 'fh-app-';
/** Issue 11: firehose ÷ one tail client ≥ this. */
export const TARGET_FIREHOSE_RATIO = 0.8;
/**
 * The two searches run at once, their trials taking turns (tail, firehose, tail, …), so a drift
 * of the host's load over the phase favours neither; both stop starting trials after this long
 * (a trial in progress finishes), and each after this many trials.
 */
const FIREHOSE_SEARCH_MS = 60_000;
const FIREHOSE_SEARCH_TRIALS = 9;
/** Where both searches start (the warm-up trial is at half of it). */
const FIREHOSE_SEARCH_START = 20_000;
/** The CPU step's rate, and its length per trial (two trials per side, in the order F T T F). */
export const FIREHOSE_CPU_RATE = 20_000;
const FIREHOSE_CPU_SECONDS = 3;
/** How long a side may take to deliver its first complete probe (the TC opens its router streams after the upgrade). */
const PROBE_MS = 10_000;

type Side = 'firehose' | 'tail';

/** Where the TC thread's CPU comes from: its thread id, or why there is none. */
interface TcThread {
  /** Undefined: not identified (then only the whole process is reported). */
  readonly tid?: number;
  /** The TC runs in the process's main thread (router workers 1: no thread of its own). */
  readonly mainThread: boolean;
  readonly detail: string;
}

interface Target {
  readonly key: Side;
  /** Clients to close before this side's trial: the firehose consumers before a tail trial (they would get its app's lines too). */
  readonly closeFirst?: ChildRpc;
  readonly label: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly appPrefix: string;
  readonly appCount: number;
  readonly clients: number;
  readonly rpc: ChildRpc;
}

interface Rig {
  readonly sender: ChildRpc;
  readonly serve: ServeChild;
  readonly tc: TcThread;
  /** Next unused seq: each trial and probe has its own range (the clients stay connected, so a late line must not count twice). */
  nextSeq: number;
}

/** µs of CPU per line delivered. */
interface CpuPerLine {
  /** The whole `serve` process (router and TC, every thread). */
  readonly serve: number;
  /** The TC's thread (NaN when not identified). */
  readonly tc: number;
  /** The main thread: the UDP reader and the router's front door (with the TC in it when it has no thread of its own). */
  readonly main: number;
  /** Every other thread: the router's workers, V8's and libuv's helpers. */
  readonly other: number;
  readonly clients: number;
  readonly sender: number;
}

interface Drops {
  readonly ingested: number;
  readonly rcvbuf: number;
  /** loggregator_tc_firehose_dropped_total, all subscriptions. */
  readonly tcFirehose: number;
  /** loggregator_tc_dropped_total{reason="firehose_slow_consumer"}. */
  readonly tcFirehoseReason: number;
  readonly tcTail: number;
  /** The router's loggregator_dropped_total{reason="firehose_slow_consumer"} (its stream to the TC) and {reason="tail_slow_consumer"}. */
  readonly routerFirehose: number;
  readonly routerTail: number;
  readonly tcStreamErrors: number;
  readonly tcInvalid: number;
}

interface FirehoseTrial extends Trial {
  readonly side: Side;
  readonly stats: ConsumerStats;
  readonly latency: LatencySummary;
  readonly cpu: CpuPerLine;
  readonly drops: Drops;
  /** Lines/s each client got (distinct lines ÷ the same span as the total). */
  readonly perClientRate: number[];
}

export interface FirehoseResults {
  readonly apps: number;
  readonly consumers: number;
  tcThread?: TcThread;
  readonly search: Partial<Record<Side, Search>>;
  /** The CPU step at FIREHOSE_CPU_RATE. */
  readonly cpu: Record<Side, FirehoseTrial[]>;
  readonly errors: string[];
  seconds: number;
}

/**
 * The TC's thread: the thread of `serve` whose CPU rose while the bench GETs the TC's /metrics
 * (at most 400 requests, at most 4 s) with no traffic. Identified when it used at least 50 ms
 * and at least 3 × the next busiest thread.
 */
async function findTcThread(serve: ServeChild): Promise<TcThread> {
  const before = threadCpuSeconds(serve.pid);
  const until = Date.now() + 4000;
  let n = 0;
  for (; n < 400 && Date.now() < until; n++) {
    await fetch(`${serve.tcBase}/metrics`, { signal: AbortSignal.timeout(2000) })
      .then(r => r.arrayBuffer())
      .catch(() => undefined);
  }
  const after = threadCpuSeconds(serve.pid);
  const deltas = [...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
  const [top, next] = deltas;
  const how = `${n} GETs of its /metrics: ${top ? `thread ${top[0]}${top[0] === serve.pid ? ' (main)' : ''} ${fmt(top[1] * 1000)} ms of CPU` : 'no thread readable'}, next ${next ? `${fmt(next[1] * 1000)} ms` : 'none'}, ${after.size} threads`;
  if (!top || top[1] < 0.05 || (next && top[1] < 3 * next[1])) return { mainThread: false, detail: `not identified (${how}): whole process only` };
  return { tid: top[0], mainThread: top[0] === serve.pid, detail: how };
}

/** Connects the target's clients and probes until one batch reaches them complete; undefined when it did, else why not. */
async function open(rig: Rig, t: Target): Promise<string | undefined> {
  try {
    await t.rpc.call('connect', { url: t.url, n: t.clients, timeoutMs: 10_000, headers: t.headers }, 20_000);
  } catch (err) {
    return `the client${t.clients > 1 ? 's' : ''} did not connect: ${(err as Error).message.split('\n')[0]}`;
  }
  const until = Date.now() + PROBE_MS;
  const count = Math.max(20, 2 * t.appCount);
  let st: ConsumerStats | undefined;
  for (let attempt = 0; attempt < 40 && Date.now() < until; attempt++) {
    const seqBase = rig.nextSeq;
    rig.nextSeq += count + 1000;
    await t.rpc.call('arm', { expected: count, seqBase, appCount: t.appCount, recordLatency: false }, 5000);
    await send(rig.sender, { port: rig.serve.udpPort, rate: 2000, count, appPrefix: t.appPrefix, appCount: t.appCount, seqStart: seqBase, maxMs: 2000 });
    await settle(
      async () => {
        st = await t.rpc.call<ConsumerStats>('stats', null, 5000);
        return st.distinct;
      },
      count,
      300,
      Math.max(0, Math.min(1500, until - Date.now())),
    );
    if (st?.complete) return undefined;
  }
  return `after ${fmt(PROBE_MS / 1000)} s of probing, ${st?.distinct ?? 0}/${count} probe lines arrived (${st?.open ?? 0}/${t.clients} clients open)`;
}

/**
 * One trial: `count` lines at `rate` (the target's apps, round-robin by seq) into serve's UDP
 * port. It passes when every line arrived (at one client or another), exactly once, with no
 * notice, and the last line and 99% of lines arrived ≤ LAG_LIMIT_MS after they were sent.
 * "achieved" is the delivered rate: lines received by all the clients together ÷ (last line
 * received − first line sent). Clients that were closed are connected (and probed) again first.
 */
async function trial(rig: Rig, t: Target, rate: number, count = trialCount(rate)): Promise<FirehoseTrial> {
  const serve = rig.serve;
  if (t.closeFirst && (await t.closeFirst.call<ConsumerStats>('stats', null, 5000)).open > 0) await t.closeFirst.call('close', null, 10_000);
  if ((await t.rpc.call<ConsumerStats>('stats', null, 5000)).open < t.clients) {
    const why = await open(rig, t);
    if (why) throw new Error(`${t.label}: ${why}`);
  }
  const seqBase = rig.nextSeq;
  rig.nextSeq += count + 1000;
  await t.rpc.call('arm', { expected: count, seqBase, appCount: t.appCount, recordLatency: true }, 5000);
  const metricsOf = (base: string) => (alive(serve.proc) ? fetchMetrics({ base }).catch((): Metrics => new Map()) : Promise.resolve<Metrics>(new Map()));
  const [r0, tc0] = await Promise.all([metricsOf(serve.base), metricsOf(serve.tcBase)]);
  const rcvbuf0 = udpRcvbufErrors();
  const threads0 = threadCpuSeconds(serve.pid);
  const clients0 = cpuSeconds(t.rpc.proc.pid);
  const r = await send(rig.sender, { ...sendArgs(serve.udpPort, rate, t.appPrefix, count), appCount: t.appCount, seqStart: seqBase });
  let stats = await t.rpc.call<ConsumerStats>('stats', null, 5000);
  await settle(
    async () => {
      stats = await t.rpc.call<ConsumerStats>('stats', null, 5000);
      return stats.complete ? Infinity : stats.distinct;
    },
    Infinity,
    500,
    4000,
  );
  const threads1 = threadCpuSeconds(serve.pid);
  const clientsCpu = cpuSeconds(t.rpc.proc.pid) - clients0;
  const [r1, tc1] = await Promise.all([metricsOf(serve.base), metricsOf(serve.tcBase)]);
  const latency = await t.rpc.call<LatencySummary>('latency', null, 10_000);

  // CPU by thread over the trial (a thread that started meanwhile counts from 0).
  const used = (tid: number) => (threads1.has(tid) ? threads1.get(tid)! - (threads0.get(tid) ?? 0) : NaN);
  let total = 0;
  for (const tid of threads1.keys()) total += used(tid);
  const tcTid = rig.tc.tid;
  const tcSec = tcTid === undefined ? NaN : used(tcTid);
  const mainSec = used(serve.pid);
  const otherSec = total - mainSec - (rig.tc.mainThread || tcTid === undefined ? 0 : tcSec);
  const lines = Math.max(1, stats.distinct);
  const us = (sec: number) => (sec * 1e6) / lines;
  const cpu: CpuPerLine = {
    serve: us(total),
    tc: us(tcSec),
    main: us(mainSec),
    other: us(otherSec),
    clients: us(clientsCpu),
    sender: (r.cpuMs * 1e3) / Math.max(1, r.sent),
  };

  const d = (m1: Metrics, m0: Metrics, prefix: string) => sumSeries(m1, prefix) - sumSeries(m0, prefix);
  const drops: Drops = {
    ingested: metric(r1, 'loggregator_ingested_total') - metric(r0, 'loggregator_ingested_total'),
    rcvbuf: udpRcvbufErrors() - rcvbuf0,
    tcFirehose: d(tc1, tc0, 'loggregator_tc_firehose_dropped_total{'),
    tcFirehoseReason: d(tc1, tc0, 'loggregator_tc_dropped_total{reason="firehose_slow_consumer"}'),
    tcTail: d(tc1, tc0, 'loggregator_tc_dropped_total{reason="tail_slow_consumer"}'),
    routerFirehose: d(r1, r0, 'loggregator_dropped_total{reason="firehose_slow_consumer"}'),
    routerTail: d(r1, r0, 'loggregator_dropped_total{reason="tail_slow_consumer"}'),
    tcStreamErrors: d(tc1, tc0, 'loggregator_tc_router_stream_errors_total{'),
    tcInvalid: d(tc1, tc0, 'loggregator_tc_invalid_router_lines_total'),
  };
  const tcLagMs = metric(tc1, 'nodejs_eventloop_lag_max_seconds') * 1000; // reset at every scrape: this trial's

  const lossless = stats.complete && stats.notices === 0 && r.sent === count;
  const lagMs = lossless ? Math.max((stats.lastRecvNs - r.lastSendNs) / 1e6, latency.p99) : NaN;
  const spanS = (stats.lastRecvNs - r.firstSendNs) / 1e9;
  const delivered = stats.distinct > 0 && spanS > 0 ? stats.distinct / spanS : 0;
  const perClientRate = stats.perClient.map(c => (spanS > 0 ? c.distinct / spanS : 0));
  const busySpan = Math.max(spanS, r.elapsedMs / 1000);
  const v = verdict(lossless, lagMs);
  const exactlyOnce = stats.duplicates === 0;
  const shares =
    t.clients > 1
      ? `; consumers ${stats.perClient.map((c, i) => `${pct(c.distinct / lines)} (${fmt(perClientRate[i])}/s, ${c.apps} apps)`).join(' + ')}`
      : '';
  const tcCell =
    tcTid === undefined
      ? `main ${fmt(cpu.main, 1)} (busy ${pct(mainSec / busySpan)})`
      : rig.tc.mainThread
        ? `main thread (router + TC) ${fmt(cpu.main, 1)} (busy ${pct(mainSec / busySpan)})`
        : `TC thread ${fmt(cpu.tc, 1)} (busy ${pct(tcSec / busySpan)}), main ${fmt(cpu.main, 1)} (busy ${pct(mainSec / busySpan)})`;
  return {
    side: t.key,
    target: rate,
    sent: r.sent,
    achieved: delivered,
    received: stats.distinct,
    lossless,
    lagMs,
    pass: v.pass && exactlyOnce,
    word: exactlyOnce ? undefined : 'DUPS  ',
    senderLimited: r.achievedRate < rate * 0.9,
    cpuUsPerLine: cpu.serve,
    stats,
    latency,
    cpu,
    drops,
    perClientRate,
    detail:
      `delivered ${fmt(delivered)}/s${shares}` +
      `${r.sent !== stats.distinct ? `; MISSING ${fmt(r.sent - stats.distinct)}` : ''}` +
      `${stats.notices ? `; ${fmt(stats.notices)} NOTICES (${stats.noticeTexts.slice(0, 2).join(' | ')})` : ''}` +
      `${stats.duplicates ? `; ${fmt(stats.duplicates)} DUPLICATES` : ''}${stats.splitApps ? `; ${stats.splitApps} APPS AT TWO CONSUMERS` : ''}` +
      `${stats.outOfOrder ? `; ${fmt(stats.outOfOrder)} OUT OF ORDER within an app` : ''}` +
      `; latency p50 ${fmt(latency.p50, 1)} p99 ${fmt(latency.p99, 1)} ms; ingested ${fmt(drops.ingested)}, rcvbuf drops +${fmt(drops.rcvbuf)}; ` +
      `drops: TC firehose ${fmt(drops.tcFirehose)} (reason firehose_slow_consumer ${fmt(drops.tcFirehoseReason)}), TC tail ${fmt(drops.tcTail)}, ` +
      `router firehose ${fmt(drops.routerFirehose)}, router tail ${fmt(drops.routerTail)}` +
      `${drops.tcStreamErrors ? `, TC STREAM ERRORS ${fmt(drops.tcStreamErrors)}` : ''}${drops.tcInvalid ? `, TC INVALID ROUTER LINES ${fmt(drops.tcInvalid)}` : ''}; ` +
      `cpu/line µs: serve ${fmt(cpu.serve, 1)} (busy ${pct(total / busySpan)}; ${tcCell}, other threads ${fmt(cpu.other, 1)}; TC loop lag max ${fmt(tcLagMs)} ms), ` +
      `client${t.clients > 1 ? 's' : ''} ${fmt(cpu.clients, 1)}, sender ${fmt(cpu.sender, 1)}` +
      `${alive(serve.proc) ? '' : `; SERVE EXITED (code ${serve.proc.exitCode}, signal ${serve.proc.signalCode})`}`,
  };
}

/**
 * Runs the two sides' trials one at a time, taking turns while both have one waiting (a side
 * whose search has ended leaves the other to go on alone).
 */
class Turns {
  private last: Side | undefined;
  private busy = false;
  private readonly waiting = new Map<Side, () => void>();

  async run<T>(side: Side, f: () => Promise<T>): Promise<T> {
    await new Promise<void>(resolve => {
      this.waiting.set(side, resolve);
      this.pump();
    });
    try {
      return await f();
    } finally {
      this.busy = false;
      this.last = side;
      this.pump();
    }
  }

  private pump(): void {
    if (this.busy || this.waiting.size === 0) return;
    const sides = [...this.waiting.keys()];
    const next = sides.find(s => s !== this.last) ?? sides[0];
    const go = this.waiting.get(next)!;
    this.waiting.delete(next);
    this.busy = true;
    go();
  }
}

/** Error and warning lines of serve's log (its last 200 lines). */
function complaints(log: readonly string[]): string[] {
  return log.filter(line => /"level":"(error|warn)"/.test(line));
}

/** Mean of one figure over the lossless trials (over all of them when none was lossless). */
function meanOf(ts: readonly FirehoseTrial[], f: (t: FirehoseTrial) => number): number {
  const ok = ts.filter(t => t.lossless);
  const xs = (ok.length ? ok : ts).map(f).filter(Number.isFinite);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/**
 * The two searches' passing trials at the highest rate both passed (both start at
 * FIREHOSE_SEARCH_START and double, then bisect, so they often share rates): CPU per line at the
 * same ingest near the top, where fixed costs (timers, helpers) weigh less than at the CPU step.
 */
function atCommonRate(r: FirehoseResults): { rate: number; firehose: FirehoseTrial; tail: FirehoseTrial } | undefined {
  const passed = (side: Side) => ((r.search[side]?.trials ?? []) as FirehoseTrial[]).filter(t => t.pass && !t.senderLimited);
  const tails = passed('tail');
  let found: { rate: number; firehose: FirehoseTrial; tail: FirehoseTrial } | undefined;
  for (const f of passed('firehose')) {
    const t = tails.find(x => x.target === f.target);
    if (t && (!found || f.target > found.rate)) found = { rate: f.target, firehose: f, tail: t };
  }
  return found;
}

/** The phase; its results go into `into.firehose` as they come (a hard limit's summary shows what finished). */
export async function phaseFirehose(sender: ChildRpc, into: { firehose?: FirehoseResults }): Promise<void> {
  phaseHeader(
    `(9) firehose: \`serve\` (router + traffic controller, LOGGREGATOR_ROUTER_WORKERS as in (2)); lines of ${FIREHOSE_APPS} apps → ` +
      `${FIREHOSE_CONSUMERS} websocket consumers sharing subscription "${SUBSCRIPTION}" on the TC's /firehose; baseline: 1 tail client of 1 app ` +
      `on the TC's /tail at the same ingest, same serve, same run`,
  );
  const phaseStart = Date.now();
  const res: FirehoseResults = (into.firehose = {
    apps: FIREHOSE_APPS,
    consumers: FIREHOSE_CONSUMERS,
    search: {},
    cpu: { firehose: [], tail: [] },
    errors: [],
    seconds: NaN,
  });
  let serve: ServeChild | undefined;
  const helpers: ChildRpc[] = [];
  try {
    serve = await startServeChild('firehose');
    const [fhRpc, tailRpc] = await Promise.all([forkHelper('consumers'), forkHelper('consumers')]);
    helpers.push(fhRpc, tailRpc);
    const tc = (res.tcThread = await findTcThread(serve));
    say(
      `  serve pid ${serve.pid}: router udp :${serve.udpPort} http :${serve.httpPort}, traffic controller :${serve.tcPort}; ` +
        `TC thread: ${tc.tid === undefined ? tc.detail : `${tc.tid}${tc.mainThread ? ' = the main thread (no thread of its own)' : ''}, found by ${tc.detail}`}`,
    );
    say(
      `  trials of ${fmt(TRIAL_MS)} ms; rate = lines/s offered; "delivered" = lines received by the client(s) together ÷ (last received − first sent); ` +
        `cpu/line = CPU ÷ lines delivered (main = UDP reader + the router's front door; other = router workers + V8/libuv helpers)`,
    );
    const headers = { Authorization: `Bearer ${serve.token}` };
    const rig: Rig = { sender, serve, tc, nextSeq: 1_000_000 };
    const targets: Record<Side, Target> = {
      firehose: {
        key: 'firehose',
        label: `firehose, ${FIREHOSE_CONSUMERS} consumers of one subscription`,
        url: `ws://127.0.0.1:${serve.tcPort}/firehose?subscription=${SUBSCRIPTION}`,
        headers,
        appPrefix: FIREHOSE_APP_PREFIX,
        appCount: FIREHOSE_APPS,
        clients: FIREHOSE_CONSUMERS,
        rpc: fhRpc,
      },
      tail: {
        key: 'tail',
        closeFirst: fhRpc,
        label: '1 tail client of 1 app (baseline)',
        url: `ws://127.0.0.1:${serve.tcPort}/tail?app=${TAIL_APP}`,
        headers,
        appPrefix: TAIL_APP,
        appCount: 1,
        clients: 1,
        rpc: tailRpc,
      },
    };

    // The two searches at once, their trials taking turns. The firehose consumers leave before
    // every tail trial (they would get its app's lines too) and come back (probed again: a new
    // pair of consumer ids, so a new split of the apps) before the next firehose trial; the tail
    // client stays connected throughout (during firehose trials it gets no line).
    const ready: Side[] = [];
    for (const key of ['firehose', 'tail'] as const) {
      const t = targets[key];
      const why = await open(rig, t);
      if (why) {
        res.errors.push(`${t.label}: ${why}`);
        say(`  ${t.label}: NOT MEASURED: ${why}`);
      } else ready.push(key);
    }
    say(`  the searches of ${ready.map(k => targets[k].label).join(' and ')}, trials taking turns:`);
    const turns = new Turns();
    const until = Date.now() + FIREHOSE_SEARCH_MS;
    // Both searches end before the phase goes on, even when one fails (then the phase fails).
    const settled = await Promise.allSettled(
      ready.map(async key => {
        const t = targets[key];
        res.search[key] = await search(`firehose ${key.padEnd(8)}`, rate => turns.run(key, () => trial(rig, t, rate)), FIREHOSE_SEARCH_START, FIREHOSE_SEARCH_TRIALS, until);
      }),
    );
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    for (const key of ready) {
      const t = targets[key];
      const s = res.search[key]!;
      const best = s.best as FirehoseTrial | undefined;
      say(
        `  → ${t.label}: ${best ? `${fmt(best.achieved)} lines/s delivered` : 'no passing rate'}` +
          `${best && t.clients > 1 ? ` (${best.perClientRate.map(x => fmt(x)).join(' + ')})` : ''}` +
          `${s.senderLimited ? ' (sender-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}`,
      );
    }

    // The CPU step: the same ingest rate on both sides, in the order F T T F so that a drift of
    // the host's load favours neither; the firehose consumers leave for the tail trials.
    const both = (['firehose', 'tail'] as const).every(k => res.search[k]);
    if (both) {
      say(`  CPU at the same ingest, ${fmt(FIREHOSE_CPU_RATE)} lines/s, ${FIREHOSE_CPU_SECONDS} s per trial:`);
      const count = FIREHOSE_CPU_RATE * FIREHOSE_CPU_SECONDS;
      for (const key of ['firehose', 'tail', 'tail', 'firehose'] as const) {
        const t = targets[key];
        const x = await trial(rig, t, FIREHOSE_CPU_RATE, count); // closes, or connects and probes, the firehose consumers as needed
        printTrial(`firehose ${key.padEnd(8)} cpu`, x);
        res.cpu[key].push(x);
      }
    }
    for (const row of firehoseRows(res)) say(`  ${row[0]} ${row[1]}: ${row[2]}${row[3] && row[3] !== '-' ? ` — ${row[3]}` : ''}`);
    const logged = complaints(serve.log);
    if (logged.length) say(`  serve logged ${logged.length} error/warning line(s), e.g. ${logged.slice(-3).join(' | ')}`);
    if (!alive(serve.proc)) say(`  SERVE EXITED during the phase (code ${serve.proc.exitCode}, signal ${serve.proc.signalCode}); last log lines: ${serve.log.slice(-5).join(' | ')}`);
  } finally {
    res.seconds = (Date.now() - phaseStart) / 1000;
    await Promise.all(helpers.map(h => h.call('close', null, 10_000).catch(() => undefined)));
    await Promise.all(helpers.map(h => stopChild(h.proc)));
    if (serve) await stopServeChild(serve);
  }
}

/**
 * Delivered lines/s of both sides at the highest offered rate both searches tried (mean of their
 * trials there): above both capacities, how much of the same ingest each side gets through.
 */
function atHighestCommonTried(r: FirehoseResults): { rate: number; firehose: number; tail: number; n: [number, number]; passed: boolean } | undefined {
  const tried = (side: Side) => (r.search[side]?.trials ?? []) as FirehoseTrial[];
  const rates = new Set(tried('tail').map(t => t.target));
  const common = tried('firehose')
    .map(t => t.target)
    .filter(x => rates.has(x));
  if (!common.length) return undefined;
  const rate = Math.max(...common);
  const at = (side: Side) => tried(side).filter(t => t.target === rate);
  const mean = (ts: FirehoseTrial[]) => ts.reduce((a, t) => a + t.achieved, 0) / ts.length;
  const f = at('firehose');
  const t = at('tail');
  return { rate, firehose: mean(f), tail: mean(t), n: [f.length, t.length], passed: [...f, ...t].every(x => x.pass) };
}

/** The summary's rows for this phase: #, measure, result, baseline / ratio, target, verdict. */
export function firehoseRows(r: FirehoseResults): string[][] {
  const fh = r.search.firehose;
  const tail = r.search.tail;
  const cell = (s: Search | undefined) => {
    if (!s) return `not measured${r.errors.length ? `: ${r.errors[0]}` : ''}`;
    const best = s.best as FirehoseTrial | undefined;
    if (!best) return 'no passing rate found';
    const shares =
      best.perClientRate.length > 1
        ? ` (consumers ${best.perClientRate.map(x => `${fmt(x)}/s`).join(' + ')} = ${best.stats.perClient.map(c => pct(c.distinct / Math.max(1, best.stats.distinct))).join(' / ')})`
        : '';
    return `${fmt(best.achieved)} lines/s delivered${shares}${s.senderLimited ? ' (sender-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}`;
  };
  const a = fh?.best?.achieved;
  const b = tail?.best?.achieved;
  const ratio = a && b ? a / b : NaN;
  const rows: string[][] = [
    [
      '9a',
      `firehose: ${r.apps} apps → TC → ${r.consumers} consumers sharing one subscription, every line exactly once`,
      cell(fh),
      Number.isFinite(ratio) ? `${fmt(ratio, 2)} × (9b)${tail?.senderLimited ? ' ((9b) sender-limited: an upper bound)' : ''}` : '(9b) n/a',
      `≥ ${TARGET_FIREHOSE_RATIO} × (9b)`,
      Number.isFinite(ratio) ? (ratio >= TARGET_FIREHOSE_RATIO ? 'PASS' : 'FAIL') : 'n/a',
    ],
    ['9b', '1 tail client of 1 app through the TC, same serve, every line', cell(tail), 'baseline 1.00', '-', '-'],
  ];
  const over = atHighestCommonTried(r);
  if (over) {
    rows.push([
      '9c',
      `lines/s delivered at the same ingest: ${fmt(over.rate)} lines/s offered, the highest rate both searches tried${over.passed ? '' : ' (lines lost: above capacity)'}`,
      `firehose ${fmt(over.firehose)}/s (mean of ${over.n[0]}), tail ${fmt(over.tail)}/s (mean of ${over.n[1]})`,
      `${fmt(over.firehose / over.tail, 2)} × tail`,
      '-',
      '-',
    ]);
  }
  // CPU per line, firehose against tail at the same ingest: the CPU step (mean of its lossless
  // trials per side), and the searches' highest common passing rate.
  const split = (ts: readonly FirehoseTrial[]) => {
    const tcPart =
      r.tcThread?.tid === undefined
        ? ''
        : r.tcThread.mainThread
          ? ` = main (router's reader and pipeline + TC) ${fmt(meanOf(ts, t => t.cpu.main), 1)} + other ${fmt(meanOf(ts, t => t.cpu.other), 1)}`
          : ` = TC thread ${fmt(meanOf(ts, t => t.cpu.tc), 1)} + main ${fmt(meanOf(ts, t => t.cpu.main), 1)} + other ${fmt(meanOf(ts, t => t.cpu.other), 1)}`;
    return `serve ${fmt(meanOf(ts, t => t.cpu.serve), 1)} µs${tcPart}`;
  };
  const diff = (f: readonly FirehoseTrial[], t: readonly FirehoseTrial[]) => {
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x, 1)}`;
    const dServe = meanOf(f, x => x.cpu.serve) - meanOf(t, x => x.cpu.serve);
    const tcF = meanOf(f, x => x.cpu.tc);
    const tcT = meanOf(t, x => x.cpu.tc);
    return (
      `firehose − tail: serve ${signed(dServe)} µs (${fmt(meanOf(f, x => x.cpu.serve) / meanOf(t, x => x.cpu.serve), 2)}×)` +
      `${Number.isFinite(tcF - tcT) && !r.tcThread?.mainThread ? `, TC thread ${signed(tcF - tcT)} µs (${fmt(tcF / tcT, 2)}×)` : ''}`
    );
  };
  const cf = r.cpu.firehose;
  const ct = r.cpu.tail;
  if (cf.length || ct.length) {
    const used = (ts: readonly FirehoseTrial[]) => (ts.some(t => t.lossless) ? ts.filter(t => t.lossless).length : ts.length);
    const lost = [...cf, ...ct].filter(t => !t.lossless).length;
    rows.push([
      '9d',
      `CPU per line delivered @ ${fmt(FIREHOSE_CPU_RATE)} lines/s (trials F T T F; mean of ${used(cf)} + ${used(ct)} lossless)`,
      `firehose: ${split(cf)}; tail: ${split(ct)}${lost ? `; ${lost} of the ${cf.length + ct.length} trials LOST LINES` : ''}`,
      diff(cf, ct),
      '-',
      '-',
    ]);
  }
  const common = atCommonRate(r);
  if (common) {
    rows.push([
      '9e',
      `CPU per line delivered @ ${fmt(common.rate)} lines/s, the highest rate both searches passed`,
      `firehose: ${split([common.firehose])}; tail: ${split([common.tail])}`,
      diff([common.firehose], [common.tail]),
      '-',
      '-',
    ]);
  }
  // Losses over every firehose trial of the phase (searches and CPU step), and the drop metrics.
  const all = (side: Side) => [...((r.search[side]?.trials ?? []) as FirehoseTrial[]), ...r.cpu[side]];
  const sum = (ts: FirehoseTrial[], f: (t: FirehoseTrial) => number) => ts.reduce((n, t) => n + (Number.isFinite(f(t)) ? f(t) : 0), 0);
  const f = all('firehose');
  const t = all('tail');
  if (f.length || t.length) {
    const lossCell = (ts: FirehoseTrial[]) =>
      `sent ${fmt(sum(ts, x => x.sent))}, received ${fmt(sum(ts, x => x.received))} (${ts.filter(x => !x.lossless).length}/${ts.length} trials lost lines; ` +
      `rcvbuf ${fmt(sum(ts, x => x.drops.rcvbuf))})`;
    rows.push([
      '9f',
      'losses over every trial of the phase (searches and CPU step)',
      `firehose: ${lossCell(f)}, TC firehose drops ${fmt(sum(f, x => x.drops.tcFirehose))} (firehose_slow_consumer ${fmt(sum(f, x => x.drops.tcFirehoseReason))}), ` +
        `router firehose drops ${fmt(sum(f, x => x.drops.routerFirehose))}, duplicates ${fmt(sum(f, x => x.stats.duplicates))}, apps at two consumers ${fmt(sum(f, x => x.stats.splitApps))}; ` +
        `tail: ${lossCell(t)}, TC tail drops ${fmt(sum(t, x => x.drops.tcTail))}, router tail drops ${fmt(sum(t, x => x.drops.routerTail))}`,
      '-',
      '-',
      '-',
    ]);
  }
  return rows;
}
