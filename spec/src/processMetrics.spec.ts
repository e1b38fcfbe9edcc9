// The process's own metrics in a component's registry: prom-client's default metrics, and a
// stop() after which nothing prom-client started keeps the registry (and the component it
// describes) in memory.
import { Registry } from 'prom-client';
import { collectProcessMetrics } from '../../src/processMetrics';
import { collectGarbage, isLetGo } from '../support/letGo';

/** Whether what `make` returns is let go once only a WeakRef refers to it. */
const letGo = (make: () => object) => isLetGo(new WeakRef(make()));

describe('collectProcessMetrics', () => {
  it("puts prom-client's default metrics in the registry: CPU, memory, event loop lag, GC", async () => {
    const registry = new Registry();
    const metrics = collectProcessMetrics(registry);
    try {
      const names = (await registry.getMetricsAsJSON()).map(m => m.name);
      expect(names).toEqual(
        expect.arrayContaining(['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_gc_duration_seconds']),
      );
    } finally {
      metrics.stop();
    }
  });

  it('observes GC durations until stop(), and no more after it', async () => {
    const registry = new Registry();
    const metrics = collectProcessMetrics(registry);
    /** GCs observed: the histogram's count, summed over the kinds. */
    const observed = async () => {
      const { values } = (await registry.getSingleMetric('nodejs_gc_duration_seconds')!.get()) as { values: { metricName?: string; value: number }[] };
      return values.filter(v => v.metricName === 'nodejs_gc_duration_seconds_count').reduce((n, v) => n + v.value, 0);
    };
    try {
      collectGarbage();
      // The observer hears of a GC after it, in a later turn.
      for (let i = 0; i < 20 && (await observed()) === 0; i++) await new Promise(resolve => setTimeout(resolve, 10));
      expect(await observed()).toBeGreaterThan(0);
    } finally {
      metrics.stop();
    }
    const before = await observed();
    collectGarbage();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(await observed()).toBe(before);
  });

  it('lets the registry go once stopped', async () => {
    expect(
      await letGo(() => {
        const registry = new Registry();
        collectProcessMetrics(registry).stop();
        return registry;
      }),
    ).toBe(true);
  });

  it('keeps it while it runs (what stop() ends: the GC observer holds it)', async () => {
    let metrics: ReturnType<typeof collectProcessMetrics> | undefined;
    try {
      expect(
        await letGo(() => {
          const registry = new Registry();
          metrics = collectProcessMetrics(registry);
          return registry;
        }),
      ).toBe(false);
    } finally {
      metrics?.stop();
    }
  });

  it('leaves node:perf_hooks as it was', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const perfHooks = require('node:perf_hooks') as typeof import('node:perf_hooks');
    const { PerformanceObserver, monitorEventLoopDelay } = perfHooks;
    collectProcessMetrics(new Registry()).stop();
    expect(perfHooks.PerformanceObserver).toBe(PerformanceObserver);
    expect(perfHooks.monitorEventLoopDelay).toBe(monitorEventLoopDelay);
  });
});
