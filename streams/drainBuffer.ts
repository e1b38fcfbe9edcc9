import Denque from 'denque';

export interface DrainBufferOptions {
  /** Frames waiting to be written, at most; past it the oldest are dropped (the newest is kept). */
  readonly maxLines: number;
  /** Bytes of frames waiting to be written, at most. */
  readonly maxBytes: number;
  /**
   * Written frames are kept this long for a resend, in case the connection breaks before the
   * receiver got them; the kept frames are bounded by maxLines and maxBytes too (past them the
   * oldest are let go as delivered, uncounted).
   */
  readonly resendWindowMs: number;
  /**
   * The newest written frames up to this many bytes are kept whatever their age: a receiver
   * that stops reading leaves them in kernel buffers (megabytes) for far longer than any
   * window, and they die with it (default 0).
   */
  readonly keepBytes?: number;
}

interface Written {
  readonly frame: Buffer;
  readonly atMs: number;
}

/**
 * One drain's frames: those waiting to be written, and those written but not known to be
 * delivered. A stream transport (TCP, TLS) does not say what the receiver got, so written frames
 * stay for a resend window: when the connection breaks they go back to the head of the queue
 * (at-least-once; a receiver may see a few twice). A request transport (HTTPS) confirms what it
 * took explicitly. Every bound is on lines and bytes; overflow drops the oldest waiting frames
 * and says how many, so the caller can count them and tell the app. No I/O, no clock: the
 * caller passes the time.
 */
export class DrainBuffer {
  private readonly waiting = new Denque<Buffer>();
  private readonly written = new Denque<Written>();
  private waitingByteCount = 0;
  private writtenBytes = 0;

  constructor(private readonly opts: DrainBufferOptions) {}

  /** Frames waiting to be written. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Whether one more frame would push out a waiting one. */
  get isFull(): boolean {
    return this.waiting.length >= this.opts.maxLines || this.waitingByteCount >= this.opts.maxBytes;
  }

  /** The next frame to be written, if any. */
  peekWaiting(): Buffer | undefined {
    return this.waiting.peekFront();
  }

  /** Bytes of the frames waiting to be written. */
  get waitingBytes(): number {
    return this.waitingByteCount;
  }

  /** Frames written but not yet known delivered. */
  get unconfirmedCount(): number {
    return this.written.length;
  }

  get heldBytes(): number {
    return this.waitingByteCount + this.writtenBytes;
  }

  /** Queues a frame; returns how many waiting frames were dropped to make room (oldest first). */
  push(frame: Buffer): number {
    this.waiting.push(frame);
    this.waitingByteCount += frame.length;
    return this.shed();
  }

  /**
   * Takes waiting frames for one write: at least one (if any wait), then as many as fit in
   * `maxBytes` and `maxFrames`. They count as written at `nowMs` until confirmed.
   */
  take(maxBytes: number, maxFrames: number, nowMs: number): Buffer[] {
    const out: Buffer[] = [];
    let bytes = 0;
    while (this.waiting.length > 0 && out.length < maxFrames) {
      const frame = this.waiting.peekFront() as Buffer;
      if (out.length > 0 && bytes + frame.length > maxBytes) break;
      this.waiting.shift();
      this.waitingByteCount -= frame.length;
      bytes += frame.length;
      out.push(frame);
      this.written.push({ frame, atMs: nowMs });
      this.writtenBytes += frame.length;
    }
    this.letGoOfWritten(() => this.written.length > this.opts.maxLines || this.writtenBytes > this.opts.maxBytes);
    return out;
  }

  /**
   * Written frames older than the resend window are taken as delivered, except the newest
   * `keepBytes` of them; returns how many.
   */
  confirmOlderThan(nowMs: number): number {
    const before = this.written.length;
    const keepBytes = this.opts.keepBytes ?? 0;
    this.letGoOfWritten(() => {
      const oldest = this.written.peekFront() as Written;
      return oldest.atMs <= nowMs - this.opts.resendWindowMs && this.writtenBytes - oldest.frame.length >= keepBytes;
    });
    return before - this.written.length;
  }

  /** How many of the newest written frames hold the last `bytes` bytes written (a socket's unsent tail). */
  newestWrittenWithin(bytes: number): number {
    let n = 0;
    for (let sum = 0; sum < bytes && n < this.written.length; n++) {
      sum += (this.written.peekAt(this.written.length - 1 - n) as Written).frame.length;
    }
    return n;
  }

  /** Every written frame is known delivered (an HTTPS 2xx); returns how many. */
  confirmAll(): number {
    const n = this.written.length;
    this.written.clear();
    this.writtenBytes = 0;
    return n;
  }

  /** Every written frame is known lost (HTTPS: the batch was refused for good); returns how many. */
  discardWritten(): number {
    return this.confirmAll();
  }

  /**
   * The connection broke, or a request failed: written frames go back to the head of the queue,
   * in order, to be written again. Returns how many of them are held for a resend, and how many
   * frames had to be dropped to make room (the oldest first: requeued ones before waiting ones).
   */
  requeue(): { readonly requeued: number; readonly dropped: number } {
    const written = this.written.length;
    while (this.written.length > 0) {
      const { frame } = this.written.pop() as Written;
      this.waiting.unshift(frame);
      this.waitingByteCount += frame.length;
    }
    this.writtenBytes = 0;
    const dropped = this.shed();
    return { requeued: Math.max(0, written - dropped), dropped };
  }

  /** Drops everything held (a drain stopped before it could flush); returns how many frames. */
  clear(): number {
    const n = this.waiting.length + this.written.length;
    this.waiting.clear();
    this.written.clear();
    this.waitingByteCount = 0;
    this.writtenBytes = 0;
    return n;
  }

  private letGoOfWritten(more: () => boolean): void {
    while (this.written.length > 0 && more()) {
      this.writtenBytes -= (this.written.shift() as Written).frame.length;
    }
  }

  private shed(): number {
    let dropped = 0;
    while (this.waiting.length > 1 && (this.waiting.length > this.opts.maxLines || this.waitingByteCount > this.opts.maxBytes)) {
      this.waitingByteCount -= (this.waiting.shift() as Buffer).length;
      dropped++;
    }
    return dropped;
  }
}
