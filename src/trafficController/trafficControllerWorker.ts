// serve's traffic controller in a thread of its own (with router.workers above 1), so that its
// work per line (the routers' frames in, the clients' frames out) runs beside the router's on
// another core instead of sharing the router's reader thread. Messages: { kind: 'close' } in;
// ready, failed and forwarded log entries out.
import { parentPort, workerData } from 'node:worker_threads';
import { Config } from '../config/loadConfig';
import { ForwardedLog, forwardingLogger } from '../workerThreads';
import { TrafficController, startTrafficController } from './trafficController';

export interface TrafficControllerWorkerData {
  readonly config: Config;
  readonly logLevel: string;
}

export type FromTrafficControllerWorker =
  | { readonly kind: 'ready'; readonly address: string; readonly family: string; readonly port: number }
  | { readonly kind: 'failed'; readonly error: string; readonly name: string }
  | ForwardedLog;

function run(port: NonNullable<typeof parentPort>, data: TrafficControllerWorkerData): void {
  const logger = forwardingLogger(port, data.logLevel, {});
  const reply = (message: FromTrafficControllerWorker) => port.postMessage(message);
  let tc: TrafficController | undefined;
  let closing = false;
  port.on('message', (message: { kind: 'close' }) => {
    if (message.kind !== 'close' || closing) return;
    closing = true;
    void (tc?.close() ?? Promise.resolve())
      .catch(err => logger.error('error while stopping the traffic controller', { error: String(err) }))
      .then(() => {
        port.close();
        process.exit(0);
      });
  });
  startTrafficController(data.config, logger).then(
    started => {
      tc = started;
      const { address, family, port: httpPort } = started.httpAddress;
      reply({ kind: 'ready', address, family, port: httpPort });
    },
    err => {
      reply({ kind: 'failed', error: String((err as Error).message ?? err), name: String((err as Error).name) });
      port.close();
      process.exit(1);
    },
  );
}

if (parentPort) run(parentPort, workerData as TrafficControllerWorkerData);
