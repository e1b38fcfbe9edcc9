// End to end, a cluster of real processes around a real etcd (started by the test harness):
//
//   simulate-dea ──unix sockets──▶ agent ──UDP──▶ router r1, r2, r3 ◀── traffic controller ◀── tail / recent clients
//                                   (routers from etcd)   (register in etcd, 2 s lease)  (routers from etcd, tokens file)
//
// Every app's lines reach its tail and /recent through the traffic controller, each app from the
// one router it hashes to. The router owning the most apps is killed by PID (SIGKILL): the apps of
// the other routers never miss a line, the killed router's tail clients stay connected, are told,
// and get their app's lines again through another router (once the agent passes over the refusing
// router, or once its lease expires). Restarted on the same id and ports it registers again, its
// tail clients are told it joined and its apps come back to it. Tokens: one for every app, one for
// a single app, which can read that app only. Every process shares sharedSecret, as in production:
// datagrams are signed, and the routers' own API answers only the routers' API token (the TC's).
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { rendezvousPick } from '../../streams/rendezvousHash';
import { routerApiToken } from '../../src/auth/routerApiToken';
import { Envelope } from '../../src/envelope/envelope';
import { Child, run } from '../support/childProcess';
import { EtcdServer, startEtcd } from '../support/etcdServer';
import { fixedLoopbackPorts } from '../support/fixedPorts';
import { watchdog } from '../support/peerProcess';
import { TailClient, refusedTail } from '../support/tailClient';
import { waitFor, within } from '../support/waitFor';

const CLI = 'dist/src/cli/main.js';
const APPS = 6;
const INSTANCES = 2;
/** stdout lines per second per instance (stderr: a tenth). */
const RATE = 20;
const IDS = ['r1', 'r2', 'r3'] as const;
const PREFIX = '/loggregator/routers/';
const LEASE_TTL_SECONDS = 2;
const ADMIN_TOKEN = `e2e-admin-${randomBytes(12).toString('hex')}`;
const APP_TOKEN = `e2e-one-app-${randomBytes(12).toString('hex')}`;
/** The app APP_TOKEN may read. */
const ONE_APP = 'sim-app-1';
const SHARED_SECRET = `e2e-cluster-secret-${randomBytes(12).toString('hex')}`;
const ANOTHER_APP = 'sim-app-2';
const APP_IDS = Array.from({ length: APPS }, (_, i) => `sim-app-${i + 1}`);
/** A simulator line: `sim-app-3/1 out 17`. */
const SIM_LINE = /^(sim-app-\d+)\/(\d+) (out|err) (\d+)$/;
/** A line `logs` prints: `2026-…Z [APP/0] OUT sim-app-1/0 out 5`. */
const PRINTED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[([A-Z]+)\/([^\]]+)\] (OUT|ERR) (.*)$/;

// The whole file: ~30 s on a 2-core machine; each step has its own bounded waits.
jest.setTimeout(60_000);

interface RouterProcess {
  readonly id: (typeof IDS)[number];
  readonly udpPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  child: Child;
}

interface Sim {
  readonly app: string;
  readonly instance: number;
  readonly stream: 'out' | 'err';
  readonly seq: number;
}

