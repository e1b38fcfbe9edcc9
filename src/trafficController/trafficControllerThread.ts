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
}

/**
 * The traffic controller in a worker thread of its own (src/trafficController/trafficControllerWorker.ts).
 * Resolves once it listens; rejects as startTrafficController would (a ConfigError stays one).
 * A thread that dies after starting takes the front door with it: that is logged as an error,
 * and the process goes on serving the routers (as with a traffic controller process that died).
 */
export function startTrafficControllerThread(config: Config, logger: Logger): Promise<TrafficControllerThread> {
  const data: TrafficControllerWorkerData = { config, logLevel: logger.level ?? config.logLevel };
  const worker = new Worker(workerScript(__dirname, __filename, 'trafficControllerWorker'), { workerData: data, stdout: false, stderr: false });
  return new Promise((resolve, reject) => {
    let started = false;
    let closing = false;
    let failure: Error | undefined;
    worker.on('message', (message: FromTrafficControllerWorker) => {
      if (message.kind === 'log') return logForwarded(logger, message);
      if (message.kind === 'failed') {
        failure = message.name === 'ConfigError' ? new ConfigError(message.error) : new Error(message.error);
        return;
      }
      started = true;
      const exited = new Promise<void>(done => worker.once('exit', () => done()));
      resolve({
        httpAddress: { address: message.address, family: message.family, port: message.port },
        close: async (timeoutMs = config.router.shutdownSeconds * 1000) => {
          closing = true;
          worker.postMessage({ kind: 'close' });
          const timer = setTimeout(() => void worker.terminate(), timeoutMs);
          await exited;
          clearTimeout(timer);
        },
      });
    });
    worker.on('error', err => (failure ??= err));
    worker.once('exit', code => {
      if (!started) return reject(failure ?? new Error(`the traffic controller's thread exited with ${code} before it listened`));
      if (!closing) logger.error('the traffic controller thread died; clients cannot reach the routers until the process is restarted', { exitCode: code, error: String(failure?.message ?? '') });
    });
  });
}
