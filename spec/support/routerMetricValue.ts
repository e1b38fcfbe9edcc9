// Reads a router's self metrics from its registry (no HTTP round trip, no text parsing); with
// several workers, the registry that sums theirs.
import { Router } from '../../src/router/router';

/** The metric's value summed over the series whose labels match `labels` (all series if none). */
export async function metricValue(router: Router, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await router.metricsRegistry()).getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter(v => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Datagrams the router has dealt with so far: accepted plus rejected for any reason. */
export async function datagramsSeen(router: Router): Promise<number> {
  return (await metricValue(router, 'loggregator_ingested_total')) + (await metricValue(router, 'loggregator_rejected_total'));
}

/** Every rejection count by reason. */
export async function rejectedByReason(router: Router): Promise<Record<string, number>> {
  const metric = (await router.metricsRegistry()).getSingleMetric('loggregator_rejected_total');
  if (!metric) throw new Error('no metric loggregator_rejected_total');
  const { values } = await metric.get();
  return Object.fromEntries(values.map(v => [String(v.labels.reason), v.value]));
}
