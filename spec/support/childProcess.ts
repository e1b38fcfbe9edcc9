import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export interface Run {
  /** null when it did not exit by itself: killed by a signal, e.g. at `timeoutMs`. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`, default 60 s: an upper limit only), with optional stdin. */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise(resolve => {
    const child = execFile(
      cmd,
      args,
      { cwd: PROJECT_ROOT, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 60_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const failure = err as (Error & { code?: number | string; killed?: boolean; signal?: string }) | null;
        // Say so in what a failed expectation prints, rather than a bare `code: null` (no args: they may hold secrets).
        if (failure?.killed) stderr += `\n[run(): ${cmd} killed by ${failure.signal} at its ${opts.timeoutMs ?? 60_000} ms timeout]`;
        resolve({ code: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0, stdout, stderr });
      },
    );
    // A child that exits (or closes stdin) before reading it makes this write fail with EPIPE; unheard,
    // that error would be thrown in the test process. The exit code tells what happened.
    child.stdin?.on('error', () => undefined).end(opts.input ?? '');
  });
}

/** Collects a long-running child's output and waits for lines in it. */
export class Child {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly process: ChildProcess) {
    process.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    process.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = once(process, 'exit').then(([code]) => code as number | null);
  }

  static start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    // Its own process group, so that a wrapper (npm, npx) and what it started can be ended together.
    return new Child(spawn(cmd, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  }

  /** Resolves with the first match of `pattern` in stdout+stderr, or rejects after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (this.stdout + this.stderr).match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${this.stdout}\n${this.stderr}`);
      if (this.process.exitCode !== null) throw new Error(`exited ${this.process.exitCode} before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      await new Promise(r => setTimeout(r, 50));
    }
  }

  /** Stops the child by its PID (only the one this test started). */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal);
    return this.exited;
  }

  /**
   * Last resort after a failed test: SIGKILL the child's whole process group (which it leads).
   * Resolves once the child is gone: until then its pipes and its process handle keep the test
   * process (jest's worker) from exiting.
   */
  async kill(): Promise<void> {
    if (this.process.pid === undefined) return; // never started: no group, no exit to wait for
    try {
      process.kill(-this.process.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.exited;
  }
}
