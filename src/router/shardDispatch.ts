/**
 * The envelopes a multi-worker router's reader hands to its workers, gathered per worker and
 * handed over as one batch (the envelopes' texts separated by "\n", in arrival order; see
 * decodeEnvelopeLines): one message between threads for many lines, as a message costs about
 * what the reader spends on ten lines. A batch goes when it is full (`maxBatchParts` envelopes
 * or `maxBatchBytes`), else at the end of the event-loop turn when its worker has taken every
 * batch before it (it would wait for nothing) or nothing was handed over for `coalesceMs`, else
 * `coalesceMs` after the last hand-over: a line for an idle worker waits for no timer, and a busy
 * worker gets a batch about every `coalesceMs`, not one per turn of a few datagrams.
 */
export class ShardDispatch {
  private readonly parts: Buffer[][];
  private readonly bytes: number[];
  private scheduled = false;
  private lastFlushAt = -Infinity;

  constructor(
    shards: number,
    /** Hands a batch to its worker (the buffer is the batch's own: it may be transferred). */
    private readonly send: (shard: number, batch: Uint8Array, lines: number) => void,
    /** Whether a worker has taken every batch handed to it. */
    private readonly idle: (shard: number) => boolean = () => false,
    private readonly maxBatchBytes = 256 * 1024,
    private readonly maxBatchParts = 512,
    private readonly coalesceMs = 1,
  ) {
    this.parts = Array.from({ length: shards }, () => []);
    this.bytes = new Array<number>(shards).fill(0);
  }

  add(shard: number, text: Buffer): void {
    this.parts[shard].push(text);
    this.bytes[shard] += text.length + 1;
    if (this.bytes[shard] >= this.maxBatchBytes || this.parts[shard].length >= this.maxBatchParts) this.flushShard(shard);
    else if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastFlushAt + this.coalesceMs - performance.now();
      if (wait <= 0 || this.idle(shard)) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), wait);
    }
  }

  /** Hands over everything gathered so far. */
  flush(): void {
    this.scheduled = false;
    this.lastFlushAt = performance.now();
    for (let shard = 0; shard < this.parts.length; shard++) if (this.parts[shard].length > 0) this.flushShard(shard);
  }

  private flushShard(shard: number): void {
    const parts = this.parts[shard];
    // Its own ArrayBuffer (not node's shared pool), so that it can be transferred.
    const batch = new Uint8Array(this.bytes[shard] - 1);
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) batch[at++] = 0x0a;
      batch.set(parts[i], at);
      at += parts[i].length;
    }
    this.parts[shard] = [];
    this.bytes[shard] = 0;
    this.send(shard, batch, parts.length);
  }
}
