import { Logger } from '../logger';

/**
 * Logs rejected input without letting a flood of it flood the log: the first rejection of each
 * reason at once (with the offending detail), then at most one summary per reason per interval.
 * The exact counts are in the metrics.
 */
export class RejectionLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    /** The log message, e.g. "datagram rejected". */
    private readonly message: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(reason: string, detail: string): void {
    const t = this.now();
    const entry = this.last.get(reason);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(reason, { at: t, suppressed: 0 });
    this.logger.warn(this.message, { reason, detail, ...(suppressed > 0 && { alsoRejectedSinceLastLog: suppressed }) });
  }

  /** Forgets a reason (a router that left): keys that come and go must not grow the map. */
  forget(reason: string): void {
    this.last.delete(reason);
  }
}
