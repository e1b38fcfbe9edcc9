import { Counter, Gauge, Registry } from 'prom-client';
import { INVALID_ROUTER_RECORD_REASONS } from '../cluster/routerRecord';
import { ProcessMetrics, collectProcessMetrics } from '../processMetrics';

/** The agent's self metrics, in their own registry. */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly processMetrics: ProcessMetrics;
  /** Lines read and not yet added to the counter: a plain increment on the hot path. */
  private pendingStdout = 0;
  private pendingStderr = 0;
  readonly lines = new Counter<'stream'>({
    name: 'loggregator_agent_lines_total',
    help: 'Lines read from instance sockets, by stream.',
    labelNames: ['stream'],
    registers: [this.registry],
    collect: () => {
      this.lines.inc({ stream: 'stdout' }, this.pendingStdout);
      this.lines.inc({ stream: 'stderr' }, this.pendingStderr);
      this.pendingStdout = this.pendingStderr = 0;
    },
  });

  countLine(stderr: boolean): void {
    if (stderr) this.pendingStderr++;
    else this.pendingStdout++;
  }
  readonly dropped = new Counter<'reason'>({
    name: 'loggregator_agent_dropped_total',
    help: 'Lines not sent, by reason (router_refused: refusals, each of one datagram).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly routers = new Gauge({
    name: 'loggregator_agent_routers',
    help: 'Routers in the current set (apps are spread over them by rendezvous hashing).',
    registers: [this.registry],
  });
  readonly discoveryErrors = new Counter({
    name: 'loggregator_agent_router_discovery_errors_total',
    help: 'Failed reads or watches of the routers in etcd (the last known set stays in use; retried with backoff).',
    registers: [this.registry],
  });
  readonly invalidRouterRecords = new Counter<'reason'>({
    name: 'loggregator_agent_invalid_router_records_total',
    help: 'Router records in etcd left out as invalid, by reason (each logged once, with its key and what is wrong).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly instancesRejected = new Counter<'reason'>({
    name: 'loggregator_agent_instances_file_rejected_total',
    help: 'Reads of instances.json that could not be used (the running set was kept), by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly reconnects = new Counter<'stream'>({
    name: 'loggregator_agent_socket_reconnects_total',
    help: 'Instance socket connections retried (missing, refused, broken or ended).',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly instances = new Gauge({
    name: 'loggregator_agent_instances',
    help: 'Instances being read.',
    registers: [this.registry],
  });

  constructor() {
    this.discoveryErrors.inc(0);
    INVALID_ROUTER_RECORD_REASONS.forEach(reason => this.invalidRouterRecords.inc({ reason }, 0));
    ['stdout', 'stderr'].forEach(stream => {
      this.lines.inc({ stream }, 0);
      this.reconnects.inc({ stream }, 0);
    });
    ['send_queue_full', 'send_error', 'no_router', 'router_refused'].forEach(reason => this.dropped.inc({ reason }, 0));
    ['unreadable', 'not_json', 'invalid'].forEach(reason => this.instancesRejected.inc({ reason }, 0));
    this.processMetrics = collectProcessMetrics(this.registry);
  }

  /** Ends what the process metrics started, so that a closed agent is not kept in memory. */
  close(): void {
    this.processMetrics.stop();
  }
}
