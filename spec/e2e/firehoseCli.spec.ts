// End to end, the firehose's "done when": `loggregator firehose` on the embedded default prints
// every app's lines, finding the admin token by itself. All child processes, on free loopback
// ports, one config file (its own dataDir, so its own tokens file):
//
//   loggregator emit APP ──UDP──▶ npm run serve -- --config F ───┬────▶ firehose --config F          (a subscription of its own: every line)
//   (one per app)                 (router + traffic controller,  ├────▶ firehose --config F --json   (another: every line, as envelopes)
//                                  tokens file created by it)    ├────▶ firehose --subscription nozzles ┐ the apps split between
//                                                                └────▶ firehose --subscription nozzles ┘ them (disjoint, union = all)
//
// Refusals exit 2 and say why: a bad --subscription (before connecting), a token allowed only an
// app (403, added to the tokens file while serve runs), no token at all (401).
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, run } from '../support/childProcess';
import { fixedLoopbackPorts } from '../support/fixedPorts';
import { watchdog } from '../support/peerProcess';
import { TailClient } from '../support/tailClient';
import { waitFor, within } from '../support/waitFor';

// Several CLI processes, a few at a time; each step has its own bounded waits.
jest.setTimeout(120_000);

// The built CLI as npx would run it, without npm's own start-up (see serve.spec.ts).
const CLI = 'dist/src/cli/main.js';
const cli = (args: string[], opts: Parameters<typeof run>[2] = {}) => run('node', [CLI, ...args], { timeoutMs: 60_000, ...opts });

/** A line `firehose` prints: `2026-…Z my-app [APP/0] OUT text`. */
const PRINTED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) \[([A-Z]+)\/([^\]]+)\] (OUT|ERR) (.*)$/;
const APP_TOKEN = `e2e-one-app-${randomBytes(12).toString('hex')}`;
const NOZZLE_TOKEN = `e2e-nozzle-${randomBytes(12).toString('hex')}`;

interface Printed {
  readonly time: string;
  readonly app: string;
  readonly source: string;
  readonly instance: string;
  readonly stream: string;
  readonly message: string;
}

/** What a firehose child printed on stdout, complete lines; a line not in the format fails the test. */
function printed(child: Child): Printed[] {
  return stdoutLines(child).map(line => {
    const m = PRINTED.exec(line);
    if (!m) throw new Error(`not a firehose line: ${JSON.stringify(line)}`);
    return { time: m[1], app: m[2], source: m[3], instance: m[4], stream: m[5], message: m[6] };
  });
}

/** Complete stdout lines so far (a line still being written is left out). */
function stdoutLines(child: Child): string[] {
  const text = child.stdout;
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(line => line !== '');
}

