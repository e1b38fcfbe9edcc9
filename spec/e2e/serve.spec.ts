// End to end, as the README's walkthrough: `npm run serve` (a router and the traffic controller
// in front of it, with auth on), then `npx loggregator emit` and `npx loggregator logs` against
// it, the logs command finding the admin token that serve created on its own, then SIGTERM.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, PROJECT_ROOT, run } from '../support/childProcess';

jest.setTimeout(120_000); // several CLI processes one after another, each bounded by run() at 60 s

// `npx loggregator` itself is checked once (the first test). The others run the built CLI as npx
// would, without npm's own start-up: 2-3 s of CPU per call, which on a loaded 2-core CI machine
// took a call past run()'s timeout (code null) and starved the other worker's child processes.
const CLI = 'dist/src/cli/main.js';
const cli = (args: string[], opts: Parameters<typeof run>[2] = {}) => run('node', [CLI, ...args], { timeoutMs: 60_000, ...opts });

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[([A-Z]+)\/([^\]]+)\] (OUT|ERR) (.*)$/;

describe('loggregator serve, emit and logs as child processes', () => {
  let server: Child;
  let udp: string;
  let http: string;
  // What `logs` on the same machine sees: the same data directory, so the same tokens file.
  const dataDir = mkdtempSync(join(tmpdir(), 'lgr-e2e-data-'));
  const sameMachine = { env: { LOGGREGATOR_DATA_DIR: dataDir } };

  beforeAll(async () => {
    server = Child.start('npm', ['run', 'serve'], {
      LOGGREGATOR_ROUTER_UDP_PORT: '0',
      LOGGREGATOR_ROUTER_HTTP_PORT: '0',
      LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
      LOGGREGATOR_DATA_DIR: dataDir,
    });
    const listening = await server.waitFor(/^\{.*"message":"router listening".*$/m, 50_000);
    udp = (JSON.parse(listening[0]) as { udp: string }).udp;
    const front = await server.waitFor(/^\{.*"message":"traffic controller listening.*$/m);
    http = (JSON.parse(front[0]) as { http: string }).http;
  });

  afterAll(() => server.kill());

  it('runs npx loggregator without rebuilding the project (the first npx in a checkout links it into the npx cache, which runs prepare)', async () => {
    // A rebuild here would take ~20 s and rewrite dist/ under the other specs' running processes.
    const cli = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');
    const before = statSync(cli).mtimeMs;
    const res = await run('npx', ['loggregator', '--version'], { timeoutMs: 60_000 });
    expect(res).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version}\n` });
    expect(statSync(cli).mtimeMs).toBe(before);
  });

  it('delivers emitted lines, from an argument and from stdin, to logs --recent in order', async () => {
    const one = await cli(['emit', 'e2e-app', 'hello from e2e', '--target', udp]);
    expect(one).toMatchObject({ code: 0 });
    const piped = await cli(['emit', 'e2e-app', '--stderr', '--source-type', 'RTR', '--instance', '7', '--target', udp], {
      input: 'first piped\r\nsecond piped\nlast without newline',
    });
    expect(piped).toMatchObject({ code: 0 });

    const recent = await cli(['logs', 'e2e-app', '--recent', '--target', http], sameMachine);
    expect(recent).toMatchObject({ code: 0, stderr: '' });
    const lines = recent.stdout.trimEnd().split('\n').map(l => l.match(LINE));
    expect(lines.map(m => m && [m[1], m[2], m[3], m[4]])).toEqual([
      ['APP', '0', 'OUT', 'hello from e2e'],
      ['RTR', '7', 'ERR', 'first piped'],
      ['RTR', '7', 'ERR', 'second piped'],
      ['RTR', '7', 'ERR', 'last without newline'],
    ]);

    const json = await cli(['logs', 'e2e-app', '--recent', '--json', '--target', http], sameMachine);
    const envelopes = json.stdout.trimEnd().split('\n').map(l => JSON.parse(l));
    expect(envelopes[0]).toMatchObject({ appId: 'e2e-app', sourceType: 'APP', messageType: 'OUT', message: 'hello from e2e' });
    expect(envelopes[0].timestamp).toMatch(/^\d{19}$/);
  });

  it('tails live lines with logs and keeps other apps out', async () => {
    const tail = Child.start('node', [CLI, 'logs', 'e2e-live', '--target', http], sameMachine.env);
    try {
      // The tail is connected once the traffic controller counts it.
      for (let i = 0; ; i++) {
        const metrics = await (await fetch(`${http}/metrics`)).text();
        if (/loggregator_tc_tail_clients 1/.test(metrics)) break;
        if (i > 200) throw new Error('tail client never connected');
        await new Promise(r => setTimeout(r, 50));
      }
      await cli(['emit', 'e2e-other', 'not for this tail', '--target', udp]);
      await cli(['emit', 'e2e-live', 'live line', '--target', udp]);
      await tail.waitFor(/OUT live line\n/);
      expect(tail.stdout).not.toContain('not for this tail');
    } finally {
      await tail.stop();
      await tail.kill();
    }
  });

  it('refuses logs without a token (another machine: no tokens file) or with a wrong one, saying what to do, exit 2', async () => {
    const elsewhere = { env: { LOGGREGATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'lgr-e2e-elsewhere-')) } };
    const none = await cli(['logs', 'e2e-app', '--recent', '--target', http], elsewhere);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/not authenticated \(401 a token is required.*\): no token was sent: give --token TOKEN or set LOGGREGATOR_TOKEN/);
    const wrong = await cli(['logs', 'e2e-app', '--target', http, '--token', 'not-the-token'], elsewhere);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/not authenticated \(401 unknown or expired token\): check the token/);
  });

  it('says clearly when the router cannot be reached, and exits non-zero', async () => {
    const res = await cli(['logs', 'e2e-app', '--target', 'http://127.0.0.1:9']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot reach loggregator at http:\/\/127\.0\.0\.1:9: connection refused/);
  });

  it('refuses an invalid config naming the key, with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgr-e2e-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ router: { udp: { port: 'x' }, recent: { linesPerApp: 0 } }, colour: true }));
    const res = await cli(['serve', '--config', file]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/router\.udp\.port: must be integer/);
    expect(res.stderr).toMatch(/router\.recent\.linesPerApp: must be >= 1/);
    expect(res.stderr).toMatch(/colour: unknown key/);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const code = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(server.stderr).toMatch(/"message":"stopped"/);
  });
});
