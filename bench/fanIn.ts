// Phase (8), tail fan-in through the traffic controller: one app's lines go over UDP to three
// routers (the built CLI, `router`), round-robin by seq, and websocket tail clients read them
// through a traffic controller (the built CLI, `traffic-controller`, static discovery of the three,
// a tokens file in a temp dir, Authorization: Bearer). In the same phase, the baseline: the same
// load into one router, read directly from it by the same number of clients. Both are measured
// with the same trial (same sender, same clients, same checks), so the ratios TC / direct say
// what the extra hop and the merge cost.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Metrics,
  RouterChild,
  Search,
  TRIAL_MS,
  Trial,
  alive,
  awaitLogEntry,
  cpuSeconds,
  fetchMetrics,
  fmt,
  forkHelper,
  metric,
  median,
  pct,
  phaseHeader,
  printTrial,
  say,
  search,
  send,
  sendArgs,
  settle,
  spawnCli,
  startRouterChild,
  stopChild,
  sumSeries,
  trialCount,
  udpRcvbufErrors,
  verdict,
} from './harness';
import { ChildRpc, LatencySummary, TailStats } from './proto';

/** Routers behind the traffic controller. */
export const FANIN_ROUTERS = 3;
/** Tail clients on each side (through the TC, and directly on the baseline router). */
const FANIN_CLIENTS = Math.max(1, Math.min(50, Number(process.env.BENCH_FANIN_CLIENTS ?? 1) || 1));
/** Both searches together stop starting trials after this long from their start (a trial in progress finishes). */
const FANIN_SEARCH_MS = 28_000;
/** Where both searches start (the warm-up trial is at half of it). */
const FANIN_SEARCH_START = 10_000;
/** How long a setup may take to deliver its first complete probe (the TC connects to the routers after the client's upgrade). */
const FANIN_PROBE_MS = 10_000;
/**
 * The latency measurement's fixed rate: half of phase 3's LATENCY_RATE, because on the 2-core
 * bench host the traffic controller with 3 routers, the sender and the client tops out at
 * 6,000–9,000 lines/s (see README), and a latency above the ceiling only measures the backlog.
 */
export const FANIN_LATENCY_RATE = 5000;
/** The latency measurement: this many seconds of lines at FANIN_LATENCY_RATE, after a 1 s warm-up. */
const FANIN_LATENCY_SECONDS = 3;

type FanInKey = 'tc' | 'direct';

export interface FanInResults {
  readonly clients: number;
  readonly setups: Partial<Record<FanInKey, { label: string; latency?: FanInTrial; search?: Search; error?: string }>>;
  seconds: number;
}

interface TcChild {
  readonly proc: RouterChild['proc'];
  readonly pid: number;
  readonly base: string;
  readonly httpPort: number;
  readonly log: string[];
}

/** One side of the comparison: where the lines go in, where the clients read them, whose CPU and metrics count. */
interface Target {
  readonly key: FanInKey;
  readonly label: string;
  readonly app: string;
  /** Router UDP ports; line seq goes to ports[seq % ports.length]. */
  readonly ports: readonly number[];
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly routers: readonly RouterChild[];
  readonly tc?: TcChild;
  readonly tails: ChildRpc;
}

interface Rig {
  readonly sender: ChildRpc;
  readonly clients: number;
  /** Next unused seq: each trial and probe has its own range (the clients stay connected, so a late line must not count twice). */
  nextSeq: number;
}

interface FanInTrial extends Trial {
  readonly stats: TailStats;
  readonly latency: LatencySummary;
  /** CPU per line delivered (per frame with several clients), µs: the traffic controller (NaN direct), the routers (summed). */
  readonly tcUsPerLine: number;
  readonly routersUsPerLine: number;
}

