/**
 * Lines per second of the app over the last `seconds`, by the lines' own timestamps (so the
 * recent lines a tail starts with fill in the past, and a burst delivered late after a reconnect
 * lands where it happened). A line stamped in the future (a sender's clock ahead) counts in the
 * current second; one older than the window is not counted.
 */
export class LineRate {
  private readonly counts: Uint32Array;
  /** The second each slot counts, so a slot from a past round of the ring reads as 0. */
  private readonly slotSecond: Float64Array;

  constructor(readonly seconds = 60) {
    this.counts = new Uint32Array(seconds);
    this.slotSecond = new Float64Array(seconds).fill(-1);
  }

  count(timestampMs: number, nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    const second = Math.min(Math.floor(timestampMs / 1000), now);
    if (second <= now - this.seconds) return;
    const slot = this.slotOf(second);
    if (this.slotSecond[slot] !== second) {
      this.slotSecond[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot]++;
  }

  private slotOf(second: number): number {
    return ((second % this.seconds) + this.seconds) % this.seconds;
  }

  /** Lines in each of the last `seconds` seconds, oldest first; the last is the current (partial) second. */
  series(nowMs: number): number[] {
    const now = Math.floor(nowMs / 1000);
    const out: number[] = [];
    for (let second = now - this.seconds + 1; second <= now; second++) {
      const slot = this.slotOf(second);
      out.push(this.slotSecond[slot] === second ? this.counts[slot] : 0);
    }
    return out;
  }
}
