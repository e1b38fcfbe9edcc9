import { Counter, Gauge, Registry } from 'prom-client';
import { RefusedReason } from '../http/refusal';
import { INVALID_ROUTER_RECORD_REASONS } from '../cluster/routerRecord';
import { ProcessMetrics, collectProcessMetrics } from '../processMetrics';

/** The traffic controller's self metrics, in their own registry (serve runs a router beside it). */
export class TrafficControllerMetrics {
  readonly registry = new Registry();
  private readonly processMetrics: ProcessMetrics;
  readonly refused = new Counter({
    name: 'loggregator_tc_refused_total',
    help: 'Requests refused, by reason (bad request, no or unknown token, app not allowed, limits, router set not known yet).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly tailClients = new Gauge({
    name: 'loggregator_tc_tail_clients',
    help: 'Websocket tail clients connected to the traffic controller.',
    registers: [this.registry],
  });
  readonly routers = new Gauge({
    name: 'loggregator_tc_routers',
    help: 'Routers in the current set.',
    registers: [this.registry],
  });
  readonly routerDiscoveryErrors = new Counter({
    name: 'loggregator_tc_router_discovery_errors_total',
    help: 'Failed reads or watches of the routers in etcd (each retried with backoff; the last known set stays in use meanwhile).',
    registers: [this.registry],
  });
  readonly invalidRouterRecords = new Counter({
    name: 'loggregator_tc_invalid_router_records_total',
    help: 'Router records in etcd left out of the set, by reason (each record once, again only if what is wrong with it changes).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly routerStreamErrors = new Counter({
    name: 'loggregator_tc_router_stream_errors_total',
    help: "Tail streams from a router that failed to connect or broke (each is retried while the router is in the set).",
    labelNames: ['router'],
    registers: [this.registry],
  });
  readonly recentRouterFailures = new Counter({
    name: 'loggregator_tc_recent_router_failures_total',
    help: '/recent answers missing from a merge, by router and reason (timeout, unreachable, refused, too_large).',
    labelNames: ['router', 'reason'],
    registers: [this.registry],
  });
  readonly invalidRouterLines = new Counter({
    name: 'loggregator_tc_invalid_router_lines_total',
    help: 'Lines from routers that were not valid envelopes of the app asked for (skipped).',
    registers: [this.registry],
  });
  readonly revoked = new Counter({
    name: 'loggregator_tc_sessions_revoked_total',
    help: 'Open tail sessions closed because their token was no longer allowed to read the app.',
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'loggregator_tc_dropped_total',
    help: 'Lines dropped for tail clients that read too slowly.',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  readonly firehoseConsumers = new Gauge({
    name: 'loggregator_tc_firehose_consumers',
    help: 'Firehose consumers connected, by subscription.',
    labelNames: ['subscription'],
    registers: [this.registry],
  });
  readonly firehoseSent = new Counter({
    name: 'loggregator_tc_firehose_sent_total',
    help: "Frames written to firehose consumers, by subscription (each app's line once per subscription, a notice once per consumer). A subscription's series go when its last consumer leaves.",
    labelNames: ['subscription'],
    registers: [this.registry],
    collect: () => this.collecting.forEach(update => update()),
  });
  readonly firehoseDropped = new Counter({
    name: 'loggregator_tc_firehose_dropped_total',
    help: 'Lines dropped for firehose consumers that read too slowly, by subscription.',
    labelNames: ['subscription'],
    registers: [this.registry],
  });
  private readonly collecting: (() => void)[] = [];

  /** Runs `update` before each scrape (for counts kept outside the registry on the hot path). */
  beforeCollect(update: () => void): void {
    this.collecting.push(update);
  }

  /** Removes the series of a firehose subscription that has no consumer left. */
  forgetSubscription(id: string): void {
    this.firehoseConsumers.remove({ subscription: id });
    this.firehoseSent.remove({ subscription: id });
    this.firehoseDropped.remove({ subscription: id });
  }

  /** Removes the series of a router that left the set. */
  forgetRouter(id: string): void {
    this.routerStreamErrors.remove({ router: id });
    for (const reason of ['timeout', 'unreachable', 'refused', 'too_large']) this.recentRouterFailures.remove({ router: id, reason });
  }

  constructor() {
    const reasons: RefusedReason[] = ['bad_request', 'not_found', 'method_not_allowed', 'too_many_clients', 'origin_not_allowed', 'unauthorized', 'forbidden', 'authorizer_unavailable'];
    reasons.forEach(reason => this.refused.inc({ reason }, 0));
    this.refused.inc({ reason: 'routers_unknown' }, 0);
    this.refused.inc({ reason: 'routers_failed' }, 0);
    INVALID_ROUTER_RECORD_REASONS.forEach(reason => this.invalidRouterRecords.inc({ reason }, 0));
    this.routerDiscoveryErrors.inc(0);
    this.dropped.inc({ reason: 'tail_slow_consumer' }, 0);
    this.dropped.inc({ reason: 'firehose_slow_consumer' }, 0);
    this.invalidRouterLines.inc(0);
    this.revoked.inc(0);
    this.processMetrics = collectProcessMetrics(this.registry);
  }

  /** Ends what the process metrics started, so that a closed traffic controller is not kept in memory. */
  close(): void {
    this.processMetrics.stop();
  }
}
