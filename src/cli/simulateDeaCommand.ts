// `loggregator simulate-dea DIR`: a fake DEA warden depot (instances.json and the instances'
// stdout/stderr unix sockets) for the walkthrough, end-to-end specs and the agent's benchmark.
// Prints what it does as JSON lines on stdout; exit codes 0 stopped, 1 failed, 2 bad usage.
import { Command, InvalidArgumentError, Option } from 'commander';
import { DepotEvent, DepotUsageError, FakeDea, STDERR_EVERY } from '../simulator/fakeDea';

const USAGE = 2;

/** Longest a stop may take before the process exits anyway. */
const SHUTDOWN_MS = 5_000;

export interface SimulateDeaOptions {
  readonly dir: string;
  readonly apps: number;
  readonly instances: number;
  readonly rate: number;
  readonly splitWrites: boolean;
  readonly churnSeconds?: number;
  readonly durationSeconds?: number;
}

export interface SimulateDeaIo {
  /** One JSON event per call, without the newline. */
  readonly out: (line: string) => void;
  /** A message for humans, without the newline. */
  readonly err: (text: string) => void;
  /** Aborting it stops the depot (its reason, e.g. the signal name, is reported). */
  readonly signal?: AbortSignal;
}

/** An InvalidArgumentError that exits 2 even where no exitOverride maps it. */
function badValue(message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message);
  err.exitCode = USAGE;
  return err;
}

function integerIn(what: string, min: number, max: number): (text: string) => number {
  return text => {
    const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) throw badValue(`${what} must be a whole number from ${min} to ${max}.`);
    return value;
  };
}

function secondsIn(what: string, min: number, max: number): (text: string) => number {
  return text => {
    const value = /^[0-9]{1,9}(\.[0-9]{1,6})?$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) throw badValue(`${what} must be a number of seconds from ${min} to ${max}.`);
    return value;
  };
}

/**
 * Runs a depot until `io.signal` aborts or `durationSeconds` pass, and resolves with the exit
 * code: 0 once stopped cleanly, 2 when DIR cannot be used as given, 1 on any other failure.
 */
export async function runSimulateDea(opts: SimulateDeaOptions, io: SimulateDeaIo): Promise<number> {
  const dea = new FakeDea({
    dir: opts.dir,
    apps: opts.apps,
    instancesPerApp: opts.instances,
    rate: opts.rate,
    splitWrites: opts.splitWrites,
    churnMs: opts.churnSeconds === undefined ? undefined : opts.churnSeconds * 1000,
  });
  const printing = dea.events$.subscribe((event: DepotEvent) => {
    if (event.event === 'error') io.err(`simulate-dea: ${event.message}`);
    else io.out(JSON.stringify(event));
  });
  try {
    if (io.signal?.aborted) return 0;
    try {
      await dea.start();
    } catch (err) {
      io.err(`simulate-dea: cannot start the depot in ${dea.dir}: ${(err as Error).message}`);
      return err instanceof DepotUsageError ? USAGE : 1;
    }
    const reason = await new Promise<string>(resolve => {
      const timer =
        opts.durationSeconds === undefined ? undefined : setTimeout(() => resolve('duration'), opts.durationSeconds * 1000);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(String(io.signal?.reason ?? 'aborted'));
      };
      if (io.signal?.aborted) onAbort();
      io.signal?.addEventListener('abort', onAbort, { once: true });
    });
    await dea.stop(reason);
    return 0;
  } finally {
    await dea.stop('failed'); // no-op if it stopped (or never started)
    printing.unsubscribe();
  }
}

/** Adds `simulate-dea DIR [options]` to the `loggregator` program. */
export function registerSimulateDea(program: Command): void {
  program
    .command('simulate-dea')
    .description('run a fake DEA depot in DIR: instances.json and, per instance, unix sockets writing numbered lines')
    .addHelpText(
      'after',
      `
Files (keep DIR short: a unix socket path has at most 107 bytes):
  DIR/instances.json  {"instances":[{"application_id","instance_index","warden_job_id","warden_container_path",
                      "state":"RUNNING","instance_id",...}]}, replaced whole (temp file + rename) on every change
  <warden_container_path>/jobs/<warden_job_id>/stdout.sock  "sim-app-1/0 out 1", "sim-app-1/0 out 2", ... (--rate per second)
  <warden_container_path>/jobs/<warden_job_id>/stderr.sock  "sim-app-1/0 err 1", ... (a ${STDERR_EVERY}th of --rate)
Every connection is numbered from 1; a reader that falls behind is waited for, never skipped.
--churn restarts the longest-running instance: same app and index, new job id, container and sockets.
Events go to stdout as JSON lines: ready, removed, added, stopped.
On SIGTERM/SIGINT or after --duration, instances.json lists no instance, the sockets close and their files go; exit 0.`,
    )
    .argument('<dir>', 'depot directory (created if missing; short: socket paths must stay under 108 bytes)')
    .addOption(new Option('--apps <n>', 'apps sim-app-1 ... sim-app-N (1-1000)').argParser(integerIn('--apps', 1, 1000)).default(1))
    .addOption(
      new Option('--instances <m>', 'instances per app, indexes 0 ... M-1 (1-100)').argParser(integerIn('--instances', 1, 100)).default(1),
    )
    .addOption(
      new Option('--rate <r>', `stdout lines per second per instance and client (0-100000); stderr gets a ${STDERR_EVERY}th`)
        .argParser(integerIn('--rate', 0, 100_000))
        .default(10),
    )
    .addOption(
      new Option('--churn <seconds>', 'every so often restart one instance: new job id, container and sockets (0.01-86400)').argParser(
        secondsIn('--churn', 0.01, 86_400),
      ),
    )
    .addOption(
      new Option('--duration <seconds>', 'stop after this long (0.1-604800); without it, run until SIGTERM/SIGINT').argParser(
        secondsIn('--duration', 0.1, 604_800),
      ),
    )
    .option('--split-writes', 'write the last line of each batch in two parts a few ms apart, to exercise line joining')
    .action(
      async (
        dir: string,
        opts: { apps: number; instances: number; rate: number; churn?: number; duration?: number; splitWrites?: boolean },
      ) => {
        const abort = new AbortController();
        const onSignal = (signal: NodeJS.Signals) => {
          if (abort.signal.aborted) {
            process.stderr.write(`loggregator: simulate-dea: ${signal} again: exiting now\n`);
            process.exit(1);
          }
          abort.abort(signal);
          setTimeout(() => {
            process.stderr.write(`loggregator: simulate-dea: stopping took over ${SHUTDOWN_MS} ms; exiting anyway\n`);
            process.exit(0);
          }, SHUTDOWN_MS).unref();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        try {
          process.exitCode = await runSimulateDea(
            {
              dir,
              apps: opts.apps,
              instances: opts.instances,
              rate: opts.rate,
              splitWrites: opts.splitWrites ?? false,
              churnSeconds: opts.churn,
              durationSeconds: opts.duration,
            },
            {
              out: line => process.stdout.write(`${line}\n`),
              err: text => process.stderr.write(`loggregator: ${text}\n`),
              signal: abort.signal,
            },
          );
        } finally {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
      },
    );
}