describe('loggregator firehose against npm run serve, as child processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lgr-e2e-fh-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'config.json');
  const children: Child[] = [];
  const watches: ChildProcess[] = [];
  let server: Child;
  let http: string;
  let routerHttp: string;

  /** A firehose child (`node dist/src/cli/main.js firehose --config F …`), stopped by PID in afterAll if a test did not. */
  function firehose(args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const child = Child.start('node', [CLI, 'firehose', '--config', configFile, ...args], env);
    children.push(child);
    watched('firehose', child);
    return child;
  }

  /** A watchdog SIGKILLs the child if jest dies before afterAll. */
  function watched(name: string, child: Child): void {
    const watch = watchdog(name, child, undefined);
    if (watch) watches.push(watch);
  }

  async function stop(child: Child): Promise<void> {
    await within(child.stop('SIGTERM'), 10_000, `exit of PID ${child.process.pid}`).catch(() => child.kill());
  }

  /** The traffic controller's firehose consumers by subscription. */
  async function consumers(): Promise<Map<string, number>> {
    const text = await (await fetch(`${http}/metrics`)).text();
    return new Map([...text.matchAll(/^loggregator_tc_firehose_consumers\{subscription="([^"]+)"\} (\d+)$/gm)].map(m => [m[1], Number(m[2])]));
  }

  /** The firehose streams open at the router (the traffic controller's one, for all its consumers); NaN before the metric exists. */
  async function routerFirehoseStreams(): Promise<number> {
    const text = await (await fetch(`${routerHttp}/metrics`)).text();
    const found = /^loggregator_router_firehose_clients (\d+)$/m.exec(text);
    return found ? Number(found[1]) : NaN;
  }

  /** The firehose has no replay: a line the router ingests before the traffic controller's stream is open is in no consumer's output. */
  async function routerStreamOpen(): Promise<void> {
    await waitFor(async () => (await routerFirehoseStreams()) >= 1, { what: "the traffic controller's firehose stream open at the router", timeoutMs: 20_000, intervalMs: 100 });
  }

  /** Sends each app's lines with `loggregator emit APP` (stdin), the apps' emits side by side, a few at a time. */
  async function emitLines(lines: Map<string, string[]>): Promise<void> {
    const apps = [...lines.keys()];
    for (let i = 0; i < apps.length; i += 4) {
      const results = await Promise.all(apps.slice(i, i + 4).map(app => cli(['emit', app, '--config', configFile], { input: lines.get(app)!.join('\n') + '\n' })));
      for (const res of results) expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
    }
  }

  beforeAll(async () => {
    const [udpPort, routerHttpPort, tcPort] = await fixedLoopbackPorts(3);
    routerHttp = `http://127.0.0.1:${routerHttpPort}`;
    // Ports fixed in the file (not 0): `firehose --config F` finds the traffic controller there, and `emit --config F` the router.
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir,
        router: { udp: { port: udpPort }, http: { port: routerHttpPort } },
        routers: { static: [{ id: 'local', udp: `127.0.0.1:${udpPort}`, http: `127.0.0.1:${routerHttpPort}` }] },
        trafficController: { http: { port: tcPort } },
      }),
    );
    server = Child.start('npm', ['run', 'serve', '--', '--config', configFile]);
    watched('serve', server);
    const front = await server.waitFor(/^\{.*"message":"traffic controller listening.*$/m, 50_000);
    http = (JSON.parse(front[0]) as { http: string }).http;
    expect(http).toBe(`http://127.0.0.1:${tcPort}`);
  }, 60_000);

  afterAll(async () => {
    for (const c of children) await stop(c);
    if (server) {
      await within(server.stop('SIGTERM'), 15_000, 'exit of serve').catch(() => undefined);
      server.kill();
    }
    for (const w of watches) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("prints every app's lines with its app id, with the admin token it found itself; --json prints the envelopes; each run gets every line", async () => {
    // Two runs without --subscription: each an id of its own, so each gets every line.
    const plain = firehose([]);
    const json = firehose(['--json']);
    await waitFor(async () => [...(await consumers())].filter(([id, n]) => /^cli-[A-Za-z0-9_-]+$/.test(id) && n === 1).length === 2, {
      what: 'two firehose consumers, each with a cli-… subscription of its own',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    await routerStreamOpen();

    const apps = Array.from({ length: 6 }, (_, i) => `cli-app-${i + 1}`);
    const lines = new Map(apps.map(app => [app, [1, 2, 3].map(n => `${app} line ${n}`)]));
    await emitLines(lines);
    const stderrLine = await cli(['emit', apps[0], 'to stderr', '--stderr', '--source-type', 'RTR', '--instance', '3', '--config', configFile]);
    expect(stderrLine).toMatchObject({ code: 0, stderr: '' });
    const total = apps.length * 3 + 1;
    await waitFor(() => stdoutLines(plain).length >= total && stdoutLines(json).length >= total, {
      what: `${total} lines from each firehose run`,
      timeoutMs: 20_000,
      intervalMs: 50,
    });

    // Each line once, with its app id, source, instance and stream; each app's lines in the order sent.
    const got = printed(plain);
    expect(got.map(p => [p.app, p.source, p.instance, p.stream, p.message]).sort()).toEqual(
      [...apps.flatMap(app => lines.get(app)!.map(message => [app, 'APP', '0', 'OUT', message])), [apps[0], 'RTR', '3', 'ERR', 'to stderr']].sort(),
    );
    for (const app of apps) {
      expect(got.filter(p => p.app === app).map(p => p.message)).toEqual([...lines.get(app)!, ...(app === apps[0] ? ['to stderr'] : [])]);
    }

    // --json: one envelope per line, the same lines; the time printed above is the envelope's timestamp.
    const envelopes = stdoutLines(json).map(line => JSON.parse(line) as Record<string, string>);
    expect(envelopes.length).toBe(total);
    for (const e of envelopes) {
      expect(Object.keys(e).sort()).toEqual(['appId', 'message', 'messageType', 'sourceInstance', 'sourceType', 'timestamp']);
      expect(e.timestamp).toMatch(/^\d{19}$/);
      const same = got.find(p => p.app === e.appId && p.message === e.message);
      expect({ message: e.message, printed: same && [same.time, same.source, same.instance, same.stream] }).toEqual({
        message: e.message,
        printed: [new Date(Number(BigInt(e.timestamp) / 1_000_000n)).toISOString(), e.sourceType, e.sourceInstance, e.messageType],
      });
    }
    expect(envelopes.find(e => e.message === 'to stderr')).toMatchObject({ appId: apps[0], sourceType: 'RTR', sourceInstance: '3', messageType: 'ERR' });

    // Nothing on stderr, and still running (a live stream ends only when stopped).
    for (const c of [plain, json]) expect({ stderr: c.stderr, exitCode: c.process.exitCode }).toEqual({ stderr: '', exitCode: null });
    await Promise.all([plain, json].map(stop));
  });

  it('shares a --subscription between two runs: each app at one of them, in order; together every line', async () => {
    // One finds the admin token itself; the other has a token allowed the firehose only, from $LOGGREGATOR_TOKEN.
    const tokensFile = join(dataDir, 'tokens.json');
    const file = JSON.parse(readFileSync(tokensFile, 'utf8')) as { tokens: Record<string, unknown> };
    writeTokens(tokensFile, { ...file.tokens, [NOZZLE_TOKEN]: 'firehose' });
    const tc = new URL(http);
    await waitFor(
      async () => {
        try {
          (await TailClient.openPath({ address: tc.hostname, port: Number(tc.port), family: 'IPv4' }, `/firehose?subscription=probe&access_token=${NOZZLE_TOKEN}`)).terminate();
          return true;
        } catch {
          return false; // 401 until the file is read again
        }
      },
      { what: 'the nozzle token to be let in (the tokens file is watched)', timeoutMs: 20_000, intervalMs: 100 },
    );
    // The probe (the last consumer) gone, its stream goes too: the one open below is the runs'.
    await waitFor(async () => (await routerFirehoseStreams()) === 0, { what: "the probe's firehose stream gone from the router", timeoutMs: 20_000, intervalMs: 100 });

    const first = firehose(['--subscription', 'nozzles']);
    const second = firehose(['--subscription', 'nozzles'], { LOGGREGATOR_TOKEN: NOZZLE_TOKEN });
    await waitFor(async () => (await consumers()).get('nozzles') === 2, { what: 'two consumers of nozzles', timeoutMs: 20_000, intervalMs: 100 });
    await routerStreamOpen();

    const apps = Array.from({ length: 12 }, (_, i) => `shared-app-${String(i + 1).padStart(2, '0')}`);
    const lines = new Map(apps.map(app => [app, [1, 2, 3].map(n => `${app} line ${n}`)]));
    await emitLines(lines);
    await waitFor(() => stdoutLines(first).length + stdoutLines(second).length >= apps.length * 3, {
      what: `${apps.length * 3} lines between the two runs`,
      timeoutMs: 20_000,
      intervalMs: 50,
    });

    const [atFirst, atSecond] = [printed(first), printed(second)];
    const appsAt = (got: Printed[]) => new Set(got.map(p => p.app));
    expect([...appsAt(atFirst)].filter(app => appsAt(atSecond).has(app))).toEqual([]);
    expect([...appsAt(atFirst), ...appsAt(atSecond)].sort()).toEqual(apps);
    expect(appsAt(atFirst).size).toBeGreaterThan(0);
    expect(appsAt(atSecond).size).toBeGreaterThan(0);
    for (const got of [atFirst, atSecond]) {
      for (const app of appsAt(got)) expect({ app, messages: got.filter(p => p.app === app).map(p => p.message) }).toEqual({ app, messages: lines.get(app) });
    }
    for (const c of [first, second]) expect({ stderr: c.stderr, exitCode: c.process.exitCode }).toEqual({ stderr: '', exitCode: null });
    await Promise.all([first, second].map(stop));
  });

  it('exits 2 saying why: an invalid --subscription, a token allowed only an app (403), no token (401)', async () => {
    const tokensFile = join(dataDir, 'tokens.json');
    const file = JSON.parse(readFileSync(tokensFile, 'utf8')) as { tokens: Record<string, unknown> };
    writeTokens(tokensFile, { ...file.tokens, [APP_TOKEN]: ['cli-app-1'] });
    // The token is known once it reads its app.
    await waitFor(async () => (await fetch(`${http}/recent?app=cli-app-1`, { headers: { Authorization: `Bearer ${APP_TOKEN}` } })).status === 200, {
      what: 'the app token to be known (the tokens file is watched)',
      timeoutMs: 20_000,
      intervalMs: 100,
    });

    const [spaces, tooLong, appOnly, none] = await Promise.all([
      cli(['firehose', '--subscription', 'not valid!', '--config', configFile]),
      cli(['firehose', '--subscription', 'x'.repeat(129), '--config', configFile]),
      cli(['firehose', '--config', configFile, '--token', APP_TOKEN]),
      // Another machine: no tokens file in its data dir, so no token to send.
      cli(['firehose', '--config', configFile], { env: { LOGGREGATOR_DATA_DIR: join(dir, 'elsewhere') } }),
    ]);
    expect(spaces).toEqual({ code: 2, stdout: '', stderr: 'loggregator: invalid subscription id "not valid!": 1-128 characters of A-Z a-z 0-9 . _ : -\n' });
    expect(tooLong).toMatchObject({ code: 2, stdout: '' });
    expect(tooLong.stderr).toMatch(/^loggregator: invalid subscription id "x{129}": 1-128 characters/);
    expect(appOnly).toMatchObject({ code: 2, stdout: '' });
    expect(appOnly.stderr).toMatch(/^not allowed to read the firehose \(403 token may not read the firehose/);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/not authenticated \(401 .*\): no token was sent: give --token TOKEN or set LOGGREGATOR_TOKEN/);
  });
});

/** Replaces the tokens file whole (a rename), so its watcher never reads it half-written. */
function writeTokens(path: string, tokens: Record<string, unknown>): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ tokens }, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, path);
}
