// startAgent, for real, from the instance sockets' side: what a listed instance's stdout.sock and
// stderr.sock write becomes envelopes over UDP, line by line.
//
//   stdout.sock  "crlf\r\n" "split " "across\n" "bad \xff\n" "x"×700 "\n"  "partial"  (removed)
//   UDP          OUT crlf   OUT split across    OUT bad \ufffd   OUT x×300 [continued] …  OUT partial
//
// A socket missing when the instance is listed is retried with backoff until it appears; one that
// closes is reconnected when it comes back. A removed instance passes on its half-written line and
// is disconnected. Lines go to the router that owns the app, the same one for all its lines.
import { nowNs } from '../../../src/envelope/envelope';
import { AgentRig, agentMetric } from '../../support/agentHarness';
import { FakeInstance, writeInstances } from '../../support/fakeInstance';
import { Teardown } from '../../support/teardown';
import { waitFor } from '../../support/waitFor';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const connected = (...instances: FakeInstance[]) => instances.every(i => i.stdout.clients.size === 1 && i.stderr.clients.size === 1);

describe('agent: instance sockets → lines → UDP envelopes', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('connects to sockets that appear after the instance is listed, retrying with capped backoff', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const a = await rig.instance('app-a', 0, { listen: false });
    a.stdout.greet('out, at last\n');
    a.stderr.greet('err, at last\n');
    await writeInstances(rig.instancesPath, [a]);
    const agent = await rig.agent({ routers: [receiver] });

    // Missing for ~700 ms: retried at 20, 40, 80, 160, 200, 200… ms, not in a tight loop.
    await waitFor(async () => (await agentMetric(agent, 'loggregator_agent_socket_reconnects_total', { stream: 'stdout' })) >= 3, {
      what: 'the agent retrying the missing stdout.sock',
    });
    await sleep(500);
    const retries = await agentMetric(agent, 'loggregator_agent_socket_reconnects_total', { stream: 'stdout' });
    expect(retries).toBeGreaterThanOrEqual(4);
    expect(retries).toBeLessThanOrEqual(12);
    // Retrying is not connecting: nothing went out.
    expect(receiver.envelopes).toEqual([]);

    await a.listen();
    await waitFor(() => receiver.envelopes.length === 2, { what: 'both greetings once the sockets listen', timeoutMs: 5_000 });
    expect(receiver.messages('app-a', '0', 'OUT')).toEqual(['out, at last']);
    expect(receiver.messages('app-a', '0', 'ERR')).toEqual(['err, at last']);
    expect([a.stdout.connections, a.stderr.connections]).toEqual([1, 1]);
  });

  it('reconnects to a socket that closes and comes back, keeping the other stream as it was', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const a = await rig.instance('app-a', 0);
    a.stdout.greet('first life\n');
    await writeInstances(rig.instancesPath, [a]);
    const agent = await rig.agent({ routers: [receiver] });
    await waitFor(() => receiver.messages('app-a').length === 1, { what: 'the first greeting' });

    await a.stdout.close();
    await waitFor(async () => (await agentMetric(agent, 'loggregator_agent_socket_reconnects_total', { stream: 'stdout' })) >= 2, {
      what: 'the agent retrying the closed stdout.sock',
    });
    a.stdout.greet('second life\n');
    await a.stdout.listen();
    await waitFor(() => receiver.messages('app-a').length === 2, { what: 'the greeting after the socket came back', timeoutMs: 5_000 });

    expect(receiver.messages('app-a', '0', 'OUT')).toEqual(['first life', 'second life']);
    expect(a.stdout.connections).toBe(2);
    expect([a.stderr.connections, a.stderr.disconnects]).toEqual([1, 0]);
    expect(await agentMetric(agent, 'loggregator_agent_socket_reconnects_total', { stream: 'stderr' })).toBe(0);
  });

  it('passes on the half-written line of a removed instance, then disconnects it for good', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const a = await rig.instance('app-a', 0);
    const b = await rig.instance('app-b', 0);
    await writeInstances(rig.instancesPath, [a, b]);
    await rig.agent({ routers: [receiver] });
    await waitFor(() => connected(a, b), { what: 'a and b connected' });

    // stderr first: its bytes are waiting on the agent's socket before stdout's are written, so
    // the agent reads them no later than the stdout chunk below. That chunk holds a whole line and
    // the partial (one write): once its line has arrived, both partials were read and are held.
    a.stderr.write('err partial');
    a.stdout.write('first line\npartial without newline');
    await waitFor(() => receiver.messages('app-a').includes('first line'), { what: 'the whole line before the partial' });

    await writeInstances(rig.instancesPath, [b]);
    await waitFor(() => a.connected === 0, { what: 'a disconnected after its removal' });
    await waitFor(() => receiver.messages('app-a').length === 3, { what: "a's partial lines" });
    await sleep(300); // a removed instance is not reconnected

    expect(receiver.messages('app-a', '0', 'OUT')).toEqual(['first line', 'partial without newline']);
    expect(receiver.messages('app-a', '0', 'ERR')).toEqual(['err partial']);
    expect([a.stdout.connections, a.stderr.connections]).toEqual([1, 1]);
    expect([b.stdout.connections, b.stderr.connections, b.connected]).toEqual([1, 1, 2]);
  });

  it('reads lines: CRLF, split across writes, invalid UTF-8 replaced, over-long lines cut and marked', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const a = await rig.instance('app-a', 0);
    await writeInstances(rig.instancesPath, [a]);
    await rig.agent({ routers: [receiver], maxLineChars: 300 });
    await waitFor(() => connected(a), { what: 'a connected' });

    const zolc = Buffer.from('zażółć gęślą\n', 'utf8');
    const writes: (string | Buffer)[] = [
      'crlf line\r\n',
      'split ',
      'across ',
      'writes\n',
      Buffer.from([0x62, 0x61, 0x64, 0x20, 0xff, 0xfe, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73, 0x0a]), // "bad \xff\xfe bytes\n"
      zolc.subarray(0, 3), // "za" and the first of the two bytes of "ż"
      zolc.subarray(3),
      'x'.repeat(700) + '\n',
      'y'.repeat(250),
      'y'.repeat(250) + '\r\n',
      'after\n',
    ];
    for (const chunk of writes) {
      a.stdout.write(chunk);
      await sleep(15); // separate reads on the agent's side
    }
    a.stderr.write('on stderr\r\n');

    const expected = [
      'crlf line',
      'split across writes',
      'bad \ufffd\ufffd bytes',
      'zażółć gęślą',
      'x'.repeat(300) + ' [continued]',
      'x'.repeat(300) + ' [continued]',
      'x'.repeat(100),
      'y'.repeat(300) + ' [continued]',
      'y'.repeat(200),
      'after',
    ];
    await waitFor(() => receiver.messages('app-a', '0', 'OUT').length >= expected.length && receiver.messages('app-a', '0', 'ERR').length >= 1, {
      what: `${expected.length} stdout lines and one stderr line`,
    });
    await sleep(50);
    expect(receiver.messages('app-a', '0', 'OUT')).toEqual(expected);
    expect(receiver.messages('app-a', '0', 'ERR')).toEqual(['on stderr']);
    expect(receiver.rejected).toEqual([]);
    expect([a.stdout.connections, a.stdout.disconnects]).toEqual([1, 0]); // bad bytes are not fatal
  });

  it('stamps each envelope: APP, the instance index, OUT or ERR, the app id, the read time in ns', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const a = await rig.instance('app-env.7_x', 12);
    await writeInstances(rig.instancesPath, [a]);
    const agent = await rig.agent({ routers: [receiver] });
    await waitFor(() => connected(a), { what: 'a connected' });

    const before = BigInt(nowNs());
    a.stdout.write('to stdout\n');
    a.stderr.write('to stderr\n');
    await waitFor(() => receiver.envelopes.length === 2, { what: 'both lines' });
    const after = BigInt(nowNs());

    const byType = Object.fromEntries(receiver.envelopes.map(e => [e.messageType, e]));
    expect(byType.OUT).toEqual({
      appId: 'app-env.7_x',
      sourceType: 'APP',
      sourceInstance: '12',
      messageType: 'OUT',
      timestamp: expect.stringMatching(/^[1-9][0-9]{18}$/),
      message: 'to stdout',
    });
    expect(byType.ERR).toEqual({ ...byType.OUT, messageType: 'ERR', timestamp: expect.stringMatching(/^[1-9][0-9]{18}$/), message: 'to stderr' });
    for (const e of receiver.envelopes) {
      const t = BigInt(e.timestamp);
      expect(t >= before && t <= after).toBe(true);
    }
    expect(await agentMetric(agent, 'loggregator_agent_lines_total', { stream: 'stdout' })).toBe(1);
    expect(await agentMetric(agent, 'loggregator_agent_lines_total', { stream: 'stderr' })).toBe(1);
  });

  it('reads 200 instances at once (100 apps × 2): all connected, a line from each arrives', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const instances: FakeInstance[] = [];
    for (let app = 0; app < 100; app++) {
      for (let index = 0; index < 2; index++) {
        const instance = await rig.instance(`app-${app}`, index);
        instance.stdout.greet(`hello from app-${app}/${index}\n`);
        instances.push(instance);
      }
    }
    await writeInstances(rig.instancesPath, instances, 'rename');
    const agent = await rig.agent({ routers: [receiver] });

    await waitFor(() => instances.every(i => connected(i)), {
      what: 'all 400 sockets connected',
      timeoutMs: 10_000,
    });
    await waitFor(() => receiver.envelopes.length >= 200, { what: '200 lines', timeoutMs: 10_000 });
    await sleep(100);
    const seen = receiver.envelopes.map(e => `${e.appId}/${e.sourceInstance} ${e.messageType} ${e.message}`).sort();
    const expected = instances.map(i => `${i.appId}/${i.index} OUT hello from ${i.appId}/${i.index}`).sort();
    expect(seen).toEqual(expected);
    expect(await agentMetric(agent, 'loggregator_agent_instances')).toBe(200);
    expect(instances.filter(i => i.stdout.connections !== 1 || i.stderr.connections !== 1)).toEqual([]);
  });

  it("sends each app's lines to one of two routers, always the same one", async () => {
    const rig = new AgentRig(teardown);
    const receivers = [await rig.receiver(), await rig.receiver()];
    const instances: FakeInstance[] = [];
    for (let app = 0; app < 16; app++) {
      for (let index = 0; index < 2; index++) {
        const instance = await rig.instance(`app-${app}`, index);
        instances.push(instance);
      }
    }
    await writeInstances(rig.instancesPath, instances, 'rename');
    await rig.agent({ routers: receivers });
    await waitFor(() => instances.every(i => connected(i)), { what: 'all instances connected' });

    // Five rounds of one line per stream per instance, interleaved across apps.
    for (let round = 0; round < 5; round++) {
      for (const i of instances) {
        i.stdout.write(`${i.appId}/${i.index} out ${round}\n`);
        i.stderr.write(`${i.appId}/${i.index} err ${round}\n`);
      }
      await sleep(20);
    }
    const total = instances.length * 2 * 5;
    await waitFor(() => receivers[0].envelopes.length + receivers[1].envelopes.length >= total, { what: `${total} lines over both routers` });

    const owners = new Map<string, number[]>();
    for (let app = 0; app < 16; app++) {
      const counts = receivers.map(r => r.messages(`app-${app}`).length);
      owners.set(`app-${app}`, counts);
      expect({ app, counts: [...counts].sort((x, y) => x - y) }).toEqual({ app, counts: [0, 20] });
    }
    // Both routers own some apps; every app's lines are complete, in order per stream.
    const perRouter = receivers.map((_, k) => [...owners.values()].filter(c => c[k] > 0).length);
    expect(perRouter.every(n => n > 0)).toBe(true);
    for (const i of instances) {
      const owner = receivers[owners.get(i.appId)![0] > 0 ? 0 : 1];
      const rounds = [0, 1, 2, 3, 4];
      expect(owner.messages(i.appId, String(i.index), 'OUT')).toEqual(rounds.map(r => `${i.appId}/${i.index} out ${r}`));
      expect(owner.messages(i.appId, String(i.index), 'ERR')).toEqual(rounds.map(r => `${i.appId}/${i.index} err ${r}`));
    }
  });

  it('disconnects every instance on close() and sends nothing after', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const a = await rig.instance('app-a', 0);
    const b = await rig.instance('app-b', 1);
    await writeInstances(rig.instancesPath, [a, b]);
    const agent = await rig.agent({ routers: [receiver] });
    await waitFor(() => connected(a, b), { what: 'a and b connected' });

    await agent.close();
    await waitFor(() => a.connected + b.connected === 0, { what: 'every socket disconnected after close()' });
    // The file changing after close() is not watched any more.
    const c = await rig.instance('app-c', 0);
    await writeInstances(rig.instancesPath, [a, b, c]);
    await sleep(300);
    expect([c.stdout.connections, a.stdout.connections, b.stdout.connections]).toEqual([0, 1, 1]);
    expect(receiver.envelopes).toEqual([]);
  });
});
