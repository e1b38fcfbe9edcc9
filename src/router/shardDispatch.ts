/**
 * The envelopes a multi-worker router's reader hands to its workers, gathered per worker over
 * one event-loop turn (a socket read brings many datagrams) and handed over as one batch: one
 * message between threads per worker and turn, not one per line. A batch is the envelopes'
 * texts separated by "\n" (decodeEnvelopeLines reads it), in arrival order. It holds at most
 * `maxBatchParts` envelopes, about what one read of a UDP socket brings a single router (libuv
 * reads up to 32 datagrams per turn): the worker takes one batch per turn, so its tail clients'
 * sockets drain between batches as they do between a single router's reads, and a burst does
 * not reach their queues all at once.
 */
export class ShardDispatch {
  private readonly parts: Buffer[][];
  private readonly bytes: number[];
  private scheduled = false;

  constructor(
    shards: number,
    /** Hands a batch to its worker (the buffer is the batch's own: it may be transferred). */
    private readonly send: (shard: number, batch: Uint8Array, lines: number) => void,
    /** A batch is handed over at once when it reaches either size, else when the turn ends. */
    private readonly maxBatchBytes = 256 * 1024,
    private readonly maxBatchParts = 32,
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
      setImmediate(() => this.flush());
    }
  }

  /** Hands over everything gathered so far. */
  flush(): void {
    this.scheduled = false;
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
