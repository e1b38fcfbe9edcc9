// A real etcd (v3 API, the Debian etcd-server package) on loopback, for specs of what lives in
// etcd: drain bindings, router registration. Each server gets free ports and its own data dir:
//
//   const etcd = teardown.add(await startEtcd(), e => e.stop());
//   const client = new Etcd3({ hosts: etcd.endpoint });
//
// stop() ends the process (SIGTERM, SIGKILL after 5 s) and deletes the dir when startEtcd made
// it. kill(signal) only signals (SIGKILL for a crash, SIGSTOP / SIGCONT for a hang); restart()
// brings the same server back on the same ports and data, whether it is running, stopped by a
// signal or crashed.
//
// A spec that fails before its teardown, or a test process that dies, never leaves etcd behind:
// etcd is spawned directly (no shell) in the test's process group (Ctrl-C ends it too),
// unreferenced and with its output in DIR/etcd.log rather than a pipe (so it never keeps jest
// from exiting), and watched by a tiny `sh` loop that SIGKILLs it and removes a temporary dir
// once the test process is gone. (An 'exit' listener cannot do that job: jest gives each test
// file its own `process` object, whose 'exit' never fires.)
import { mkdtemp, readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Child } from './childProcess';
import { LocalPeer, freeLoopbackPorts, isRunning, spawnLogged } from './peerProcess';

export interface EtcdServer {
  /** `http://127.0.0.1:PORT`: etcd3's `hosts`, etcdctl's `--endpoints`. */
  readonly endpoint: string;
  /** The client port. */
  readonly port: number;
  /** The PID of the etcd process now running (a restart changes it). */
  readonly pid: number;
  /** Holds the data (`data/`) and etcd's output (`etcd.log`); removed by stop() when startEtcd made it. */
  readonly dir: string;
  /** SIGTERM, wait for the exit (SIGKILL after 5 s), remove a temporary dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to the etcd process by its PID; no wait. */
  kill(signal: NodeJS.Signals): void;
  /** Ends the process if it runs, starts it again on the same ports and data, waits until healthy. */
  restart(): Promise<void>;
}

const HEALTH_POLL_MS = 100;
const HEALTHY_WITHIN_MS = 15_000;

/** Starts etcd in `dir` (default: a new temporary dir) and resolves once GET /health says so. */
export async function startEtcd(dir?: string): Promise<EtcdServer> {
  const ownDir = dir === undefined;
  const home = dir ?? (await mkdtemp(join(tmpdir(), 'loggregator-etcd-')));
  const [port, peerPort] = await freeLoopbackPorts(2);
  const server = new LocalEtcd(home, ownDir, port, peerPort);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

class LocalEtcd extends LocalPeer implements EtcdServer {
  readonly endpoint: string;

  constructor(
    dir: string,
    ownDir: boolean,
    readonly port: number,
    private readonly peerPort: number,
  ) {
    super(dir, ownDir, () => `etcd on ${this.endpoint}`);
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const name = `n${this.port}`;
    // A one-member cluster elects itself: short raft timers make it ready in ~100 ms, not ~1 s.
    const args = [
      '--name', name,
      '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', this.endpoint,
      '--advertise-client-urls', this.endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `${name}=${peer}`,
      '--heartbeat-interval', '10',
      '--election-timeout', '100',
      '--logger', 'zap',
      '--log-level', 'warn',
    ];
    const log = join(this.dir, 'etcd.log');
    const child = spawnLogged('etcd', args, log);
    this.track('etcd', child);
    await waitUntilHealthy(this.endpoint, child, log);
  }
}

async function logTail(logFile: string, lines = 20): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n') || '(etcd wrote nothing)';
}

async function waitUntilHealthy(endpoint: string, child: Child, logFile: string): Promise<void> {
  let spawnError: Error | undefined;
  child.process.once('error', err => (spawnError = err));
  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  let last = 'no answer yet';
  for (;;) {
    if (spawnError) {
      const hint = (spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? ': not installed? Run `bash spec/support/ensurePeers.sh`' : '';
      throw new Error(`could not start etcd${hint} (${spawnError.message})`);
    }
    if (!isRunning(child)) {
      await child.exited;
      throw new Error(`etcd exited (${child.process.exitCode ?? child.process.signalCode}) before it was healthy on ${endpoint}:\n${await logTail(logFile)}`);
    }
    last = await health(endpoint);
    if (last === 'true') return;
    if (Date.now() > deadline) {
      throw new Error(`etcd not healthy on ${endpoint} within ${HEALTHY_WITHIN_MS} ms (last answer: ${last}):\n${await logTail(logFile)}`);
    }
    await new Promise(resolve => setTimeout(resolve, HEALTH_POLL_MS));
  }
}

/** The `health` field of GET /health (`"true"` when etcd has a leader and serves), or what went wrong. */
function health(endpoint: string): Promise<string> {
  return new Promise(resolve => {
    const req = get(`${endpoint}/health`, { timeout: 1_000, agent: false }, res => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(String((JSON.parse(body) as { health?: unknown }).health));
        } catch {
          resolve(`HTTP ${res.statusCode} ${body.slice(0, 200)}`);
        }
      });
      res.on('error', err => resolve(err.message));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', err => resolve(err.message));
  });
}

/**
 * One etcd (and a client of it) for the tests of a describe block: started before them, closed
 * and stopped after. `use` hears both once they are up (the block's own `let`s).
 */
export function etcdForTests(use: (etcd: EtcdServer, client: Etcd3) => void): void {
  let etcd: EtcdServer | undefined;
  let client: Etcd3 | undefined;
  beforeAll(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoint });
    use(etcd, client);
  });
  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });
}
