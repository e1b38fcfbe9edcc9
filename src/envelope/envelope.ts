// The one message type that crosses every boundary (field names after loggregator's 2014 LogMessage).

export type MessageType = 'OUT' | 'ERR';

export interface Envelope {
  readonly appId: string;
  readonly sourceType: string;
  readonly sourceInstance: string;
  readonly messageType: MessageType;
  /** Nanoseconds since the Unix epoch, as a decimal string: a JSON number cannot hold them. */
  readonly timestamp: string;
  readonly message: string;
}

/** Largest timestamp a signed 64-bit nanosecond clock can hold (year 2262). */
export const MAX_TIMESTAMP_NS = 9223372036854775807n;

/** Nanoseconds since the epoch for a millisecond clock reading (a scheduler's `now()`). */
export function nsFromMs(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

/** Milliseconds since the epoch for an envelope timestamp (for display and comparisons). */
export function msFromNs(ns: string): number {
  return Number(BigInt(ns) / 1_000_000n);
}

let anchorWallNs = 0n;
let anchorMonoNs = 0n;

/**
 * Wall-clock time now in ns, with sub-millisecond precision: a monotonic reading relative to a
 * wall-clock anchor taken again every second, so that a clock step (NTP, a VM resumed) shows up
 * within a second instead of never, as it would with performance.timeOrigin.
 */
export function nowNs(): string {
  const mono = process.hrtime.bigint();
  if (mono - anchorMonoNs > 1_000_000_000n || anchorWallNs === 0n) {
    anchorWallNs = BigInt(Date.now()) * 1_000_000n;
    anchorMonoNs = mono;
  }
  return (anchorWallNs + (mono - anchorMonoNs)).toString();
}
