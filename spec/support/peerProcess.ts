// Process plumbing shared by the real peers the specs start (etcd, syslog-ng): spawned directly
// (no shell), unreferenced, output to a log file rather than a pipe (so a peer never keeps jest
// from exiting), watched by a tiny `sh` loop that SIGKILLs it and removes its temporary dir once
// the test process is gone (an 'exit' listener cannot do that job: jest gives each test file its
// own `process` object, whose 'exit' never fires), and stopped by PID.
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Server, createServer } from 'node:net';
import { Child } from './childProcess';

/** Spawns with stdout and stderr appended to `logFile`; unreferenced, so it never holds the test process open. */
export function spawnLogged(command: string, args: string[], logFile: string): Child {
  const fd = openSync(logFile, 'a');
  try {
    const child = new Child(spawn(command, args, { stdio: ['ignore', fd, fd] }));
    // Without a listener a failed spawn (ENOENT) would throw from an event; the caller reports it.
    child.process.on('error', () => {});
    child.process.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * While the test process ($1) lives, wait; if the peer ($2) ends first, so does the watch.
 * Once the test process is gone: SIGKILL the peer, remove its temporary dir ($3, if any).
 */
const WATCH = `
while kill -0 "$1" 2>/dev/null; do
  kill -0 "$2" 2>/dev/null || exit 0
  sleep 0.5
done
kill -KILL "$2" 2>/dev/null
[ -z "$3" ] || rm -rf -- "$3"
`;

export function watchdog(name: string, child: Child, tempDir: string | undefined): ChildProcess | undefined {
  if (child.process.pid === undefined) return undefined;
  return watchdogForPid(name, child.process.pid, tempDir);
}

/** The same watch for a process this test process did not spawn itself (a browser a library launched). */
export function watchdogForPid(name: string, pid: number, tempDir: string | undefined): ChildProcess {
  const watch = spawn('sh', ['-c', WATCH, `${name}-watchdog`, String(process.pid), String(pid), tempDir ?? ''], { stdio: 'ignore' });
  watch.on('error', () => {});
  watch.unref();
  return watch;
}

export function isRunning(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null && child.process.pid !== undefined;
}

/** SIGTERM (and SIGCONT, in case it was stopped), then SIGKILL if it has not exited within `graceMs`. */
export async function terminate(child: Child, graceMs: number): Promise<void> {
  if (!isRunning(child)) return;
  child.process.kill('SIGTERM');
  child.process.kill('SIGCONT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>(resolve => (timer = setTimeout(() => resolve('late'), graceMs)));
  try {
    if ((await Promise.race([child.exited, late])) === 'late') {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** `n` distinct ports that were free on 127.0.0.1 a moment ago (all bound at once, then released). */
export async function freeLoopbackPorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    }
    return servers.map(s => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map(s => new Promise(resolve => s.close(resolve))));
  }
}

/** Grace before SIGKILL when a peer is stopped. */
const STOP_GRACE_MS = 5_000;

/**
 * One local peer process and its life: started by the subclass (which calls `track`), signalled,
 * restarted on the same ports and files, stopped by PID (its directory removed if it made it).
 */
export abstract class LocalPeer {
  private child: Child | undefined;
  private watch: ChildProcess | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly ownDir: boolean,
    /** What it is, for messages: "etcd on http://…", "the syslog receiver on 1234". */
    private readonly what: () => string,
  ) {}

  abstract start(): Promise<void>;

  get pid(): number {
    const pid = this.child?.process.pid;
    if (pid === undefined) throw new Error(`${this.what()} is not running`);
    return pid;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child && isRunning(this.child)) process.kill(this.pid, signal);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`${this.what()} was stopped (and its files removed); start a new one`);
    await this.end();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.end();
    } finally {
      if (this.ownDir) await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** Takes charge of a started process: a watchdog ends it if the test process dies first. */
  protected track(name: string, child: Child): void {
    this.child = child;
    this.watch = watchdog(name, child, this.ownDir ? this.dir : undefined);
  }

  private async end(): Promise<void> {
    if (this.child) await terminate(this.child, STOP_GRACE_MS);
    if (this.watch?.exitCode === null) this.watch.kill();
  }
}
