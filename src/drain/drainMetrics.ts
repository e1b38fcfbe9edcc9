import { Counter, Gauge, Registry } from 'prom-client';

/** Why a drain lost lines. */
export type DrainDropReason = 'queue_full' | 'rejected' | 'unbound';

/** The counters of one running drain, labelled with its app and its public name. */
export interface DrainCounters {
  sent(n: number): void;
  resent(n: number): void;
  dropped(n: number, reason: DrainDropReason): void;
  failed(): void;
  /** The writer stopped: its series go away, so churn of bindings does not grow the registry. */
  release(): void;
}

/** Drain and binding metrics, registered in the router's registry. */
export class DrainMetrics {
  private readonly sent: Counter<'app' | 'drain'>;
  private readonly resent: Counter<'app' | 'drain'>;
  private readonly dropped: Counter<'app' | 'drain' | 'reason'>;
  private readonly errors: Counter<'app' | 'drain'>;
  readonly drains: Gauge;
  readonly bindingsInvalid: Counter;
  readonly storeErrors: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sent = new Counter({ name: 'loggregator_drain_sent_total', help: 'Syslog frames written to a drain (TCP/TLS) or accepted by it (HTTPS).', labelNames: ['app', 'drain'], registers });
    this.resent = new Counter({ name: 'loggregator_drain_resent_total', help: 'Frames written again after a connection broke or a POST failed.', labelNames: ['app', 'drain'], registers });
    this.dropped = new Counter({ name: 'loggregator_drain_dropped_total', help: 'Lines a drain lost: queue_full (oldest dropped), rejected (HTTPS 4xx), unbound (not flushed in time on unbind or shutdown).', labelNames: ['app', 'drain', 'reason'], registers });
    this.errors = new Counter({ name: 'loggregator_drain_errors_total', help: 'Failed connections, handshakes, writes and POSTs of a drain.', labelNames: ['app', 'drain'], registers });
    this.drains = new Gauge({ name: 'loggregator_drains', help: 'Drain writers running.', registers });
    this.bindingsInvalid = new Counter({ name: 'loggregator_bindings_invalid_total', help: 'Binding records ignored as invalid (bad JSON, unsupported scheme, missing host, too many per app).', registers });
    this.storeErrors = new Counter({ name: 'loggregator_binding_store_errors_total', help: 'Failures reading or watching the binding store; the last known bindings stay in effect.', registers });
  }

  /** Writers per label set: two drains of one public name (URLs differing in a token) share a series. */
  private readonly users = new Map<string, number>();

  forDrain(app: string, drain: string): DrainCounters {
    const labels = { app, drain };
    const reasons: DrainDropReason[] = ['queue_full', 'rejected', 'unbound'];
    const id = `${app}\n${drain}`;
    this.users.set(id, (this.users.get(id) ?? 0) + 1);
    this.sent.inc(labels, 0);
    this.resent.inc(labels, 0);
    this.errors.inc(labels, 0);
    reasons.forEach(reason => this.dropped.inc({ ...labels, reason }, 0));
    this.drains.inc();
    let released = false;
    return {
      sent: n => this.sent.inc(labels, n),
      resent: n => this.resent.inc(labels, n),
      dropped: (n, reason) => this.dropped.inc({ ...labels, reason }, n),
      failed: () => this.errors.inc(labels),
      release: () => {
        if (released) return;
        released = true;
        this.drains.dec();
        const left = (this.users.get(id) ?? 1) - 1;
        if (left > 0) return void this.users.set(id, left);
        this.users.delete(id);
        this.sent.remove(labels);
        this.resent.remove(labels);
        this.errors.remove(labels);
        reasons.forEach(reason => this.dropped.remove({ ...labels, reason }));
      },
    };
  }
}