/** The built CLI (`traffic-controller`) on a free port, with static discovery of `routers` and the tokens file given. */
async function startTrafficControllerChild(routers: readonly RouterChild[], tokensFile: string, dataDir: string): Promise<TcChild> {
  const proc = spawnCli('traffic-controller', 'tc-fanin', {
    LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_HOST: '127.0.0.1',
    LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
    LOGGREGATOR_ROUTERS_DISCOVERY: 'static',
    LOGGREGATOR_ROUTERS_STATIC: JSON.stringify(
      routers.map((r, i) => ({ id: `r${i + 1}`, udp: `127.0.0.1:${r.udpPort}`, http: `127.0.0.1:${r.httpPort}` })),
    ),
    LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_MODE: 'tokens',
    LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_TOKENS_FILE: tokensFile,
    LOGGREGATOR_DATA_DIR: dataDir,
  });
  const { entry, log } = await awaitLogEntry(proc, 'traffic controller', 'traffic controller listening', e => Boolean(e.http));
  const http = new URL(String(entry.http));
  return { proc, pid: proc.pid!, base: `http://127.0.0.1:${http.port}`, httpPort: Number(http.port), log };
}

async function connect(rig: Rig, t: Target): Promise<void> {
  await t.tails.call('connect', { url: t.url, n: rig.clients, timeoutMs: 10_000, headers: t.headers }, 20_000);
}

/**
 * Sends a few lines to every router of the setup until one batch reaches every client complete:
 * the traffic controller opens its streams to the routers after the client's upgrade, so lines
 * sent before that are not seen. Undefined when it did; else why not.
 */
async function probe(rig: Rig, t: Target, maxMs: number): Promise<string | undefined> {
  const until = Date.now() + maxMs;
  let st: TailStats | undefined;
  for (let attempt = 0; attempt < 40 && Date.now() < until; attempt++) {
    const count = 20 * t.ports.length;
    const seqBase = rig.nextSeq;
    rig.nextSeq += count + 1000;
    await t.tails.call('arm', { expected: count, seqBase, recordLatency: false }, 5000);
    await send(rig.sender, { port: t.ports[0], ports: t.ports, rate: 2000, count, appPrefix: t.app, appCount: 1, seqStart: seqBase, maxMs: 2000 });
    await settle(
      async () => {
        st = await t.tails.call<TailStats>('stats', null, 5000);
        return st.complete;
      },
      rig.clients,
      300,
      Math.max(0, Math.min(1500, until - Date.now())),
    );
    if (st && st.complete === rig.clients) return undefined;
  }
  return `after ${fmt(maxMs / 1000)} s of probing, the fewest probe lines a client got was ${st?.minDistinct ?? 0}/${20 * t.ports.length} (${st?.open ?? 0}/${rig.clients} clients open)`;
}

/**
 * One trial at one rate, as routerTrial in run.ts: `count` lines of the target's app at `rate`,
 * round-robin over its routers; it passes when every client got every line (no notice: a drop
 * notice, or a TC notice that a router stream was lost, fails it), and the last line and 99%
 * of lines arrived ≤ LAG_LIMIT_MS after they were sent. "achieved" is the delivered rate at the
 * clients: the fewest lines a client got ÷ (last frame received − first line sent).
 */
