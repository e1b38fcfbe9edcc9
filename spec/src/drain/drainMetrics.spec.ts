// DrainMetrics on a registry of its own: one series per (app, public drain name), shared by every
// writer with that name (two bindings whose URLs differ only in a token have one public name),
// kept until the last of them is released.
//
//   forDrain(app, name) ×2  → one series; both writers count into it
//   release() the first     → the series stays (the other writer still counts), loggregator_drains 1
//   release() the second    → the series is gone, loggregator_drains 0
//   release() again         → nothing changes
import { Registry } from 'prom-client';
import { DrainMetrics } from '../../../src/drain/drainMetrics';

const APP = 'app-a';
const NAME = 'syslog://logs.example.com:514';

/** Every series of the metric whose labels match `labels`, as {labels, value}. */
async function series(registry: Registry, metric: string, labels: Record<string, string> = {}) {
  const m = registry.getSingleMetric(metric);
  if (!m) throw new Error(`no metric ${metric}`);
  const { values } = await m.get();
  return values.filter(v => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
}

/** The summed value of the matching series, or undefined when there is none. */
async function value(registry: Registry, metric: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const found = await series(registry, metric, labels);
  return found.length === 0 ? undefined : found.reduce((sum, v) => sum + v.value, 0);
}

const gauge = async (registry: Registry) => value(registry, 'loggregator_drains');

describe('DrainMetrics', () => {
  let registry: Registry;
  let metrics: DrainMetrics;

  beforeEach(() => {
    registry = new Registry();
    metrics = new DrainMetrics(registry);
  });

  it('gives two writers of one app and public name one shared series, counted into by both', async () => {
    const a = metrics.forDrain(APP, NAME);
    const b = metrics.forDrain(APP, NAME);
    a.sent(3);
    b.sent(4);
    a.dropped(2, 'queue_full');
    b.dropped(1, 'queue_full');
    expect(await series(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toHaveLength(1);
    expect(await value(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toBe(7);
    expect(await value(registry, 'loggregator_drain_dropped_total', { app: APP, drain: NAME, reason: 'queue_full' })).toBe(3);
    expect(await gauge(registry)).toBe(2);
  });

  it('keeps the shared series when one of two writers is released: its value is still readable and the other keeps counting', async () => {
    const a = metrics.forDrain(APP, NAME);
    const b = metrics.forDrain(APP, NAME);
    a.sent(3);
    b.sent(4);
    a.failed();
    a.release();

    expect(await gauge(registry)).toBe(1);
    expect(await value(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toBe(7);
    expect(await value(registry, 'loggregator_drain_errors_total', { app: APP, drain: NAME })).toBe(1);
    expect(await value(registry, 'loggregator_drain_resent_total', { app: APP, drain: NAME })).toBe(0);
    for (const reason of ['queue_full', 'rejected', 'unbound']) {
      expect(await value(registry, 'loggregator_drain_dropped_total', { app: APP, drain: NAME, reason })).toBe(0);
    }

    b.sent(1);
    b.dropped(5, 'unbound');
    expect(await value(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toBe(8);
    expect(await value(registry, 'loggregator_drain_dropped_total', { app: APP, drain: NAME, reason: 'unbound' })).toBe(5);
  });

  it('removes every series of the name once the last writer is released', async () => {
    const a = metrics.forDrain(APP, NAME);
    const b = metrics.forDrain(APP, NAME);
    a.sent(3);
    a.release();
    b.release();

    expect(await gauge(registry)).toBe(0);
    for (const metric of ['loggregator_drain_sent_total', 'loggregator_drain_resent_total', 'loggregator_drain_errors_total', 'loggregator_drain_dropped_total']) {
      expect({ metric, series: await series(registry, metric, { app: APP, drain: NAME }) }).toEqual({ metric, series: [] });
    }
  });

  it('takes a second release of the same writer as a no-op: it neither frees the other writer\'s series nor lowers the gauge again', async () => {
    const a = metrics.forDrain(APP, NAME);
    const b = metrics.forDrain(APP, NAME);
    b.sent(2);
    a.release();
    a.release();
    expect(await gauge(registry)).toBe(1);
    expect(await value(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toBe(2);

    b.release();
    b.release();
    a.release();
    expect(await gauge(registry)).toBe(0);
    expect(await series(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toEqual([]);
  });

  it('starts a name afresh (at 0, with one writer) after its last writer went', async () => {
    const a = metrics.forDrain(APP, NAME);
    a.sent(9);
    a.release();
    const c = metrics.forDrain(APP, NAME);
    expect(await value(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toBe(0);
    c.sent(1);
    c.release();
    expect(await series(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toEqual([]);
    expect(await gauge(registry)).toBe(0);
  });

  it('does not share across apps or names: releasing one leaves the others\' series alone', async () => {
    const a = metrics.forDrain(APP, NAME);
    const otherApp = metrics.forDrain('app-b', NAME);
    const otherName = metrics.forDrain(APP, 'syslog://other.example.com:514');
    a.sent(1);
    otherApp.sent(2);
    otherName.sent(3);
    a.release();
    expect(await series(registry, 'loggregator_drain_sent_total', { app: APP, drain: NAME })).toEqual([]);
    expect(await value(registry, 'loggregator_drain_sent_total', { app: 'app-b', drain: NAME })).toBe(2);
    expect(await value(registry, 'loggregator_drain_sent_total', { app: APP, drain: 'syslog://other.example.com:514' })).toBe(3);
    expect(await gauge(registry)).toBe(2);
  });
});
