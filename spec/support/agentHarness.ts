// Starts an agent in-process for real-file, real-socket specs: instances.json in a temp dir, fake
// instances on unix sockets under it, a UDP receiver (or several) standing in for the routers, and
// a logger that keeps what the agent logged, so a spec can count the 'instances changed' effects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { Agent, startAgent } from '../../src/agent/agent';
import { Config } from '../../src/config/loadConfig';
import { Logger } from '../../src/logger';
import { FakeInstance } from './fakeInstance';
import { routerConfig } from './routerConfig';
import { Teardown } from './teardown';
import { UdpReceiver } from './udpReceiver';

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

/** A winston logger that keeps every entry (info and up) in `entries` instead of printing it. */
export function captureLogger(entries: LogEntry[] = []): { logger: Logger; entries: LogEntry[] } {
  const stream = new Writable({
    objectMode: true,
    write(info: LogEntry, _encoding, done) {
      entries.push({ ...info });
      done();
    },
  });
  const logger = winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream })] });
  return { logger, entries };
}

export interface AgentOptions {
  readonly routers: readonly UdpReceiver[];
  readonly maxLineChars?: number;
  readonly settleMs?: number;
}

/** A temp dir (short path: unix sockets live under it) and everything a spec opens in it. */
export class AgentRig {
  readonly dir: string;
  readonly instancesPath: string;
  readonly logs: LogEntry[] = [];

  constructor(private readonly teardown: Teardown) {
    this.dir = mkdtempSync(join(tmpdir(), 'ag-'));
    this.instancesPath = join(this.dir, 'instances.json');
    teardown.add(this.dir, dir => rmSync(dir, { recursive: true, force: true }));
  }

  async receiver(): Promise<UdpReceiver> {
    return this.teardown.add(await UdpReceiver.start(), r => r.close());
  }

  /** An instance whose sockets listen now (or, with `listen: false`, when the spec says). */
  async instance(appId: string, index: number, opts: { listen?: boolean } = {}): Promise<FakeInstance> {
    const instance = this.teardown.add(new FakeInstance(this.dir, appId, index), i => i.close());
    if (opts.listen !== false) await instance.listen();
    return instance;
  }

  config(opts: AgentOptions): Config {
    const config = routerConfig();
    return {
      ...config,
      routers: { ...config.routers, discovery: 'static', static: opts.routers.map(r => ({ udp: r.target })) },
      agent: {
        ...config.agent,
        instancesPath: this.instancesPath,
        settleMs: opts.settleMs ?? 50,
        maxLineChars: opts.maxLineChars ?? config.agent.maxLineChars,
        reconnect: { initialMs: 20, maxMs: 200 },
        http: { host: '127.0.0.1', port: 0 },
      },
    };
  }

  async agent(opts: AgentOptions): Promise<Agent> {
    const agent = await startAgent(this.config(opts), captureLogger(this.logs).logger);
    return this.teardown.add(agent, a => a.close());
  }

  /** The 'instances changed' entries the agent logged so far. */
  get changes(): LogEntry[] {
    return this.logs.filter(e => e.message === 'instances changed');
  }
}

/** A counter's or gauge's value summed over the series whose labels match. */
export async function agentMetric(agent: Agent, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = agent.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter(v => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

/** instances.json rejections by reason. */
export async function rejectedByReason(agent: Agent): Promise<Record<string, number>> {
  const { values } = await agent.metrics.instancesRejected.get();
  return Object.fromEntries(values.map(v => [String(v.labels.reason), v.value]));
}