async function fanInTrial(rig: Rig, t: Target, rate: number, count = trialCount(rate)): Promise<FanInTrial> {
  const clients = rig.clients;
  const seqBase = rig.nextSeq;
  rig.nextSeq += count + 1000;
  await t.tails.call('arm', { expected: count, seqBase, recordLatency: true }, 5000);
  // A router or TC that does not answer (gone, stalled) shows as n/a figures, not as the end of the bench.
  const routerMetrics = () => Promise.all(t.routers.map(r => fetchMetrics(r).catch((): Metrics => new Map())));
  const tcMetrics = async (): Promise<Metrics | undefined> => (t.tc && alive(t.tc.proc) ? fetchMetrics(t.tc).catch(() => undefined) : undefined);
  const [r0, tc0] = await Promise.all([routerMetrics(), tcMetrics()]);
  const rcvbuf0 = udpRcvbufErrors();
  const cpuNow = () => ({
    routers: t.routers.reduce((sum, r) => sum + cpuSeconds(r.pid), 0),
    tc: t.tc ? cpuSeconds(t.tc.pid) : NaN,
    tails: cpuSeconds(t.tails.proc.pid),
  });
  const cpu0 = cpuNow();
  const r = await send(rig.sender, { ...sendArgs(t.ports[0], rate, t.app, count), ports: t.ports, seqStart: seqBase });
  let stats = await t.tails.call<TailStats>('stats', null, 5000);
  await settle(
    async () => {
      stats = await t.tails.call<TailStats>('stats', null, 5000);
      return stats.complete === clients ? Infinity : stats.totalFrames;
    },
    Infinity,
    500,
    clients > 1 ? 6000 : 4000,
  );
  const c1 = cpuNow();
  const cpu = { routers: c1.routers - cpu0.routers, tc: c1.tc - cpu0.tc, tails: c1.tails - cpu0.tails, sender: r.cpuMs / 1000 };
  const [r1, tc1] = await Promise.all([routerMetrics(), tcMetrics()]);
  const latency = await t.tails.call<LatencySummary>('latency', null, 10_000);

  const routerDelta = (key: string) => r1.reduce((sum, m, i) => sum + (metric(m, key) - metric(r0[i], key)), 0);
  const ingestedEach = r1.map((m, i) => metric(m, 'loggregator_ingested_total') - metric(r0[i], 'loggregator_ingested_total'));
  const ingested = ingestedEach.reduce((a, b) => a + b, 0);
  const routerTailDrops = routerDelta('loggregator_dropped_total{reason="tail_slow_consumer"}');
  const tcDelta = (prefix: string) => sumSeries(tc1, prefix) - sumSeries(tc0, prefix);
  const tcDrops = tcDelta('loggregator_tc_dropped_total{');
  const tcStreamErrors = tcDelta('loggregator_tc_router_stream_errors_total{');
  const tcInvalid = tcDelta('loggregator_tc_invalid_router_lines_total');
  const tcLoopLagMs = metric(tc1 ?? new Map(), 'nodejs_eventloop_lag_max_seconds') * 1000; // reset at every scrape: this trial's
  const tcGcMs = ['minor', 'major', 'incremental', 'weakcb'].reduce((sum, kind) => sum + (tcDelta(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`) || 0) * 1000, 0);

  const lossless = stats.complete === clients && stats.notices === 0 && r.sent === count;
  const lagMs = lossless ? Math.max((stats.lastRecvNs - r.lastSendNs) / 1e6, latency.p99) : NaN;
  const deliveredSeconds = (stats.lastRecvNs - r.firstSendNs) / 1e9;
  const delivered = stats.minDistinct > 0 && deliveredSeconds > 0 ? stats.minDistinct / deliveredSeconds : 0;
  const frames = Math.max(1, stats.minDistinct * clients);
  const per = clients > 1 ? 'frame' : 'line';
  const span = Math.max(deliveredSeconds, r.elapsedMs / 1000);
  const tcUsPerLine = (cpu.tc * 1e6) / frames;
  const routersUsPerLine = (cpu.routers * 1e6) / frames;
  const tcGone = t.tc && !alive(t.tc.proc) ? `; TRAFFIC CONTROLLER EXITED (code ${t.tc.proc.exitCode}, signal ${t.tc.proc.signalCode})` : '';
  return {
    target: rate,
    sent: r.sent,
    achieved: delivered,
    received: stats.minDistinct,
    lossless,
    lagMs,
    pass: verdict(lossless, lagMs).pass,
    senderLimited: r.achievedRate < rate * 0.9,
    cpuUsPerLine: t.tc ? tcUsPerLine : routersUsPerLine,
    tcUsPerLine,
    routersUsPerLine,
    stats,
    latency,
    detail:
      `delivered ${fmt(delivered)}/s${clients > 1 ? `, clients complete ${stats.complete}/${clients}` : ''}` +
      `${stats.notices ? `, ${fmt(stats.notices)} NOTICES` : ''}${stats.duplicates ? `, ${fmt(stats.duplicates)} DUPLICATES` : ''}` +
      `${t.ports.length > 1 ? `, ${fmt(stats.outOfOrder)} out of seq order` : ''}; latency p50 ${fmt(latency.p50, 1)} p99 ${fmt(latency.p99, 1)} ms; ` +
      `ingested ${fmt(ingested)}${t.routers.length > 1 ? ` (${ingestedEach.map(n => fmt(n)).join(' + ')})` : ''}, rcvbuf drops +${udpRcvbufErrors() - rcvbuf0}, ` +
      `tail drops: router ${fmt(routerTailDrops)}${t.tc ? `, TC ${fmt(tcDrops)}; TC stream errors ${fmt(tcStreamErrors)}, invalid ${fmt(tcInvalid)}` : ''}; ` +
      `cpu/${per}: ${t.tc ? `TC ${fmt(tcUsPerLine, 1)} µs (busy ${pct(cpu.tc / span)}, loop lag max ${fmt(tcLoopLagMs)} ms, gc ${fmt(tcGcMs)} ms), ` : ''}` +
      `router${t.routers.length > 1 ? 's' : ''} ${fmt(routersUsPerLine, 1)} µs (busy ${pct(cpu.routers / span)}), ` +
      `tails ${fmt((cpu.tails * 1e6) / frames, 1)} µs, sender ${fmt((cpu.sender * 1e6) / Math.max(1, r.sent), 1)} µs${tcGone}`,
  };
}

/** Median over a search's lossless trials of one per-line figure. */
function medianUs(srch: Search | undefined, f: (t: FanInTrial) => number): number {
  return median(((srch?.trials ?? []) as FanInTrial[]).filter(t => t.lossless).map(f).filter(Number.isFinite));
}

/** Error and warning lines of a child's log (its last 200 lines). */
function complaints(log: readonly string[]): string[] {
  return log.filter(line => /"level":"(error|warn)"/.test(line));
}

/** The phase; its results go into `into.fanin` as they come (a hard limit's summary shows what finished). */
export async function phaseFanIn(sender: ChildRpc, into: { fanin?: FanInResults }): Promise<void> {
  const clients = FANIN_CLIENTS;
  phaseHeader(
    `(8) tail fan-in: one app's lines over UDP to ${FANIN_ROUTERS} routers (round-robin) → traffic controller (built CLI, static discovery, bearer token) → ` +
      `${clients} websocket client${clients > 1 ? 's' : ''}; baseline: the same load into 1 router, ${clients} client${clients > 1 ? 's' : ''} on it directly`,
  );
  const phaseStart = Date.now();
  const res: FanInResults = (into.fanin = { clients, setups: {}, seconds: NaN });
  const dir = mkdtempSync(path.join(tmpdir(), 'lgb-fanin-'));
  const routers: RouterChild[] = [];
  let direct: RouterChild | undefined;
  let tc: TcChild | undefined;
  const helpers: ChildRpc[] = [];
  try {
    const token = randomBytes(24).toString('base64url');
    const tokensFile = path.join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ tokens: { [token]: '*' } }), { mode: 0o600 });
    const dataDir = (name: string) => {
      const d = path.join(dir, name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    const started = await Promise.all([
      ...Array.from({ length: FANIN_ROUTERS }, (_, i) => startRouterChild(`fanin-${i + 1}`, { LOGGREGATOR_DATA_DIR: dataDir(`router-${i + 1}`) })),
      startRouterChild('fanin-direct', { LOGGREGATOR_DATA_DIR: dataDir('router-direct') }),
      forkHelper('tails'),
      forkHelper('tails'),
    ]);
    routers.push(...(started.slice(0, FANIN_ROUTERS) as RouterChild[]));
    direct = started[FANIN_ROUTERS] as RouterChild;
    const [tailsTc, tailsDirect] = started.slice(FANIN_ROUTERS + 1) as ChildRpc[];
    helpers.push(tailsTc, tailsDirect);
    tc = await startTrafficControllerChild(routers, tokensFile, dataDir('tc'));
    say(
      `  routers (pids ${routers.map(r => r.pid).join(', ')}) → traffic controller (pid ${tc.pid}, :${tc.httpPort}, tokens file ${tokensFile}); ` +
        `baseline router pid ${direct.pid}; trials of ${fmt(TRIAL_MS)} ms; rate = lines/s offered in all (a third to each router through the TC)`,
    );
    const rig: Rig = { sender, clients, nextSeq: 1_000_000 };
    const targets: Record<FanInKey, Target> = {
      tc: {
        key: 'tc',
        label: `through the TC (${FANIN_ROUTERS} routers)`,
        app: 'fanin-tc',
        ports: routers.map(r => r.udpPort),
        url: `ws://127.0.0.1:${tc.httpPort}/tail?app=fanin-tc`,
        headers: { Authorization: `Bearer ${token}` },
        routers,
        tc,
        tails: tailsTc,
      },
      direct: {
        key: 'direct',
        label: 'direct from 1 router (baseline)',
        app: 'fanin-direct',
        ports: [direct.udpPort],
        url: `ws://127.0.0.1:${direct.httpPort}/tail?app=fanin-direct`,
        routers: [direct],
        tails: tailsDirect,
      },
    };
    const ready: FanInKey[] = [];
    for (const key of ['tc', 'direct'] as const) {
      const t = targets[key];
      const why = await connect(rig, t).then(
        () => probe(rig, t, FANIN_PROBE_MS),
        (err: Error) => `the tail client${clients > 1 ? 's' : ''} did not connect: ${err.message.split('\n')[0]}`,
      );
      if (why) {
        res.setups[key] = { label: t.label, error: why };
        say(`  ${t.label}: NOT MEASURED: ${why}`);
        if (t.tc) say(`    traffic controller log (last lines): ${t.tc.log.slice(-5).join(' | ')}`);
      } else {
        res.setups[key] = { label: t.label };
        ready.push(key);
      }
    }

    // The searches first (each starts with a warm-up trial).
    const searchStart = Date.now();
    const order = (['tc', 'direct'] as const).filter(k => ready.includes(k));
    for (const [i, key] of order.entries()) {
      const t = targets[key];
      const until = searchStart + (FANIN_SEARCH_MS * (i + 1)) / order.length;
      say(`  ${t.label}:`);
      const s = await search(`fanin ${key.padEnd(6)}`, rate => fanInTrial(rig, t, rate), FANIN_SEARCH_START, 8, until);
      res.setups[key]!.search = s;
      say(
        `  → ${t.label}: ${s.best ? `${fmt(s.best.achieved)} lines/s delivered` : 'no passing rate'}` +
          `${s.senderLimited ? ' (sender-limited: a lower bound)' : s.lowestFail ? ` (fails at ~${fmt(s.lowestFail)}/s)` : ''}; ` +
          `medians over lossless trials: cpu/line ${t.tc ? `TC ${fmt(medianUs(s, x => x.tcUsPerLine), 1)} µs, ` : ''}` +
          `router${t.routers.length > 1 ? 's' : ''} ${fmt(medianUs(s, x => x.routersUsPerLine), 1)} µs`,
      );
    }
    // Then the latency at a fixed rate, once every process is warm; in the order TC, direct,
    // direct, TC, so a drift of the host's load over the phase does not favour either side.
    for (const key of (['direct', 'tc'] as const).filter(k => ready.includes(k))) {
      const t = targets[key];
      printTrial(`fanin ${key.padEnd(6)} warm-up`, await fanInTrial(rig, t, FANIN_LATENCY_RATE, FANIN_LATENCY_RATE));
      const lt = await fanInTrial(rig, t, FANIN_LATENCY_RATE, FANIN_LATENCY_RATE * FANIN_LATENCY_SECONDS);
      printTrial(`fanin ${key.padEnd(6)} latency`, lt);
      const l = lt.latency;
      say(
        `  ${t.label}: latency ms over ${fmt(l.n)} lines at ${fmt(FANIN_LATENCY_RATE)}/s: p50 ${fmt(l.p50, 3)}  p90 ${fmt(l.p90, 3)}  p99 ${fmt(l.p99, 3)}  ` +
          `p99.9 ${fmt(l.p999, 3)}  max ${fmt(l.max, 3)}${lt.lossless ? '' : '  (LINES LOST)'}`,
      );
      res.setups[key]!.latency = lt;
    }
    for (const row of fanInRows(res)) say(`  ${row[1]}: ${row[2]}${row[3] && row[3] !== '-' ? ` — ${row[3]}` : ''}`);
    const tcComplaints = complaints(tc.log);
    if (tcComplaints.length) say(`  traffic controller logged ${tcComplaints.length} error/warning line(s), e.g. ${tcComplaints.slice(-3).join(' | ')}`);
    if (!alive(tc.proc)) say(`  THE TRAFFIC CONTROLLER EXITED during the phase (code ${tc.proc.exitCode}, signal ${tc.proc.signalCode}); last log lines: ${tc.log.slice(-5).join(' | ')}`);
    res.seconds = (Date.now() - phaseStart) / 1000;
    say(`  fan-in phase: ${fmt(res.seconds, 1)} s`);
  } finally {
    await Promise.all(helpers.map(h => h.call('close', null, 10_000).catch(() => undefined)));
    await Promise.all([tc?.proc, direct?.proc, ...routers.map(r => r.proc), ...helpers.map(h => h.proc)].map(p => (p ? stopChild(p, 8000) : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The summary's rows for this phase: #, measure, result, baseline / ratio, target, verdict. */
export function fanInRows(r: FanInResults): string[][] {
  const tc = r.setups.tc;
  const direct = r.setups.direct;
  const clients = `${r.clients} client${r.clients > 1 ? 's' : ''}`;
  const rate = (e: typeof tc) => {
    if (!e) return 'not run';
    if (e.error) return `not measured: ${e.error}`;
    const s = e.search;
    if (!s) return 'not measured';
    return s.best
      ? `${fmt(s.best.achieved)} lines/s delivered${s.senderLimited ? ' (sender-limited: a lower bound)' : ` (fails at ~${fmt(s.lowestFail ?? NaN)}/s)`}`
      : 'no passing rate found';
  };
  const a = tc?.search?.best?.achieved;
  const b = direct?.search?.best?.achieved;
  const lat = (e: typeof tc) =>
    e?.latency ? `p50 ${fmt(e.latency.latency.p50, 2)} ms, p99 ${fmt(e.latency.latency.p99, 2)} ms${e.latency.lossless ? '' : ' (LINES LOST)'}` : 'n/a';
  const pa = tc?.latency?.latency.p99;
  const pb = direct?.latency?.latency.p99;
  // CPU per line where both sides ran at the same rate (the latency step): the TC path (TC + its routers) against the one router.
  const tcPath = tc?.latency ? tc.latency.tcUsPerLine + tc.latency.routersUsPerLine : NaN;
  const directUs = direct?.latency?.routersUsPerLine ?? NaN;
  return [
    [
      '8a',
      `tail fan-in: 1 app over ${FANIN_ROUTERS} routers → TC → ${clients}, every line`,
      rate(tc),
      a && b ? `${fmt(a / b, 2)} × (8b)${direct?.search?.senderLimited ? ' (8b sender-limited: an upper bound)' : ''}` : '(8b) n/a',
      '-',
      '-',
    ],
    ['8b', `same load into 1 router, ${clients} on it directly, every line`, rate(direct), 'baseline 1.00', '-', '-'],
    [
      '8c',
      `ingest→tail latency @ ${fmt(FANIN_LATENCY_RATE)} lines/s, TC vs direct`,
      `TC ${lat(tc)}; direct ${lat(direct)}`,
      pa !== undefined && pb !== undefined ? `p99 ${fmt(pa / pb, 2)} × direct` : 'n/a',
      '-',
      '-',
    ],
    [
      '8d',
      `CPU per line delivered @ ${fmt(FANIN_LATENCY_RATE)} lines/s (the latency step)`,
      `TC path ${fmt(tcPath, 1)} µs (TC ${fmt(tc?.latency?.tcUsPerLine ?? NaN, 1)} + ${FANIN_ROUTERS} routers ${fmt(tc?.latency?.routersUsPerLine ?? NaN, 1)}); ` +
        `direct: router ${fmt(directUs, 1)} µs`,
      Number.isFinite(tcPath / directUs) ? `${fmt(tcPath / directUs, 2)} × direct` : 'n/a',
      '-',
      '-',
    ],
  ];
}
