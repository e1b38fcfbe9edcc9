// The process's own metrics (CPU, memory, file descriptors, handles, GC, event loop lag) in a
// component's registry, as prom-client's collectDefaultMetrics makes them, for as long as the
// component runs.
//
// collectDefaultMetrics starts a PerformanceObserver of GC and an event-loop-delay histogram
// (sampling on a timer of its own) and offers no way to end them: they outlived the router, agent
// or traffic controller that closed, and through its registry kept all of it in memory (a process
// that starts and closes routers, as the specs do, grew by each). Both are caught as
// collectDefaultMetrics makes them, so that stop() can end them.
import type { IntervalHistogram, PerformanceObserver as Observer } from 'node:perf_hooks';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface ProcessMetrics {
  /** Ends the GC observer and the event loop delay histogram; the registry can then be let go. */
  stop(): void;
}

/** The part of node:perf_hooks that collectDefaultMetrics reads when it is called. */
interface PerfHooksMakers {
  PerformanceObserver: typeof Observer;
  monitorEventLoopDelay: (options?: { resolution?: number }) => IntervalHistogram;
}

export function collectProcessMetrics(registry: Registry): ProcessMetrics {
  // The module object itself (prom-client reads its properties at each call), not a copy of it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const perfHooks = require('node:perf_hooks') as PerfHooksMakers;
  const { PerformanceObserver, monitorEventLoopDelay } = perfHooks;
  const observers: Observer[] = [];
  const histograms: IntervalHistogram[] = [];
  perfHooks.PerformanceObserver = class CaughtObserver extends PerformanceObserver {
    constructor(callback: ConstructorParameters<typeof Observer>[0]) {
      super(callback);
      observers.push(this);
    }
  };
  perfHooks.monitorEventLoopDelay = options => {
    const histogram = monitorEventLoopDelay(options);
    histograms.push(histogram);
    return histogram;
  };
  try {
    collectDefaultMetrics({ register: registry });
  } finally {
    perfHooks.PerformanceObserver = PerformanceObserver;
    perfHooks.monitorEventLoopDelay = monitorEventLoopDelay;
  }
  let stopped = false;
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const observer of observers) observer.disconnect();
      for (const histogram of histograms) histogram.disable();
    },
  };
}