function simLine(e: Envelope): Sim | undefined {
  const m = SIM_LINE.exec(e.message);
  return m ? { app: m[1], instance: Number(m[2]), stream: m[3] as 'out' | 'err', seq: Number(m[4]) } : undefined;
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

describe('a cluster of 3 routers, traffic controller, agent and simulator around a real etcd', () => {
  const children: Child[] = [];
  const watches: ChildProcess[] = [];
  const tails = new Map<string, TailClient>();
  const extraTails: TailClient[] = [];
  let dir: string;
  let etcd: EtcdServer;
  let etcdClient: Etcd3 | undefined;
  let routers: RouterProcess[];
  let trafficController: Child;
  let tc: AddressInfo;
  let tcUrl: string;
  let agent: Child;
  let simulator: Child;
  let clusterEnv: NodeJS.ProcessEnv;

  // Filled in by the tests, in order: who owns what, and where each tail stood at each step.
  let owner: Map<string, string>;
  let victim: RouterProcess;
  let victimApps: string[];
  let otherApps: string[];
  const killMark = new Map<string, number>();
  const rejoinMark = new Map<string, number>();

  /** A `node dist/src/cli/main.js …` child, in its own process group, with a watchdog that SIGKILLs it if jest dies first. */
  function start(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
    const child = Child.start('node', [CLI, ...args], env);
    children.push(child);
    const watch = watchdog(name, child, undefined);
    if (watch) watches.push(watch);
    return child;
  }

  function startRouter(r: RouterProcess): Child {
    r.child = start(`router-${r.id}`, ['router'], {
      ...clusterEnv,
      LOGGREGATOR_ROUTER_ID: r.id,
      LOGGREGATOR_ROUTER_UDP_PORT: String(r.udpPort),
      LOGGREGATOR_ROUTER_HTTP_PORT: String(r.httpPort),
      LOGGREGATOR_DATA_DIR: r.dataDir,
    });
    return r.child;
  }

  const routerById = (id: string) => routers.find(r => r.id === id)!;

  /** The router records in etcd: id → value. */
  async function records(): Promise<Record<string, string>> {
    const all = await etcdClient!.getAll().prefix(PREFIX).strings();
    return Object.fromEntries(Object.entries(all).map(([key, value]) => [key.slice(PREFIX.length), value]));
  }

  async function tcHealth(): Promise<{ status: string; routers: number; routersKnown: boolean }> {
    const res = await fetch(`${tcUrl}/health`);
    return (await res.json()) as { status: string; routers: number; routersKnown: boolean };
  }

  async function tcRecent(app: string, token?: string): Promise<{ status: number; headers: Headers; envelopes: Envelope[]; body: string }> {
    const res = await fetch(`${tcUrl}/recent?app=${app}`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
    const body = await res.text();
    const envelopes = res.status === 200 && body !== '' ? body.trimEnd().split('\n').map(l => JSON.parse(l) as Envelope) : [];
    return { status: res.status, headers: res.headers, envelopes, body };
  }

  /** A router's own /recent for the app (with the routers' API token); [] when it cannot be reached. */
  async function routerRecent(r: RouterProcess, app: string): Promise<Envelope[]> {
    try {
      const res = await fetch(`http://127.0.0.1:${r.httpPort}/recent?app=${app}`, { headers: { Authorization: `Bearer ${routerApiToken(SHARED_SECRET)}` } });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`router ${r.id} /recent?app=${app}: ${res.status} ${body}`);
      return body === '' ? [] : body.trimEnd().split('\n').map(l => JSON.parse(l) as Envelope);
    } catch (err) {
      if ((err as Error).message.startsWith('router ')) throw err;
      return [];
    }
  }

  async function routerTailClients(r: RouterProcess): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${r.httpPort}/metrics`)).text();
    return Number(/^loggregator_tail_clients (\d+)$/m.exec(text)?.[1] ?? NaN);
  }

  /** The traffic controller's own in-band lines a tail got from index `from` on. */
  function tcNotices(client: TailClient, from = 0): { index: number; message: string }[] {
    return client.received
      .map((e, index) => ({ e, index }))
      .filter(({ e, index }) => index >= from && e.sourceType === 'LGR' && e.sourceInstance === 'traffic-controller')
      .map(({ e, index }) => ({ index, message: e.message }));
  }

  /** The index of the first notice at or after `from` matching `pattern`, or -1. */
  function noticeAt(client: TailClient, pattern: RegExp, from: number): number {
    return tcNotices(client, from).find(n => pattern.test(n.message))?.index ?? -1;
  }

  /** The simulator lines (APP, from the simulator's format) a tail got from index `from` on. */
  function simLines(client: TailClient, from = 0): Sim[] {
    return client.received
      .slice(from)
      .filter(e => e.sourceType === 'APP')
      .map(simLine)
      .filter((s): s is Sim => s !== undefined);
  }

  beforeAll(async () => {
    const began = Date.now();
    dir = mkdtempSync(join(tmpdir(), 'lgr-cl-'));
    etcd = await startEtcd();
    etcdClient = new Etcd3({ hosts: etcd.endpoint });
    const ports = await fixedLoopbackPorts(IDS.length * 2);
    routers = IDS.map((id, i) => {
      const dataDir = join(dir, `data-${id}`);
      mkdirSync(dataDir);
      return { id, udpPort: ports[2 * i], httpPort: ports[2 * i + 1], dataDir, child: undefined as unknown as Child };
    });
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ tokens: { [ADMIN_TOKEN]: '*', [APP_TOKEN]: [ONE_APP] } }), { mode: 0o600 });
    clusterEnv = {
      LOGGREGATOR_ROUTERS_DISCOVERY: 'etcd',
      LOGGREGATOR_ETCD_ENDPOINTS: etcd.endpoint,
      LOGGREGATOR_ETCD_DIAL_TIMEOUT_MS: '2000',
      LOGGREGATOR_ROUTERS_LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      LOGGREGATOR_ROUTERS_RECONNECT_INITIAL_MS: '100',
      LOGGREGATOR_ROUTERS_RECONNECT_MAX_MS: '1000',
      LOGGREGATOR_LOG_LEVEL: 'info',
      // As in production: datagrams signed, the routers' API closed to all but the traffic controller.
      LOGGREGATOR_SHARED_SECRET: SHARED_SECRET,
    };

    // Everything but the agent starts at once; the agent reads line 1 only once the tails are in place.
    const depot = join(dir, 'd');
    simulator = start('simulate-dea', ['simulate-dea', depot, '--apps', String(APPS), '--instances', String(INSTANCES), '--rate', String(RATE)], {});
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
    await waitFor(async () => (await tcHealth()).routers === 3, { what: 'the traffic controller to find 3 routers in etcd', timeoutMs: 10_000, intervalMs: 50 });
    await simulator.waitFor(/"event":"ready"/, 20_000);

    // One tail per app through the traffic controller, each subscribed on every router before the
    // agent reads line 1, so that each instance's stream is seen from its first line.
    for (const app of APP_IDS) {
      tails.set(app, await within(TailClient.open(tc, `app=${app}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }), 10_000, `tail of ${app}`));
    }
    await waitFor(async () => (await Promise.all(routers.map(routerTailClients))).every(n => n === APPS), {
      what: `each router to count ${APPS} tail clients (one per traffic controller session)`,
      timeoutMs: 10_000,
      intervalMs: 50,
    });

    agent = start('agent', ['agent', '--instances', join(depot, 'instances.json')], {
      ...clusterEnv,
      LOGGREGATOR_AGENT_HTTP_PORT: '0',
      LOGGREGATOR_AGENT_SETTLE_MS: '50',
    });
    await agent.waitFor(/"message":"agent watching"/, 20_000);
    process.stdout.write(`cluster.spec: cluster up in ${elapsed(began)}\n`);
  }, 60_000);

  afterAll(async () => {
    for (const t of [...tails.values(), ...extraTails]) t.terminate();
    // SIGKILL the process group of each child still running, by its PID; then wait (bounded) for each to be gone.
    for (const c of children) if (c.process.exitCode === null && c.process.signalCode === null) void c.kill();
    await Promise.all(children.map(c => within(c.exited, 5_000, `exit of PID ${c.process.pid}`).catch(() => undefined)));
    for (const w of watches) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    etcdClient?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it('registers r1, r2 and r3 in etcd at their fixed addresses; the traffic controller and the agent follow them', async () => {
    const found = await records();
    expect(Object.keys(found).sort()).toEqual([...IDS]);
    for (const r of routers) expect(JSON.parse(found[r.id])).toEqual({ udp: `127.0.0.1:${r.udpPort}`, http: `127.0.0.1:${r.httpPort}` });
    expect(await tcHealth()).toEqual({ status: 'ok', routers: 3, routersKnown: true });
    const expected = routers.map(r => `${r.id}=127.0.0.1:${r.udpPort}`);
    await waitFor(() => agent.stderr.includes(`"routers":${JSON.stringify(expected)}`), { what: 'the agent to log the 3 routers', timeoutMs: 5_000 });
  });

  it("delivers every app's lines through the traffic controller, tail and recent, each app from the one router it hashes to", async () => {
    // Every instance's stdout and stderr reaches its app's tail.
    await waitFor(
      () =>
        APP_IDS.every(app => {
          const got = simLines(tails.get(app)!);
          return Array.from({ length: INSTANCES }, (_, i) => i).every(
            i => got.filter(s => s.instance === i && s.stream === 'out').length >= 10 && got.some(s => s.instance === i && s.stream === 'err'),
          );
        }),
      { what: '10 stdout lines and a stderr line of every instance at every tail', timeoutMs: 15_000, intervalMs: 100 },
    );
    for (const app of APP_IDS) {
      const client = tails.get(app)!;
      expect(client.received.filter(e => e.appId !== app)).toEqual([]);
      expect(simLines(client).filter(s => s.app !== app)).toEqual([]);
    }

    // Each app's lines are on exactly one router: the one rendezvous hashing of the ids picks.
    owner = new Map();
    for (const app of APP_IDS) {
      const holding = [];
      for (const r of routers) if ((await routerRecent(r, app)).length > 0) holding.push(r.id);
      expect({ app, holding }).toEqual({ app, holding: [rendezvousPick(app, [...IDS], id => id)] });
      owner.set(app, holding[0]);
    }
    const owning = new Set(owner.values());
    expect(owning.size).toBeGreaterThanOrEqual(2);
    // The victim: the router owning the most apps; the others own the rest.
    const count = (id: string) => APP_IDS.filter(app => owner.get(app) === id).length;
    victim = routerById([...IDS].sort((a, b) => count(b) - count(a))[0]);
    victimApps = APP_IDS.filter(app => owner.get(app) === victim.id);
    otherApps = APP_IDS.filter(app => owner.get(app) !== victim.id);
    expect(victimApps.length).toBeGreaterThanOrEqual(1);
    expect(otherApps.length).toBeGreaterThanOrEqual(1);
    process.stdout.write(`cluster.spec: owners ${JSON.stringify(Object.fromEntries(owner))}; victim ${victim.id}\n`);

    // /recent through the traffic controller: every router asked, each app's lines only, merged by time.
    for (const app of APP_IDS) {
      const answer = await tcRecent(app, ADMIN_TOKEN);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-routers-asked')).toBe('3');
      expect(answer.headers.get('x-skipped-routers')).toBeNull();
      expect(answer.envelopes.length).toBeGreaterThan(0);
      expect(answer.envelopes.filter(e => e.appId !== app || simLine(e)?.app !== app)).toEqual([]);
      const instances = new Set(answer.envelopes.map(e => e.sourceInstance));
      expect([...instances].sort()).toEqual(Array.from({ length: INSTANCES }, (_, i) => String(i)));
      const times = answer.envelopes.map(e => BigInt(e.timestamp));
      expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    }
  });

  it("kill -9 of a router: other apps untouched; its apps' tails stay connected, are told, and get lines again via another router", async () => {
    expect(victim).toBeDefined();
    for (const [app, client] of tails) killMark.set(app, client.received.length);
    const killedAt = Date.now();
    process.kill(victim.child.process.pid!, 'SIGKILL');
    expect(await within(victim.child.exited, 5_000, `exit of router ${victim.id}`)).toBeNull();
    expect(victim.child.process.signalCode).toBe('SIGKILL');

    // Until its lease expires the traffic controller still asks it for /recent, and says it is missing.
    const during = await tcRecent(victimApps[0], ADMIN_TOKEN);
    expect(during.status).toBe(200);
    if (during.headers.get('x-routers-asked') === '3') {
      expect(during.headers.get('x-skipped-routers')).toMatch(new RegExp(`^${victim.id} \\(unreachable\\)$`));
    } else {
      // Only if this machine was so slow that the lease expired already.
      expect(during.headers.get('x-routers-asked')).toBe('2');
      expect(during.headers.get('x-skipped-routers')).toBeNull();
    }

    // Every tail of the victim's apps is told the stream from it was lost, and gets its app's lines again.
    const lost = new RegExp(`^lost the stream from router ${victim.id} \\(`);
    const resumed = new Map<string, number>();
    await waitFor(
      () => {
        for (const app of victimApps) {
          const client = tails.get(app)!;
          const at = noticeAt(client, lost, killMark.get(app)!);
          if (at >= 0 && !resumed.has(app) && simLines(client, at + 1).some(s => s.stream === 'out')) resumed.set(app, Date.now() - killedAt);
        }
        return resumed.size === victimApps.length;
      },
      { what: `lost notices and new lines at the tails of ${victimApps.join(', ')}`, timeoutMs: 15_000, intervalMs: 50 },
    );
    process.stdout.write(`cluster.spec: lines resumed after the kill in ${JSON.stringify(Object.fromEntries(resumed))} ms\n`);

    // The lease expires: the record goes, the traffic controller drops the router, its tails are told it left.
    await waitFor(async () => !(victim.id in (await records())), { what: `the record of ${victim.id} to expire from etcd`, timeoutMs: 10_000, intervalMs: 50 });
    const expiredIn = elapsed(killedAt);
    await waitFor(async () => (await tcHealth()).routers === 2, { what: 'the traffic controller to drop to 2 routers', timeoutMs: 5_000, intervalMs: 50 });
    const left = new RegExp(`^router ${victim.id} left; `);
    await waitFor(() => APP_IDS.every(app => noticeAt(tails.get(app)!, left, killMark.get(app)!) >= 0), {
      what: `"router ${victim.id} left" at every tail`,
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    for (const app of victimApps) {
      const client = tails.get(app)!;
      expect(noticeAt(client, lost, killMark.get(app)!)).toBeLessThan(noticeAt(client, left, killMark.get(app)!));
    }
    process.stdout.write(`cluster.spec: ${victim.id}'s record expired ${expiredIn} after the kill\n`);

    // The victim's apps now land on the survivor rendezvous hashing picks among the two, not the other.
    const survivors = routers.filter(r => r !== victim);
    await waitFor(
      async () => {
        for (const app of victimApps) {
          const to = routerById(rendezvousPick(app, survivors.map(r => r.id), id => id)!);
          if ((await routerRecent(to, app)).length === 0) return false;
        }
        return true;
      },
      { what: `the lines of ${victimApps.join(', ')} at the surviving routers`, timeoutMs: 10_000, intervalMs: 100 },
    );
    for (const app of victimApps) {
      const to = rendezvousPick(app, survivors.map(r => r.id), id => id)!;
      for (const r of survivors.filter(s => s.id !== to)) expect({ app, router: r.id, lines: (await routerRecent(r, app)).length }).toEqual({ app, router: r.id, lines: 0 });
    }
    // The other apps stayed where they were, and their tails kept getting lines.
    for (const app of otherApps) {
      for (const r of survivors.filter(s => s.id !== owner.get(app))) expect({ app, router: r.id, lines: (await routerRecent(r, app)).length }).toEqual({ app, router: r.id, lines: 0 });
    }
    await waitFor(() => otherApps.every(app => simLines(tails.get(app)!, killMark.get(app)!).length >= 20), {
      what: 'new lines at the tails of the apps on the other routers',
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    for (const client of tails.values()) expect(client.isClosed).toBe(false);
  });

  it('restarted on the same id and ports, the router registers again, tails are told it joined, and its apps come back to it', async () => {
    expect(victimApps).toBeDefined();
    for (const [app, client] of tails) rejoinMark.set(app, client.received.length);
    const restartedAt = Date.now();
    startRouter(victim);
    await victim.child.waitFor(/"message":"router registered in etcd"/, 20_000);
    await waitFor(async () => (await tcHealth()).routers === 3, { what: 'the traffic controller to find 3 routers again', timeoutMs: 10_000, intervalMs: 50 });
    expect(JSON.parse((await records())[victim.id])).toEqual({ udp: `127.0.0.1:${victim.udpPort}`, http: `127.0.0.1:${victim.httpPort}` });

    const joined = new RegExp(`^router ${victim.id} joined; `);
    await waitFor(() => APP_IDS.every(app => noticeAt(tails.get(app)!, joined, rejoinMark.get(app)!) >= 0), {
      what: `"router ${victim.id} joined" at every tail`,
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    // Its apps' lines go to it again (its buffer started empty: what it holds is new), and reach their tails.
    await waitFor(async () => (await Promise.all(victimApps.map(app => routerRecent(victim, app)))).every(lines => lines.length > 0), {
      what: `new lines of ${victimApps.join(', ')} at the restarted ${victim.id}`,
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await waitFor(
      () =>
        victimApps.every(app => {
          const client = tails.get(app)!;
          return simLines(client, noticeAt(client, joined, rejoinMark.get(app)!) + 1).length >= 5;
        }),
      { what: `lines of ${victimApps.join(', ')} at their tails after the rejoin`, timeoutMs: 10_000, intervalMs: 50 },
    );
    // The apps of the other routers did not move to it.
    for (const app of otherApps) expect({ app, lines: (await routerRecent(victim, app)).length }).toEqual({ app, lines: 0 });
    process.stdout.write(`cluster.spec: ${victim.id} back and serving its apps ${elapsed(restartedAt)} after the restart\n`);
  });

  it('keeps each app to the tokens allowed to read it, through the traffic controller', async () => {
    // The single-app token reads its app: /recent (header), tail (access_token query), `logs --recent`.
    const mine = await tcRecent(ONE_APP, APP_TOKEN);
    expect(mine.status).toBe(200);
    expect(mine.envelopes.length).toBeGreaterThan(0);
    expect(mine.envelopes.filter(e => e.appId !== ONE_APP)).toEqual([]);
    const tail = await within(TailClient.open(tc, `app=${ONE_APP}&access_token=${APP_TOKEN}`), 10_000, 'tail with the single-app token');
    extraTails.push(tail);
    await waitFor(() => simLines(tail).length >= 5, { what: `lines of ${ONE_APP} at the single-app token's tail`, timeoutMs: 10_000, intervalMs: 50 });
    expect(tail.received.filter(e => e.appId !== ONE_APP)).toEqual([]);

    // … and no other app.
    const theirs = await tcRecent(ANOTHER_APP, APP_TOKEN);
    expect(theirs.status).toBe(403);
    expect(theirs.body).not.toContain(ANOTHER_APP + '/');
    expect((await refusedTail(tc, `/tail?app=${ANOTHER_APP}&access_token=${APP_TOKEN}`)).status).toBe(403);

    // No token, or one the file does not hold: 401, with the challenge.
    const none = await tcRecent(ONE_APP);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm="loggregator"/);
    expect((await tcRecent(ONE_APP, 'not-a-known-token')).status).toBe(401);
    expect((await refusedTail(tc, `/tail?app=${ONE_APP}`)).status).toBe(401);

    // The CLI: the app's lines, nothing of any other app.
    const [logs, refused] = await Promise.all(
      [ONE_APP, ANOTHER_APP].map(app => run('node', [CLI, 'logs', app, '--recent', '--target', tcUrl, '--token', APP_TOKEN], { timeoutMs: 20_000 })),
    );
    expect({ code: logs.code, stderr: logs.stderr }).toEqual({ code: 0, stderr: '' });
    const printed = logs.stdout.trimEnd().split('\n');
    expect(printed.length).toBeGreaterThan(0);
    for (const line of printed) {
      const m = PRINTED.exec(line);
      expect({ line, ok: m !== null && m[1] === 'APP' && SIM_LINE.exec(m[4])?.[1] === ONE_APP }).toEqual({ line, ok: true });
    }
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(new RegExp(`not allowed to read app ${ANOTHER_APP} \\(403 `));
  });

  it('never missed, repeated or reordered a line of the apps on the other routers; every tail stayed connected with its own app only', async () => {
    expect(otherApps).toBeDefined();
    // Lines kept coming after the rejoin, so the runs checked below span the kill and the restart.
    await waitFor(() => otherApps.every(app => simLines(tails.get(app)!, rejoinMark.get(app)!).length >= 20), {
      what: 'lines after the rejoin at the tails of the apps on the other routers',
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    for (const app of otherApps) {
      const got = simLines(tails.get(app)!);
      for (let instance = 0; instance < INSTANCES; instance++) {
        for (const stream of ['out', 'err'] as const) {
          const numbers = got.filter(s => s.instance === instance && s.stream === stream).map(s => s.seq);
          expect(numbers.length).toBeGreaterThan(stream === 'out' ? 40 : 3);
          // 1, 2, 3, …: the agent read each socket from its first line, and nothing was lost on the way.
          expect({ app, instance, stream, numbers }).toEqual({ app, instance, stream, numbers: numbers.map((_, k) => k + 1) });
        }
      }
    }
    // The moved apps may have lost lines around the kill and the restart, but none came twice.
    for (const app of victimApps) {
      const got = simLines(tails.get(app)!);
      for (let instance = 0; instance < INSTANCES; instance++) {
        const numbers = got.filter(s => s.instance === instance && s.stream === 'out').map(s => s.seq);
        expect({ app, instance, repeated: numbers.length - new Set(numbers).size }).toEqual({ app, instance, repeated: 0 });
      }
    }
    for (const [app, client] of tails) {
      expect({ app, closed: client.isClosed, malformed: client.malformed }).toEqual({ app, closed: false, malformed: [] });
      expect(client.received.filter(e => e.appId !== app)).toEqual([]);
      expect(simLines(client).filter(s => s.app !== app)).toEqual([]);
    }
    // The components themselves are still up (the victim's first incarnation aside).
    for (const c of [trafficController, agent, simulator, ...routers.map(r => r.child)]) expect(c.process.exitCode).toBeNull();
  });
});
