// A fake app instance for the agent's real-socket specs: the two unix-socket servers a DEA job
// directory holds (`<container>/jobs/<job>/stdout.sock`, `stderr.sock`), which write what a test
// tells them to every client, can write half a line, can start late and close and come back; and
// instances.json written the two ways a DEA may write it (in place, or temp file + rename).
//
//   instances.json ──lists──▶ FakeInstance app-a/0 ── <dir>/c1/jobs/1/stdout.sock ◀── agent connects
//                                                  └─ <dir>/c1/jobs/1/stderr.sock ◀──┘
//
// Every server counts the connections it accepted over its life and the ones that went away, so
// a spec can tell that the agent never dropped and reopened an instance it should have kept.
import { mkdirSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { Server, Socket, createServer } from 'node:net';
import { dirname } from 'node:path';

/** One listening unix socket, as one of an instance's std streams. */
export class FakeSocket {
  /** Clients connected now. */
  readonly clients = new Set<Socket>();
  /** Connections accepted over the socket's life (across close and listen again). */
  connections = 0;
  /** Connections that went away (closed by the agent or by `close`). */
  disconnects = 0;
  private server: Server | undefined;
  private greeting: (string | Buffer)[] = [];
  private numbered: Numbered | undefined;

  constructor(readonly path: string) {}

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Starts listening (again); a stale socket file left at the path is removed first. */
  async listen(): Promise<void> {
    if (this.server) return;
    mkdirSync(dirname(this.path), { recursive: true });
    rmSync(this.path, { force: true });
    const server = createServer(client => {
      this.connections++;
      this.clients.add(client);
      client.on('error', () => undefined); // the agent resetting is what some specs do on purpose
      client.on('close', () => {
        this.clients.delete(client);
        this.disconnects++;
      });
      for (const chunk of this.greeting) client.write(chunk);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    this.server = server;
  }

  /** What every new client is sent first, as separate writes. */
  greet(...chunks: (string | Buffer)[]): this {
    this.greeting = chunks;
    return this;
  }

  /** Writes to every client connected now; how many got it. */
  write(chunk: string | Buffer): number {
    for (const client of this.clients) client.write(chunk);
    return this.clients.size;
  }

  /**
   * Writes numbered lines `<label> 1`, `<label> 2`, … to the connected client(s) every `everyMs`,
   * `perTick` at a time, the last line of each tick cut in two and finished on the next tick, so
   * a reader always holds half a line between ticks. Nothing is written while no client is
   * connected; every client connected gets every line (so a second connection shows up as
   * duplicates). Stops by itself after `max` lines.
   */
  startNumbered(label: string, opts: { everyMs?: number; perTick?: number; max?: number } = {}): void {
    const { everyMs = 4, perTick = 2, max = 5_000 } = opts;
    const state: Numbered = { written: 0, pendingTail: '', timer: undefined };
    state.timer = setInterval(() => {
      if (this.clients.size === 0) return;
      let text = state.pendingTail;
      state.pendingTail = '';
      for (let k = 0; k < perTick && state.written < max; k++) {
        const line = `${label} ${++state.written}\n`;
        if (k === perTick - 1 && state.written < max) {
          const cut = Math.ceil(line.length / 2);
          text += line.slice(0, cut);
          state.pendingTail = line.slice(cut);
        } else {
          text += line;
        }
      }
      if (text) this.write(text);
      if (state.written >= max && !state.pendingTail) clearInterval(state.timer);
    }, everyMs);
    this.numbered = state;
  }

  /** Stops the numbered lines (finishing the half-written one); how many lines were written. */
  stopNumbered(): number {
    const state = this.numbered;
    if (!state) return 0;
    clearInterval(state.timer);
    if (state.pendingTail) this.write(state.pendingTail);
    state.pendingTail = '';
    return state.written;
  }

  /** Stops listening and drops every client (the agent sees EOF); the socket file goes away. */
  async close(): Promise<void> {
    if (this.numbered) clearInterval(this.numbered.timer);
    const server = this.server;
    this.server = undefined;
    for (const client of this.clients) client.destroy();
    if (server) await new Promise<void>(resolve => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

interface Numbered {
  written: number;
  pendingTail: string;
  timer: NodeJS.Timeout | undefined;
}

let nextJobId = 1;

/** One app instance of a fake DEA: an entry of instances.json and its two sockets. */
export class FakeInstance {
  readonly jobId = nextJobId++;
  readonly containerPath: string;
  readonly jobDir: string;
  readonly stdout: FakeSocket;
  readonly stderr: FakeSocket;

  /** `root` should be short: a unix socket path must stay under ~100 bytes. */
  constructor(
    root: string,
    readonly appId: string,
    readonly index: number,
  ) {
    this.containerPath = `${root}/c${this.jobId}`;
    this.jobDir = `${this.containerPath}/jobs/${this.jobId}`;
    this.stdout = new FakeSocket(`${this.jobDir}/stdout.sock`);
    this.stderr = new FakeSocket(`${this.jobDir}/stderr.sock`);
  }

  get sockets(): readonly FakeSocket[] {
    return [this.stdout, this.stderr];
  }

  async listen(): Promise<this> {
    await Promise.all(this.sockets.map(s => s.listen()));
    return this;
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map(s => s.close()));
  }

  /** Clients connected now to either socket. */
  get connected(): number {
    return this.stdout.clients.size + this.stderr.clients.size;
  }

  /** The instance as the DEA lists it in instances.json. */
  get entry(): Record<string, unknown> {
    return {
      application_id: this.appId,
      instance_index: this.index,
      warden_job_id: this.jobId,
      warden_container_path: this.containerPath,
      state: 'RUNNING',
      // Fields the agent does not use are fine.
      instance_id: `inst-${this.jobId}`,
    };
  }
}

/** instances.json's text listing these instances. */
export function instancesJson(instances: readonly FakeInstance[]): string {
  return JSON.stringify({ instances: instances.map(i => i.entry) }, null, 2);
}

let tempCounter = 0;

/**
 * Writes instances.json: `in-place` truncates and rewrites the file (the watcher may see it empty
 * for a moment); `rename` writes a temp file next to it and renames it over (what the DEA did).
 */
export async function writeInstances(path: string, content: readonly FakeInstance[] | string, how: 'in-place' | 'rename' = 'in-place'): Promise<void> {
  const text = typeof content === 'string' ? content : instancesJson(content);
  if (how === 'in-place') return writeFile(path, text);
  const temp = `${path}.tmp-${process.pid}-${tempCounter++}`;
  await writeFile(temp, text);
  await rename(temp, path);
}
