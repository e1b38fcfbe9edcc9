import { ALL_LINES, FilterScope, LineFilter, MESSAGE_ONLY, rowTest } from './lineFilter';
import { Row, RowStore } from './rowStore';

/**
 * Which of the kept rows the reader sees, in order: those the filter passes among the rows
 * released to the view. While paused nothing is released; rows that come wait (kept, counted in
 * `waiting`) until resume. A filter applies to what is shown and to what comes. A row the store
 * drops leaves the view too.
 *
 *   store     r0 r1 r2 r3 r4 r5 r6            (r0, r1 dropped: capacity 5)
 *   released  ──────────────┘                 (paused after r4)
 *   shown     r2 r4                           (the filter passes r2, r4, r6)
 *   waiting   1                               (r6)
 */
export class ShownRows {
  /** Seqs of the rows shown, oldest first, from `head` on (the array is compacted now and then). */
  private seqs: number[] = [];
  private head = 0;
  /** Rows with a seq below this have been released to the view. */
  private released = 0;
  private test: (row: Row) => boolean;
  paused = false;

  constructor(
    private readonly store: RowStore,
    private readonly scope: FilterScope = MESSAGE_ONLY,
  ) {
    this.test = rowTest(ALL_LINES, scope);
  }

  /** Rows shown now. */
  get length(): number {
    return this.seqs.length - this.head;
  }

  /** The seq of the index-th row shown (0: the oldest). */
  seqAt(index: number): number {
    return this.seqs[this.head + index];
  }

  rowAt(index: number): Row | undefined {
    return this.store.at(this.seqAt(index));
  }

  /**
   * Takes what the store did since the last call: releases the rows that came (unless paused),
   * and lets go of those it dropped. Returns how many shown rows were let go of (from the top).
   */
  update(): number {
    let gone = 0;
    const first = this.store.firstSeq;
    while (this.head < this.seqs.length && this.seqs[this.head] < first) {
      this.head++;
      gone++;
    }
    if (this.head > 1024 && this.head * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
    if (!this.paused) this.release(this.store.nextSeq);
    return gone;
  }

  /** Rows that came while paused and would be shown on resume (those the filter passes and still kept). */
  get waiting(): number {
    if (!this.paused) return 0;
    let n = 0;
    for (let seq = Math.max(this.released, this.store.firstSeq); seq < this.store.nextSeq; seq++) {
      if (this.test(this.store.at(seq) as Row)) n++;
    }
    return n;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.update();
  }

  /** Shows what the filter passes among the rows released so far, and from now on. */
  setFilter(filter: LineFilter): void {
    this.test = rowTest(filter, this.scope);
    this.seqs = [];
    this.head = 0;
    const end = this.released;
    this.released = this.store.firstSeq;
    this.release(end);
  }

  private release(end: number): void {
    for (let seq = Math.max(this.released, this.store.firstSeq); seq < end; seq++) {
      if (this.test(this.store.at(seq) as Row)) this.seqs.push(seq);
    }
    this.released = Math.max(this.released, end);
  }

  /** The rows shown, oldest first. */
  *rows(): Iterable<Row> {
    for (let i = this.head; i < this.seqs.length; i++) {
      const row = this.store.at(this.seqs[i]);
      if (row !== undefined) yield row;
    }
  }
}
