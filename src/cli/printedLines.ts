// The lines `logs` printed last, to recognise them when a reconnect (recent=true) replays the
// app's recent lines. The replay is the target's recent buffer, not our stream: merged from
// several routers it may interleave differently than the live lines did, so each replayed line
// is looked up on its own, not matched as a run. Lines are counted, not just remembered, so a
// line that legitimately came twice (same text, same timestamp) is skipped only as often as it
// was printed, and a third copy sent while we were away is printed.
// No node module here: the web console (src/console/) skips replayed lines with this class too.
import Denque from 'denque';

/**
 * A bounded multiset of the identities printed last (`capacity` of them, oldest forgotten first),
 * and, while a replay is coming, how many more times each may still be skipped.
 * `capacity` should be at least the longest replay the target sends: a line printed before the
 * newest `capacity` cannot be recognised and would be printed again.
 */
export class PrintedLines {
  private readonly order = new Denque<string>();
  private readonly counts = new Map<string, number>();
  /** During a replay: identities that may still be skipped, with how many times. */
  private credits = new Map<string, number>();
  private creditsLeft = 0;
  /** The replay has no end marker; it is at most `capacity` frames, so skipping stops after that. */
  private replayFramesLeft = 0;

  constructor(private readonly capacity: number) {}

  /** A connection that replays the recent lines has opened: what was printed may come again. */
  replayStarts(): void {
    this.credits = new Map(this.counts);
    this.creditsLeft = this.order.length;
    this.replayFramesLeft = this.creditsLeft > 0 ? this.capacity : 0;
  }

  /** Whether to print the line with this identity; one to print is remembered as printed. */
  admit(identity: string): boolean {
    if (this.replayFramesLeft > 0) {
      this.replayFramesLeft--;
      const credit = this.credits.get(identity) ?? 0;
      if (credit > 0) this.spend(identity, credit);
      if (this.creditsLeft === 0 || this.replayFramesLeft === 0) this.replayEnds();
      if (credit > 0) return false;
    }
    this.remember(identity);
    return true;
  }

  private spend(identity: string, credit: number): void {
    if (credit === 1) this.credits.delete(identity);
    else this.credits.set(identity, credit - 1);
    this.creditsLeft--;
  }

  /** Credits not spent by now were for lines the target no longer keeps: a copy of one that comes later is new. */
  private replayEnds(): void {
    this.credits = new Map();
    this.creditsLeft = 0;
    this.replayFramesLeft = 0;
  }

  private remember(identity: string): void {
    this.order.push(identity);
    this.counts.set(identity, (this.counts.get(identity) ?? 0) + 1);
    if (this.order.length <= this.capacity) return;
    const oldest = this.order.shift() as string;
    const count = this.counts.get(oldest) as number;
    if (count === 1) this.counts.delete(oldest);
    else this.counts.set(oldest, count - 1);
  }
}
