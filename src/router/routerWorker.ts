// A worker thread of a multi-worker router (router.workers > 1): one share of the router's apps,
// run by the same pipeline as a single router (startRouterShard), fed by the reader's batches.
// Messages from the reader: a Uint8Array batch (envelope texts separated by "\n"), or
// { kind: 'metrics', id } and { kind: 'close' }. To it: ready, metrics, failed.
import { parentPort, workerData } from 'node:worker_threads';
import { Subject } from 'rxjs';
import { Config } from '../config/loadConfig';
import { ForwardedLog, forwardingLogger } from '../workerThreads';
import { RouterShard, startRouterShard } from './router';

export interface RouterWorkerData {
  readonly config: Config;
  /** The CAs its TLS drains trust, read by the reader at start. */
  readonly tlsCa: string[] | undefined;
  readonly index: number;
  readonly count: number;
  /** Bytes of batches taken so far, and lines (a BigInt64Array of 2 over it): the reader bounds its queue by them, and counts what a worker that dies held. */
  readonly consumed: SharedArrayBuffer;
  /** The reader's log level: its logger decides what is written, so the worker sends no more. */
  readonly logLevel: string;
}

export type ToWorker = Uint8Array | { readonly kind: 'metrics'; readonly id: number } | { readonly kind: 'close' };
export type FromWorker =
  | { readonly kind: 'ready'; readonly port: number }
  | { readonly kind: 'failed'; readonly error: string; readonly name: string }
  | ForwardedLog
  | { readonly kind: 'metrics'; readonly id: number; readonly metrics: unknown[] }
  | { readonly kind: 'closed' };

/** Lines taken from the batches per event-loop turn. */
const LINES_PER_TURN = 32;

function run(port: NonNullable<typeof parentPort>, data: RouterWorkerData): void {
  const logger = forwardingLogger(port, data.logLevel, { worker: data.index });
  const consumed = new BigInt64Array(data.consumed);
  const batch$ = new Subject<string>();
  const reply = (message: FromWorker) => port.postMessage(message);
  let shard: RouterShard | undefined;
  let closing = false;

  // At most LINES_PER_TURN lines per event-loop turn, as a single router reads its socket (libuv
  // reads up to 32 datagrams a turn): what its tail clients' sockets took in between frees their
  // queues before the next lines, so a batch does not reach them all at once.
  const batches: string[] = [];
  const sizes: number[] = [];
  let scheduled = false;
  const takeSome = () => {
    const text = batches[0];
    if (text !== undefined) {
      let end = -1;
      let lines = 0;
      while (lines < LINES_PER_TURN) {
        lines++;
        end = text.indexOf('\n', end + 1);
        if (end < 0) break;
      }
      if (end < 0) {
        batches.shift();
        batch$.next(text);
        Atomics.add(consumed, 0, BigInt(sizes.shift()!));
      } else {
        batch$.next(text.slice(0, end));
        batches[0] = text.slice(end + 1);
      }
      Atomics.add(consumed, 1, BigInt(lines));
    }
    scheduled = batches.length > 0;
    if (scheduled) setImmediate(takeSome);
  };

  port.on('message', (message: ToWorker) => {
    if (message instanceof Uint8Array) {
      batches.push(Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8'));
      sizes.push(message.byteLength);
      if (!scheduled) {
        scheduled = true;
        setImmediate(takeSome);
      }
    } else if (message.kind === 'metrics') {
      const metrics = shard?.metrics.registry.getMetricsAsJSON() ?? Promise.resolve([]);
      metrics.then(
        json => reply({ kind: 'metrics', id: message.id, metrics: json }),
        () => reply({ kind: 'metrics', id: message.id, metrics: [] }),
      );
    } else if (message.kind === 'close' && !closing) {
      closing = true;
      while (batches.length > 0) takeSome();
      batch$.complete();
      void (shard?.close() ?? Promise.resolve())
        .catch(err => logger.error('error while stopping the worker', { error: String(err) }))
        .then(() => {
          reply({ kind: 'closed' });
          port.close();
          process.exit(0);
        });
    }
  });

  startRouterShard(data.config, logger, { index: data.index, count: data.count, batch$ }, data.tlsCa).then(
    started => {
      shard = started;
      reply({ kind: 'ready', port: started.httpAddress.port });
    },
    err => {
      reply({ kind: 'failed', error: String((err as Error).message ?? err), name: String((err as Error).name) });
      port.close();
      process.exit(1);
    },
  );
}

if (parentPort) run(parentPort, workerData as RouterWorkerData);
