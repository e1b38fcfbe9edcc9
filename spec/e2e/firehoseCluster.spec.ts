// End to end, the firehose across a cluster of real processes around a real etcd (started by the
// test harness), one router killed mid-stream:
//
//                  hashed over the live routers     ┌──────────────────────┐
//   this test ──UDP (signed, as an agent)──▶ r1 ────┤                      ├──▶ team-a consumer 1 ┐ each app at one of them,
//   (20 apps)                            ──▶ r2 ────┤ traffic controller   ├──▶ team-a consumer 2 ┘ in order; union = every line
//                                        ──▶ r3 ────┤ /firehose            ├──▶ team-b consumer:    every line
//                                            ▲      │ (one stream a router)│
//                                   kill -9, │      └──────────────────────┘
//                               restarted    │  routers register in etcd (5 s lease; the victim restarted: 10 s); the TC follows them
//
// Lines flow to all three routers while the router owning the most apps is killed by PID
// (SIGKILL); the senders then hash over the two survivors, as an agent does once the dead router
// refuses. Every consumer stays connected and is told, in-band: "lost the stream from router rX",
// then "router rX left" (its lease expired). What is lost is at most lines sent to the killed
// router; every other line reaches each subscription exactly once. Restarted on the same id and
// ports, the router is announced as joined to every consumer and its new lines arrive. Killed again
// and restarted at once (within its lease), it is announced as lost, then resumed. Tokens: the
// admin ("*"), a nozzle ("firehose", given as access_token), a team's (a list with "firehose").
// Every process shares sharedSecret, as in production: datagrams are signed, and the routers'
// /firehose answers only the routers' API token (the traffic controller's).
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { rendezvousPick } from '../../streams/rendezvousHash';
import { Envelope, nowNs } from '../../src/envelope/envelope';
import { Child } from '../support/childProcess';
import { EtcdServer, startEtcd } from '../support/etcdServer';
import { fixedLoopbackPorts } from '../support/fixedPorts';
import { watchdog } from '../support/peerProcess';
import { TailClient } from '../support/tailClient';
import { UdpSender } from '../support/udpSender';
import { waitFor, within } from '../support/waitFor';

const CLI = 'dist/src/cli/main.js';
const IDS = ['r1', 'r2', 'r3'] as const;
type RouterId = (typeof IDS)[number];
const PREFIX = '/loggregator/routers/';
/** Long enough that a router starved of CPU for a few seconds keeps its lease (a lost one is told as left, then joined). */
const LEASE_TTL_SECONDS = 5;
/** The lease of the victim's later runs. */
const LONG_LEASE = { LOGGREGATOR_ROUTERS_LEASE_TTL_SECONDS: '10' };
const APP_IDS = Array.from({ length: 20 }, (_, i) => `fh-app-${String(i + 1).padStart(2, '0')}`);
/** Pause between two rounds of the background sender (one line of every app a round). */
const ROUND_MS = 40;
const ADMIN_TOKEN = `e2e-admin-${randomBytes(12).toString('hex')}`;
const NOZZLE_TOKEN = `e2e-nozzle-${randomBytes(12).toString('hex')}`;
const TEAM_TOKEN = `e2e-team-${randomBytes(12).toString('hex')}`;
const SHARED_SECRET = `e2e-firehose-secret-${randomBytes(12).toString('hex')}`;
/** A line this test sends: `fh-app-07 123` (app, then its number within the app). */
const SENT_LINE = /^(fh-app-\d\d) (\d+)$/;

// The whole file: ~30 s on a 2-core machine; each step has its own bounded waits, which add up to
// some 100 s in the kill test.
jest.setTimeout(120_000);

interface RouterProcess {
  readonly id: RouterId;
  readonly udpPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  child: Child;
}

/** One line the test sent: its app, its number within the app, the router it was sent to, its index in the log. */
interface Sent {
  readonly app: string;
  readonly seq: number;
  readonly router: RouterId;
  readonly index: number;
}

const keyOf = (app: string, seq: number) => `${app} ${seq}`;

