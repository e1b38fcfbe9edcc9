import { TailLine } from './tailLine';

/** A row of the console: a line of the app, or a note of the console's own (disconnected, live again). */
export type Row = { readonly kind: 'line'; readonly line: TailLine } | { readonly kind: 'note'; readonly text: string };

/**
 * The rows the console keeps: the newest `capacity`, each numbered in arrival order (its seq);
 * older ones are dropped, oldest first, and counted. Bounded however fast lines come and however
 * long the tab is in the background (where animation frames stop and nothing is drawn).
 */
export class RowStore {
  private readonly rows: (Row | undefined)[];
  /** Seq of the next row pushed. */
  private next = 0;
  /** Rows dropped since the start to stay within capacity. */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.rows = new Array<Row | undefined>(capacity);
  }

  /** Keeps the row (dropping the oldest if full); its seq. */
  push(row: Row): number {
    if (this.next - this.firstSeq >= this.capacity) this.dropped++;
    this.rows[this.next % this.capacity] = row;
    return this.next++;
  }

  /** Seq of the oldest row kept (equal to nextSeq when none is). */
  get firstSeq(): number {
    return Math.max(0, this.next - this.capacity);
  }

  get nextSeq(): number {
    return this.next;
  }

  get size(): number {
    return this.next - this.firstSeq;
  }

  /** The row with this seq, if it is still kept. */
  at(seq: number): Row | undefined {
    return seq >= this.firstSeq && seq < this.next ? this.rows[seq % this.capacity] : undefined;
  }
}
