import { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Config, ConfigError } from '../config/loadConfig';
import { Logger } from '../logger';
import { logForwarded, workerScript } from '../workerThreads';
import { FromTrafficControllerWorker, TrafficControllerWorkerData } from './trafficControllerWorker';

export interface TrafficControllerThread {
  readonly httpAddress: AddressInfo;
  /** Closes it as startTrafficController's close does (bounded: terminated after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
  /** Ends the thread at once, as a crash would: it is started again like one that died. */
  terminate(): Promise<void>;
}

/** A thread that dies within this long of starting is started again after a growing delay. */
const STABLE_MS = 10_000;
const RESTART_INITIAL_MS = 100;
const RESTART_MAX_MS = 5000;

interface Running {
  readonly worker: Worker;
  readonly address: AddressInfo;
  readonly exited: Promise<number>;
}

/** Starts one thread; resolves once it listens, rejects as startTrafficController would (a ConfigError stays one). */
function spawn(config: Config, logger: Logger): Promise<Running> {
  const data: TrafficControllerWorkerData = { config, logLevel: logger.level ?? config.logLevel };
  const worker = new Worker(workerScript(__dirname, __filename, 'trafficControllerWorker'), { workerData: data, stdout: false, stderr: false });
  const exited = new Promise<number>(resolve => worker.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    worker.on('message', (message: FromTrafficControllerWorker) => {
      if (message.kind === 'log') return logForwarded(logger, message);
      if (message.kind === 'failed') {
        failure = message.name === 'ConfigError' ? new ConfigError(message.error) : new Error(message.error);
        return;
      }
      resolve({ worker, exited, address: { address: message.address, family: message.family, port: message.port } });
    });
    worker.on('error', err => (failure ??= err));
    void exited.then(code => reject(failure ?? new Error(`the traffic controller's thread exited with ${code} before it listened`)));
  });
}

/**
 * The traffic controller in a worker thread of its own (src/trafficController/trafficControllerWorker.ts).
 * Resolves once it listens; rejects if it cannot start. A thread that dies later is logged and
 * started again on the same port (clients reconnect, as `logs` does), after 0.1 s doubling to
 * 5 s while it keeps dying within 10 s of its start.
 */
export async function startTrafficControllerThread(config: Config, logger: Logger): Promise<TrafficControllerThread> {
  let current = await spawn(config, logger);
  const address = current.address;
  // Started again on the port it has, not port 0 again: clients know that address.
  const again: Config = { ...config, trafficController: { ...config.trafficController, http: { ...config.trafficController.http, port: address.port } } };
  let closing = false;
  let delayMs = 0;
  let startedAt = Date.now();
  let restartTimer: NodeJS.Timeout | undefined;

  const watch = (running: Running) => {
    void running.exited.then(code => {
      if (closing || running !== current) return;
      delayMs = Date.now() - startedAt >= STABLE_MS ? 0 : Math.min(RESTART_MAX_MS, Math.max(RESTART_INITIAL_MS, delayMs * 2));
      logger.error('the traffic controller thread died; starting it again (its clients reconnect)', { exitCode: code, restartInMs: delayMs });
      const restart = () => {
        restartTimer = undefined;
        if (closing) return;
        startedAt = Date.now();
        spawn(again, logger).then(
          next => {
            current = next;
            watch(next);
            if (closing) void next.worker.terminate();
          },
          err => {
            logger.error('the traffic controller thread could not start again', { error: String(err.message ?? err) });
            delayMs = Math.min(RESTART_MAX_MS, Math.max(RESTART_INITIAL_MS, delayMs * 2));
            restartTimer = setTimeout(restart, delayMs);
          },
        );
      };
      restartTimer = setTimeout(restart, delayMs);
    });
  };
  watch(current);

  return {
    httpAddress: address,
    terminate: async () => {
      await current.worker.terminate();
    },
    close: async (timeoutMs = config.router.shutdownSeconds * 1000) => {
      closing = true;
      clearTimeout(restartTimer);
      const { worker, exited } = current;
      worker.postMessage({ kind: 'close' });
      const timer = setTimeout(() => void worker.terminate(), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
