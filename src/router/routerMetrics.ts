import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Registry } from 'prom-client';
import { RejectReason } from '../envelope/codec';
import { RefusedReason } from '../http/refusal';
import { ProcessMetrics, collectProcessMetrics } from '../processMetrics';

export type DropReason = 'tail_slow_consumer' | 'firehose_slow_consumer' | 'recent_evicted' | 'worker_behind' | 'worker_restarting' | 'worker_died';

/** The router's self metrics, in their own registry (no globals: several routers per process in tests). */
export class RouterMetrics {
  readonly registry = new Registry();
  private readonly processMetrics: ProcessMetrics | undefined;
  /** Accepted envelopes not yet added to the counter: a plain increment on the hot path. */
  private pendingIngested = 0;
  readonly ingested = new Counter({
    name: 'loggregator_ingested_total',
    help: 'Envelopes accepted from UDP.',
    registers: [this.registry],
    collect: () => {
      this.ingested.inc(this.pendingIngested);
      this.pendingIngested = 0;
    },
  });

  countIngested(): void {
    this.pendingIngested++;
  }
  readonly rejected = new Counter<'reason'>({
    name: 'loggregator_rejected_total',
    help: 'Datagrams rejected, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly dropped = new Counter<'reason'>({
    name: 'loggregator_dropped_total',
    help: 'Accepted lines dropped before a consumer got them, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly refused = new Counter<'reason'>({
    name: 'loggregator_http_refused_total',
    help: 'HTTP and websocket requests refused, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly registrationErrors = new Counter({
    name: 'loggregator_router_registration_errors_total',
    help: 'Lost etcd leases and failed registrations of this router (each is retried).',
    registers: [this.registry],
  });
  readonly tailClients = new Gauge({
    name: 'loggregator_tail_clients',
    help: 'Websocket tail clients connected.',
    registers: [this.registry],
  });
  readonly firehoseClients = new Gauge({
    name: 'loggregator_router_firehose_clients',
    help: "Firehose streams (every app's lines, one per traffic controller) connected.",
    registers: [this.registry],
  });

  constructor(recent: { appCount: number; lineCount: number; byteCount: number }, opts: { defaultMetrics?: boolean } = {}) {
    // Every reason shows from the start at 0, so alerts can be written before the first failure.
    const reasons: RejectReason[] = ['oversized', 'invalid_utf8', 'not_json', 'invalid_envelope', 'unsigned', 'bad_signature', 'bad_syslog'];
    reasons.forEach(reason => this.rejected.inc({ reason }, 0));
    (['tail_slow_consumer', 'firehose_slow_consumer', 'recent_evicted', 'worker_behind', 'worker_restarting', 'worker_died'] as DropReason[]).forEach(reason => this.dropped.inc({ reason }, 0));
    (['bad_request', 'not_found', 'method_not_allowed', 'too_many_clients', 'origin_not_allowed', 'unauthorized'] as RefusedReason[]).forEach(reason =>
      this.refused.inc({ reason }, 0),
    );
    new Gauge({
      name: 'loggregator_recent_apps',
      help: 'Apps with recent lines retained.',
      registers: [this.registry],
      collect() {
        this.set(recent.appCount);
      },
    });
    new Gauge({
      name: 'loggregator_recent_lines',
      help: 'Recent lines retained.',
      registers: [this.registry],
      collect() {
        this.set(recent.lineCount);
      },
    });
    new Gauge({
      name: 'loggregator_recent_bytes',
      help: 'Approximate bytes of recent lines retained.',
      registers: [this.registry],
      collect() {
        this.set(recent.byteCount);
      },
    });
    // Process-wide (CPU, memory, event loop): a worker of a multi-worker router leaves them to the reader.
    if (opts.defaultMetrics ?? true) this.processMetrics = collectProcessMetrics(this.registry);
    else {
      // But its heap is its own (an isolate per thread): reported under the reader's names, so
      // that the router's summed /metrics says the heap of all its threads.
      const heapGauge = (name: string, help: string, read: (heap: ReturnType<typeof getHeapStatistics>) => number) =>
        new Gauge({
          name,
          help,
          registers: [this.registry],
          collect() {
            this.set(read(getHeapStatistics()));
          },
        });
      heapGauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', heap => heap.used_heap_size);
      heapGauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', heap => heap.total_heap_size);
    }
  }

  /** Ends what the process metrics started, so that a closed router is not kept in memory. */
  close(): void {
    this.processMetrics?.stop();
  }
}
