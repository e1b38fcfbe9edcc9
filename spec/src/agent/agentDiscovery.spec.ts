// The agent following the routers registered in a real etcd (routers.discovery "etcd"): invalid
// records next to a valid one are left out and counted, lines go to the valid router; etcd going
// away is counted as discovery errors while the last known router keeps getting every line.
//
//   etcd:      {good, not-json, bad-address}  ····· etcd stopped ·····  (restarted)
//   agent:     routers 1, invalid 2           lines keep flowing to good; errors counted
import { Etcd3 } from 'etcd3';
import { AgentRig, agentMetric, captureLogger } from '../../support/agentHarness';
import { EtcdServer, etcdForTests } from '../../support/etcdServer';
import { writeInstances } from '../../support/fakeInstance';
import { Teardown } from '../../support/teardown';
import { waitFor } from '../../support/waitFor';
import { startAgent } from '../../../src/agent/agent';
import { Config } from '../../../src/config/loadConfig';

jest.setTimeout(60_000);

describe('agent: routers from etcd', () => {
  const teardown = new Teardown();
  let etcd: EtcdServer;
  let client: Etcd3;

  etcdForTests((e, c) => ([etcd, client] = [e, c]));
  afterEach(() => teardown.run());

  it('counts invalid router records and discovery errors, and keeps sending to the last known router', async () => {
    const rig = new AgentRig(teardown);
    const receiver = await rig.receiver();
    const prefix = '/agent-discovery-spec/routers/';
    await client.put(`${prefix}good`).value(JSON.stringify({ udp: receiver.target, http: '127.0.0.1:1' }));
    await client.put(`${prefix}not-json`).value('{"udp": "127.0.0.1:');
    await client.put(`${prefix}bad-address`).value(JSON.stringify({ udp: 'host name with spaces:99', http: '127.0.0.1:1' }));

    const base = rig.config({ routers: [receiver] });
    const config: Config = {
      ...base,
      etcd: { endpoints: [etcd.endpoint], dialTimeoutMs: 1000 },
      routers: { ...base.routers, discovery: 'etcd', static: [], etcdPrefix: prefix, reconnect: { initialMs: 50, maxMs: 200 } },
    };
    const logs = captureLogger();
    const agent = teardown.add(await startAgent(config, logs.logger), a => a.close());
    const a = await rig.instance('app-a', 0);
    a.stdout.greet('before the outage\n');
    await writeInstances(rig.instancesPath, [a]);

    await waitFor(() => receiver.messages('app-a').includes('before the outage'), { what: 'a line sent to the one valid router' });
    expect(await agentMetric(agent, 'loggregator_agent_routers')).toBe(1);
    expect(await agentMetric(agent, 'loggregator_agent_invalid_router_records_total')).toBe(2);
    expect(await agentMetric(agent, 'loggregator_agent_invalid_router_records_total', { reason: 'not_json' })).toBe(1);
    expect(await agentMetric(agent, 'loggregator_agent_invalid_router_records_total', { reason: 'bad_address' })).toBe(1);
    expect(await agentMetric(agent, 'loggregator_agent_router_discovery_errors_total')).toBe(0);
    const invalid = logs.entries.filter(e => e.message === 'invalid router record in etcd; left out').map(e => e.key).sort();
    expect(invalid).toEqual([`${prefix}bad-address`, `${prefix}not-json`]);

    await etcd.stop();
    await waitFor(async () => (await agentMetric(agent, 'loggregator_agent_router_discovery_errors_total')) >= 1, {
      what: 'a discovery error counted once etcd is gone',
      timeoutMs: 20_000,
    });
    expect(a.stdout.write('during the outage\n')).toBe(1);
    await waitFor(() => receiver.messages('app-a').includes('during the outage'), { what: 'a line sent to the last known router during the outage' });
    expect(await agentMetric(agent, 'loggregator_agent_routers')).toBe(1);
  });
});