/**
 * Sends lines of every app to the router rendezvous hashing picks among `targets`, one socket per
 * router, as an agent would; `targets` is changed by the test as an agent's router set would.
 * Keeps a log of what went where.
 */
class Sender {
  readonly sent: Sent[] = [];
  readonly byKey = new Map<string, Sent>();
  targets: RouterId[] = [...IDS];
  private readonly next = new Map<string, number>();
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly sockets: Map<RouterId, UdpSender>) {}

  /** One line of every app. */
  async round(): Promise<void> {
    for (const app of APP_IDS) {
      const seq = this.next.get(app) ?? 0;
      this.next.set(app, seq + 1);
      const router = rendezvousPick(app, this.targets, id => id)!;
      const sent = { app, seq, router, index: this.sent.length };
      this.sent.push(sent);
      this.byKey.set(keyOf(app, seq), sent);
      const line: Envelope = { appId: app, sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: nowNs(), message: keyOf(app, seq) };
      await this.sockets.get(router)!.sendEnvelopes([line], SHARED_SECRET);
    }
  }

  /** Rounds in the background, ROUND_MS apart, until stop(). */
  start(): void {
    this.loop = (async () => {
      while (!this.stopping) {
        await this.round();
        await new Promise(resolve => setTimeout(resolve, ROUND_MS));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }
}

/** The lines of this test a consumer got, in order of arrival (notices and anything else left out). */
function sentLines(client: TailClient): { app: string; seq: number }[] {
  const lines = [];
  for (const e of client.received) {
    const m = e.sourceType === 'APP' ? SENT_LINE.exec(e.message) : null;
    if (m && m[1] === e.appId) lines.push({ app: m[1], seq: Number(m[2]) });
  }
  return lines;
}

/** How many times each line reached a subscription (over all its consumers). */
function deliveries(consumers: TailClient[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of consumers) for (const { app, seq } of sentLines(c)) counts.set(keyOf(app, seq), (counts.get(keyOf(app, seq)) ?? 0) + 1);
  return counts;
}

/** The traffic controller's notices about the routers a consumer got, in order. */
function tcNotices(client: TailClient): string[] {
  return client.received.filter(e => e.sourceType === 'LGR' && e.appId === 'firehose' && e.sourceInstance === 'traffic-controller').map(e => e.message);
}

/** A metric's value on a process's /metrics (labels in the order the process writes them); NaN when absent. */
async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const head = selector === '' ? `${name} ` : `${name}{${selector}} `;
  const line = text.split('\n').find(l => l.startsWith(head));
  return line === undefined ? NaN : Number(line.slice(head.length));
}

describe('the firehose across 3 routers in etcd, one of them killed mid-stream and restarted', () => {
  const children: Child[] = [];
  const watches: ChildProcess[] = [];
  const sockets = new Map<RouterId, UdpSender>();
  let dir: string;
  let etcd: EtcdServer;
  let etcdClient: Etcd3 | undefined;
  let routers: RouterProcess[];
  let trafficController: Child;
  let tc: AddressInfo;
  let tcUrl: string;
  let clusterEnv: NodeJS.ProcessEnv;
  let sender: Sender;
  let a1: TailClient;
  let a2: TailClient;
  let b: TailClient;
  let consumers: TailClient[];

  // Filled in by the tests, in order.
  let victim: RouterProcess;
  let survivors: RouterProcess[];
  /**
   * Stretches of sender.sent (index from, to) whose lines to the victim may be lost: from the last
   * line known to have arrived to the senders passing over the killed victim. Every other line must arrive.
   */
  const lossWindows: [number, number][] = [];
  /** Index in sender.sent up to which every line that had to arrive was seen to arrive. */
  let verifiedUpTo = 0;

  /** A `node dist/src/cli/main.js …` child, in its own process group, with a watchdog that SIGKILLs it if jest dies first. */
  function start(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
    const child = Child.start('node', [CLI, ...args], env);
    children.push(child);
    const watch = watchdog(name, child, undefined);
    if (watch) watches.push(watch);
    return child;
  }

  function startRouter(r: RouterProcess, env: NodeJS.ProcessEnv = {}): Child {
    r.child = start(`router-${r.id}`, ['router'], {
      ...clusterEnv,
      ...env,
      LOGGREGATOR_ROUTER_ID: r.id,
      LOGGREGATOR_ROUTER_UDP_PORT: String(r.udpPort),
      LOGGREGATOR_ROUTER_HTTP_PORT: String(r.httpPort),
      LOGGREGATOR_DATA_DIR: r.dataDir,
    });
    return r.child;
  }

  const routerUrl = (r: RouterProcess) => `http://127.0.0.1:${r.httpPort}`;

  async function records(): Promise<Record<string, string>> {
    const all = await etcdClient!.getAll().prefix(PREFIX).strings();
    return Object.fromEntries(Object.entries(all).map(([key, value]) => [key.slice(PREFIX.length), value]));
  }

  async function tcRouters(): Promise<number> {
    return ((await (await fetch(`${tcUrl}/health`)).json()) as { routers: number }).routers;
  }

  /** Waits until every consumer has been told something matching `pattern`. */
  async function toldEveryConsumer(pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
    await waitFor(() => consumers.every(c => tcNotices(c).some(n => pattern.test(n))), { what: `${what} at every consumer`, timeoutMs, intervalMs: 50 });
  }

  /** Waits until every line of sender.sent[from, to) that `must` holds for has reached team-a (either consumer) and team-b. */
  async function delivered(from: number, to: number, must: (s: Sent) => boolean, what: string): Promise<void> {
    const expected = sender.sent.slice(from, to).filter(must);
    await waitFor(
      () => {
        const [teamA, teamB] = [deliveries([a1, a2]), deliveries([b])];
        return expected.every(s => teamA.has(keyOf(s.app, s.seq)) && teamB.has(keyOf(s.app, s.seq)));
      },
      { what: `${expected.length} lines (${what}) at team-a and team-b`, timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  /**
   * What the subscriptions got so far: no line twice, none the test did not send, and every line
   * of sender.sent[0, upTo) that is missing was sent to the victim in a loss window (around a kill).
   */
  function expectAtMostTheVictimsLinesLost(upTo: number): void {
    for (const [name, got] of [
      ['team-a', deliveries([a1, a2])],
      ['team-b', deliveries([b])],
    ] as const) {
      expect({ name, twice: [...got].filter(([, n]) => n > 1).map(([key]) => key) }).toEqual({ name, twice: [] });
      expect({ name, unknown: [...got.keys()].filter(key => !sender.byKey.has(key)) }).toEqual({ name, unknown: [] });
      const missing = sender.sent.slice(0, upTo).filter(s => !got.has(keyOf(s.app, s.seq)));
      const notTheVictims = missing.filter(s => s.router !== victim?.id || !lossWindows.some(([from, to]) => s.index >= from && s.index < to));
      expect({ name, lostButNotTheVictims: notTheVictims }).toEqual({ name, lostButNotTheVictims: [] });
    }
  }

  /** Each app of team-a at one consumer; at every consumer each app's lines from one router in the order sent. */
  function expectSplitAndOrdered(): void {
    const atA1 = new Set(sentLines(a1).map(l => l.app));
    const atA2 = new Set(sentLines(a2).map(l => l.app));
    expect([...atA1].filter(app => atA2.has(app))).toEqual([]);
    expect([...atA1, ...atA2].sort()).toEqual(APP_IDS);
    expect(atA1.size).toBeGreaterThan(0);
    expect(atA2.size).toBeGreaterThan(0);
    expect(new Set(sentLines(b).map(l => l.app)).size).toBe(APP_IDS.length);
    // Lines of one app that went through two routers (before and after a move) are ordered by arrival only.
    for (const [name, c] of [
      ['a1', a1],
      ['a2', a2],
      ['b', b],
    ] as const) {
      const last = new Map<string, number>();
      const backwards: string[] = [];
      for (const { app, seq } of sentLines(c)) {
        const key = `${app} via ${sender.byKey.get(keyOf(app, seq))?.router}`;
        if ((last.get(key) ?? -1) >= seq) backwards.push(`${keyOf(app, seq)} after ${last.get(key)}`);
        last.set(key, seq);
      }
      expect({ name, backwards }).toEqual({ name, backwards: [] });
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lgr-fh-'));
    etcd = await startEtcd();
    etcdClient = new Etcd3({ hosts: etcd.endpoint });
    const ports = await fixedLoopbackPorts(IDS.length * 2);
    routers = IDS.map((id, i) => {
      const dataDir = join(dir, `data-${id}`);
      mkdirSync(dataDir);
      return { id, udpPort: ports[2 * i], httpPort: ports[2 * i + 1], dataDir, child: undefined as unknown as Child };
    });
    const tokensFile = join(dir, 'tokens.json');
    const tokens = { [ADMIN_TOKEN]: '*', [NOZZLE_TOKEN]: 'firehose', [TEAM_TOKEN]: [APP_IDS[0], 'firehose'] };
    writeFileSync(tokensFile, JSON.stringify({ tokens }), { mode: 0o600 });
    clusterEnv = {
      LOGGREGATOR_ROUTERS_DISCOVERY: 'etcd',
      LOGGREGATOR_ETCD_ENDPOINTS: etcd.endpoint,
      LOGGREGATOR_ETCD_DIAL_TIMEOUT_MS: '2000',
      LOGGREGATOR_ROUTERS_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      LOGGREGATOR_ROUTERS_RECONNECT_INITIAL_MS: '100',
      LOGGREGATOR_ROUTERS_RECONNECT_MAX_MS: '1000',
      LOGGREGATOR_LOG_LEVEL: 'info',
      LOGGREGATOR_SHARED_SECRET: SHARED_SECRET,
    };
    for (const r of routers) startRouter(r);
    trafficController = start('traffic-controller', ['traffic-controller'], {
      ...clusterEnv,
      LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
      LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_TOKENS_FILE: tokensFile,
      LOGGREGATOR_DATA_DIR: join(dir, 'data-tc'),
    });
    await Promise.all(routers.map(r => r.child.waitFor(/"message":"router registered in etcd"/, 20_000)));
    const listening = JSON.parse((await trafficController.waitFor(/^\{.*"message":"traffic controller listening".*$/m, 20_000))[0]) as { http: string };
    tcUrl = listening.http;
    const url = new URL(tcUrl);
    tc = { address: url.hostname, port: Number(url.port), family: 'IPv4' };
    await waitFor(async () => (await tcRouters()) === 3, { what: 'the traffic controller to find 3 routers in etcd', timeoutMs: 10_000, intervalMs: 50 });

    // Two consumers of team-a (the admin's token in the header, the nozzle's as access_token), one of team-b.
    a1 = await within(TailClient.openPath(tc, '/firehose?subscription=team-a', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }), 10_000, 'team-a consumer 1');
    a2 = await within(TailClient.openPath(tc, `/firehose?subscription=team-a&access_token=${NOZZLE_TOKEN}`), 10_000, 'team-a consumer 2');
    b = await within(TailClient.openPath(tc, '/firehose?subscription=team-b', { headers: { Authorization: `Bearer ${TEAM_TOKEN}` } }), 10_000, 'team-b consumer');
    consumers = [a1, a2, b];
    // One stream per router for all three consumers, open before the first line is sent.
    await waitFor(async () => (await Promise.all(routers.map(r => metric(routerUrl(r), 'loggregator_router_firehose_clients')))).every(n => n === 1), {
      what: "the traffic controller's one firehose stream at each router",
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    for (const r of routers) sockets.set(r.id, new UdpSender({ address: '127.0.0.1', port: r.udpPort, family: 'IPv4' }));
    sender = new Sender(sockets);
  }, 60_000);

  afterAll(async () => {
    await sender?.stop();
    for (const c of consumers ?? []) c.terminate();
    for (const s of sockets.values()) await s.close();
    // SIGKILL the process group of each child still running, by its PID; then wait (bounded) for each to be gone.
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) c.kill();
    await Promise.all(children.map(c => within(c.exited, 5_000, `exit of PID ${c.process.pid}`).catch(() => undefined)));
    for (const w of watches) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    etcdClient?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it("gives team-a's two consumers every line between them (each app at one, in order) and team-b every line, from all 3 routers", async () => {
    expect(await metric(tcUrl, 'loggregator_tc_firehose_consumers', { subscription: 'team-a' })).toBe(2);
    expect(await metric(tcUrl, 'loggregator_tc_firehose_consumers', { subscription: 'team-b' })).toBe(1);
    // 25 lines of each of the 20 apps, each to the router its id hashes to: every router gets some.
    for (let round = 0; round < 25; round++) await sender.round();
    expect(new Set(sender.sent.map(s => s.router))).toEqual(new Set(IDS));
    await delivered(0, sender.sent.length, () => true, 'all 500');

    const [teamA, teamB] = [deliveries([a1, a2]), deliveries([b])];
    expect([...teamA.values()].every(n => n === 1)).toBe(true);
    expect([...teamB.values()].every(n => n === 1)).toBe(true);
    expect(teamA.size).toBe(500);
    expect(teamB.size).toBe(500);
    expectSplitAndOrdered();
    for (const c of consumers) expect({ notices: tcNotices(c), closed: c.isClosed, malformed: c.malformed }).toEqual({ notices: [], closed: false, malformed: [] });
  });

  /**
   * SIGKILLs the victim by its PID while the sender runs (lines going to all three routers), sends
   * two more rounds to all three (an agent that has not heard a refusal yet), then passes over it
   * as an agent does once the dead router refuses its datagrams. Returns where the kill fell in
   * sender.sent and the first line sent to the survivors only.
   */
  async function killVictimMidStream(): Promise<{ killIndex: number; switchIndex: number }> {
    const killIndex = sender.sent.length;
    process.kill(victim.child.process.pid!, 'SIGKILL');
    expect(await within(victim.child.exited, 5_000, `exit of router ${victim.id}`)).toBeNull();
    expect(victim.child.process.signalCode).toBe('SIGKILL');
    await waitFor(() => sender.sent.length >= killIndex + 2 * APP_IDS.length, { what: '2 more rounds of the sender', timeoutMs: 10_000, intervalMs: 5 });
    sender.targets = survivors.map(r => r.id);
    const switchIndex = sender.sent.length;
    lossWindows.push([verifiedUpTo, switchIndex]);
    expect(sender.sent.slice(killIndex, switchIndex).filter(s => s.router === victim.id).length).toBeGreaterThan(0);
    return { killIndex, switchIndex };
  }

  /** As an agent that sees the victim in etcd again: its apps go back to it. Then 10 rounds, and all of them must arrive. */
  async function sendToAllThreeAgain(): Promise<number> {
    const from = sender.sent.length;
    sender.targets = [...IDS];
    await waitFor(() => sender.sent.length >= from + 10 * APP_IDS.length, { what: '10 rounds of the sender to all three routers', timeoutMs: 10_000, intervalMs: 20 });
    const upTo = sender.sent.length;
    expect(sender.sent.slice(from, upTo).filter(s => s.router === victim.id).length).toBeGreaterThan(0);
    await delivered(0, upTo, s => s.router !== victim.id || !lossWindows.some(([f, t]) => s.index >= f && s.index < t), 'every line not in a loss window');
    verifiedUpTo = upTo;
    return from;
  }

  /** A consumer's notices, with the reason of each "lost the stream" left out. */
  function said(c: TailClient): string[] {
    return tcNotices(c).map(n => n.replace(/^(lost the stream from router \S+) \(.*\); reconnecting, lines it receives meanwhile are not shown$/, '$1'));
  }

  it('a router killed mid-stream costs only lines sent to it: every consumer stays connected and is told, every other line arrives once', async () => {
    expect(sender.sent.length).toBeGreaterThan(0);
    verifiedUpTo = sender.sent.length;
    // The victim: the router owning the most apps.
    const owned = (id: RouterId) => APP_IDS.filter(app => rendezvousPick(app, [...IDS], x => x) === id).length;
    victim = routers.find(r => r.id === [...IDS].sort((x, y) => owned(y) - owned(x))[0])!;
    survivors = routers.filter(r => r !== victim);

    // Lines flowing to all three routers, and reaching the consumers from each of them.
    const flowFrom = sender.sent.length;
    sender.start();
    await waitFor(
      () => {
        const got = deliveries([b]);
        return IDS.every(id => sender.sent.slice(flowFrom).filter(s => s.router === id && got.has(keyOf(s.app, s.seq))).length >= 3 * owned(id));
      },
      { what: 'lines of the running sender from every router at team-b', timeoutMs: 10_000, intervalMs: 20 },
    );
    const { killIndex, switchIndex } = await killVictimMidStream();

    // Every consumer is told: the stream from it is lost, then (its lease expired) that it left.
    const lost = new RegExp(`^lost the stream from router ${victim.id} \\(.*\\); reconnecting, lines it receives meanwhile are not shown$`);
    await toldEveryConsumer(lost, `"lost the stream from router ${victim.id}"`, 10_000);
    await waitFor(async () => !(victim.id in (await records())), { what: `the record of ${victim.id} to expire from etcd`, timeoutMs: 20_000, intervalMs: 50 });
    await toldEveryConsumer(new RegExp(`^router ${victim.id} left; `), `"router ${victim.id} left"`, 20_000);
    expect(await tcRouters()).toBe(2);
    for (const c of consumers) {
      expect(said(c)).toEqual([`lost the stream from router ${victim.id}`, `router ${victim.id} left; lines it had not forwarded yet are lost`]);
    }

    // The sender keeps going to the survivors: a few more rounds after "left", then every line
    // not sent to the victim must be there, exactly once per subscription.
    const afterLeft = sender.sent.length;
    await waitFor(() => sender.sent.length >= afterLeft + 10 * APP_IDS.length, { what: '10 more rounds of the sender', timeoutMs: 10_000, intervalMs: 20 });
    const upTo = sender.sent.length;
    await delivered(0, upTo, s => s.router !== victim.id, `sent to ${survivors.map(r => r.id).join(' and ')}`);
    expectAtMostTheVictimsLinesLost(upTo);
    // The victim's apps did reach the consumers again, through the survivors.
    expect(sender.sent.slice(switchIndex, upTo).filter(s => rendezvousPick(s.app, [...IDS], x => x) === victim.id).length).toBeGreaterThan(0);
    const toVictim = sender.sent.slice(0, switchIndex).filter(s => s.router === victim.id);
    const lostAtB = toVictim.filter(s => !deliveries([b]).has(keyOf(s.app, s.seq)));
    process.stdout.write(
      `firehoseCluster.spec: killed ${victim.id} after line ${killIndex}; of ${toVictim.length} lines sent to it, team-b lost ${lostAtB.length} (${switchIndex - killIndex} lines sent after the kill)\n`,
    );
    expectSplitAndOrdered();
    for (const c of consumers) expect({ closed: c.isClosed, malformed: c.malformed }).toEqual({ closed: false, malformed: [] });
  });

  it('restarted (its lease expired) on the same id and ports, the router is announced as joined to every consumer and its new lines arrive', async () => {
    expect(lossWindows.length).toBe(1);
    // With a longer lease this time, so that when it is killed again (next test) and restarted at
    // once it is back before its record expires (a router takes about 2 s to start here).
    startRouter(victim, LONG_LEASE);
    await victim.child.waitFor(/"message":"router registered in etcd"/, 20_000);
    await waitFor(async () => (await tcRouters()) === 3, { what: 'the traffic controller to find 3 routers again', timeoutMs: 10_000, intervalMs: 50 });
    await toldEveryConsumer(new RegExp(`^router ${victim.id} joined; `), `"router ${victim.id} joined"`, 15_000);
    expect(await metric(routerUrl(victim), 'loggregator_router_firehose_clients')).toBe(1);

    await sendToAllThreeAgain();
    expectAtMostTheVictimsLinesLost(verifiedUpTo);
    expectSplitAndOrdered();
    for (const c of consumers) {
      expect({ said: said(c), closed: c.isClosed }).toEqual({
        said: [`lost the stream from router ${victim.id}`, `router ${victim.id} left; lines it had not forwarded yet are lost`, `router ${victim.id} joined; its lines are included from now on`],
        closed: false,
      });
    }
  });

  it('killed mid-stream again and restarted at once (within its lease), the router is told lost, then back, to every consumer; its new lines arrive', async () => {
    expect(verifiedUpTo).toBeGreaterThan(lossWindows[0]?.[1] ?? Infinity);
    const before = new Map(consumers.map(c => [c, said(c).length]));
    await killVictimMidStream();
    startRouter(victim, LONG_LEASE);
    await victim.child.waitFor(/"message":"router registered in etcd"/, 20_000);
    // Back within its lease, it kept its place in the set and the traffic controller's reconnect
    // finds it ("resumed"); on a machine so slow that the lease expired first, it left and joined again.
    const back = (c: TailClient) => {
      const since = said(c).slice(before.get(c));
      return since.length >= 2 && since[0] === `lost the stream from router ${victim.id}` && /^(stream from router \S+ resumed|router \S+ joined; .*)$/.test(since[since.length - 1]);
    };
    await waitFor(() => consumers.every(back), { what: `"lost the stream from router ${victim.id}", then it back, at every consumer`, timeoutMs: 20_000, intervalMs: 50 });
    const sequences = consumers.map(c => said(c).slice(before.get(c)));
    for (const since of sequences) {
      expect([
        [`lost the stream from router ${victim.id}`, `stream from router ${victim.id} resumed`],
        [`lost the stream from router ${victim.id}`, `router ${victim.id} left; lines it had not forwarded yet are lost`, `router ${victim.id} joined; its lines are included from now on`],
      ]).toContainEqual(since);
    }
    process.stdout.write(`firehoseCluster.spec: back after the second kill: ${sequences[0][sequences[0].length - 1]}\n`);

    await sendToAllThreeAgain();
    await sender.stop();
    const end = sender.sent.length;
    await delivered(0, end, s => s.router !== victim.id || !lossWindows.some(([f, t]) => s.index >= f && s.index < t), 'every line not in a loss window');
    expectAtMostTheVictimsLinesLost(end);
    expectSplitAndOrdered();
    for (const c of consumers) {
      expect({ closed: c.isClosed, malformed: c.malformed }).toEqual({ closed: false, malformed: [] });
      // No other in-band line (no drop notice from a router or the traffic controller).
      expect(c.notices.length).toBe(said(c).length);
    }

    // The traffic controller's count of what it wrote matches what the consumers read; nothing dropped.
    await waitFor(
      async () =>
        (await metric(tcUrl, 'loggregator_tc_firehose_sent_total', { subscription: 'team-a' })) === a1.received.length + a2.received.length &&
        (await metric(tcUrl, 'loggregator_tc_firehose_sent_total', { subscription: 'team-b' })) === b.received.length,
      { what: "the traffic controller's firehose_sent_total to match what the consumers received", timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(await metric(tcUrl, 'loggregator_tc_firehose_dropped_total', { subscription: 'team-a' })).toBe(0);
    expect(await metric(tcUrl, 'loggregator_tc_firehose_dropped_total', { subscription: 'team-b' })).toBe(0);
    expect(await metric(tcUrl, 'loggregator_tc_dropped_total', { reason: 'firehose_slow_consumer' })).toBe(0);
    expect(await metric(tcUrl, 'loggregator_tc_firehose_consumers', { subscription: 'team-a' })).toBe(2);
    expect(await metric(tcUrl, 'loggregator_tc_firehose_consumers', { subscription: 'team-b' })).toBe(1);
    for (const r of routers) expect({ router: r.id, streams: await metric(routerUrl(r), 'loggregator_router_firehose_clients') }).toEqual({ router: r.id, streams: 1 });
    for (const c of [trafficController, ...routers.map(r => r.child)]) expect(c.process.exitCode).toBeNull();
  });
});
