// End to end with real processes: simulate-dea (numbered lines on unix sockets, churning
// instances.json) → loggregator agent → loggregator serve (router) → websocket tails.
// Every numbered line of every instance that was never churned arrives exactly once, in order,
// across several changes of instances.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Child } from '../support/childProcess';
import { waitFor } from '../support/waitFor';

jest.setTimeout(90_000);

const CLI = 'dist/src/cli/main.js';
const APPS = 4;
const INSTANCES = 4;

describe('simulator → agent → router, as child processes', () => {
  const children: Child[] = [];
  const sockets: WebSocket[] = [];
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgr-e2e-'));
  });
  afterAll(async () => {
    sockets.forEach(ws => ws.terminate());
    await Promise.all(children.map(c => c.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every line of every unchanged instance exactly once, in order, across changes', async () => {
    const router = Child.start('node', [CLI, 'serve'], {
      LOGGREGATOR_ROUTER_UDP_PORT: '0',
      LOGGREGATOR_ROUTER_HTTP_PORT: '0',
      LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
      LOGGREGATOR_DATA_DIR: join(dir, 'data'),
    });
    children.push(router);
    const listening = JSON.parse((await router.waitFor(/^\{.*"message":"router listening".*$/m))[0]) as { udp: string; http: string };

    // One tail per app, connected before any line is read.
    const received = new Map<string, string[]>(); // "sim-app-1/0 out" → messages in arrival order
    for (let a = 1; a <= APPS; a++) {
      const ws = new WebSocket(`${listening.http.replace('http', 'ws')}/tail?app=sim-app-${a}`);
      sockets.push(ws);
      ws.on('message', data => {
        const e = JSON.parse(data.toString()) as { appId: string; sourceInstance: string; messageType: string; message: string };
        const key = `${e.appId}/${e.sourceInstance} ${e.messageType === 'OUT' ? 'out' : 'err'}`;
        received.set(key, [...(received.get(key) ?? []), e.message]);
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    }

    // The agent first, watching an instances.json that is not there yet (the empty set): it is
    // reading before the depot's first churn however slowly it starts. 16 instances, one churn a
    // second (each restarts the longest-running one): the depot may go on churning while a loaded
    // machine gets round to stopping it, and 13 churns still leave 3 instances never churned.
    const agent = Child.start('node', [CLI, 'agent', '--instances', join(dir, 'instances.json'), '--router', listening.udp], {
      LOGGREGATOR_AGENT_HTTP_PORT: '0',
      LOGGREGATOR_AGENT_SETTLE_MS: '50',
    });
    children.push(agent);
    await agent.waitFor(/"message":"agent watching"/);
    const simulator = Child.start('node', [CLI, 'simulate-dea', dir, '--apps', String(APPS), '--instances', String(INSTANCES), '--rate', '100', '--churn', '1', '--duration', '60']);
    children.push(simulator);
    await simulator.waitFor(/"event":"ready"/);

    // Several changes of instances.json while lines flow; then the depot stops first, so that no
    // churn comes while the agent stops (however long that takes on a loaded machine).
    const churns = () => (simulator.stdout.match(/"event":"added"/g) ?? []).length;
    await waitFor(() => churns() >= 5, { what: '5 churns', timeoutMs: 30_000, intervalMs: 100 });
    expect(await simulator.stop('SIGTERM')).toBe(0);
    expect(await agent.stop('SIGTERM')).toBe(0);

    const churned = new Set(
      simulator.stdout
        .split('\n')
        .filter(l => l.includes('"event":"removed"'))
        .map(l => JSON.parse(l) as { app: string; index: number })
        .map(e => `${e.app}/${e.index}`),
    );
    const unchanged = [];
    for (let a = 1; a <= APPS; a++) for (let i = 0; i < INSTANCES; i++) if (!churned.has(`sim-app-${a}/${i}`)) unchanged.push(`sim-app-${a}/${i}`);
    expect(churned.size).toBeGreaterThanOrEqual(3);
    expect(unchanged.length).toBeGreaterThanOrEqual(3);

    for (const instance of unchanged) {
      for (const stream of ['out', 'err']) {
        const messages = received.get(`${instance} ${stream}`) ?? [];
        const numbers = messages.map(m => {
          const match = /^(\S+) (out|err) (\d+)$/.exec(m);
          expect(match?.[1]).toBe(instance);
          return Number(match?.[3]);
        });
        // A single run 1, 2, 3, … : nothing lost, nothing repeated, nothing out of order.
        expect(numbers.length).toBeGreaterThan(stream === 'out' ? 100 : 5);
        expect(numbers).toEqual(numbers.map((_, k) => k + 1));
      }
    }
    // Churned instances' lines arrive too (each connection numbered from 1 again).
    for (const instance of churned) expect((received.get(`${instance} out`) ?? []).length).toBeGreaterThan(0);
  });
});
