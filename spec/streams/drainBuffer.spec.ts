// DrainBuffer({ maxLines, maxBytes, resendWindowMs }): one drain's frames, plain state, no clock
//
//   push(f)                  waiting += f; past maxLines or maxBytes the OLDEST waiting go,
//                            counted (returned); the newest is always kept, however large
//   take(bytes, frames, t)   waiting → written at t, FIFO: at least one, then while it fits in
//                            bytes and frames; written past maxLines or maxBytes are let go
//                            (oldest first, as delivered, NOT counted)
//   confirmOlderThan(t)      written at or before t - resendWindowMs are delivered (returned)
//   confirmAll()             every written frame delivered (returned)
//   requeue()                written go back to the head of waiting, in order; past the bounds
//                            the oldest go: { requeued (still held for a resend), dropped }
//   clear()                  everything goes (returned)
//
//   e.g. maxLines 3:  push a b c d  →  0 0 0 1      waiting b c d
//                     take(∞, 2)    →  b c          waiting d, written b c
//                     push e f      →  0 0          waiting d e f
//                     requeue()     →  { requeued 0, dropped 2 }   waiting d e f (b c were oldest)
//
// heldBytes is waiting plus written bytes and must stay exact whatever the sequence: the last
// test drives the buffer and a plain-array model of the rules above through random sequences.
import fc from 'fast-check';
import { DrainBuffer, DrainBufferOptions } from '../../streams/drainBuffer';

const f = (text: string): Buffer => Buffer.from(text);
const texts = (frames: Buffer[]): string[] => frames.map(frame => frame.toString());
const sizeOf = (frames: readonly Buffer[]): number => frames.reduce((sum, frame) => sum + frame.length, 0);
const roomy: DrainBufferOptions = { maxLines: 100, maxBytes: 1 << 20, resendWindowMs: 1000 };

/** Pushes each frame and returns what each push said it dropped. */
function pushAll(buffer: DrainBuffer, ...frames: string[]): number[] {
  return frames.map(text => buffer.push(f(text)));
}

/** Every waiting frame, in the order they would be written (they become written at nowMs). */
function takeAll(buffer: DrainBuffer, nowMs = 0): string[] {
  return texts(buffer.take(Infinity, Infinity, nowMs));
}

describe('DrainBuffer', () => {
  describe('push', () => {
    it('holds every frame and drops nothing while under both bounds', () => {
      const buffer = new DrainBuffer({ maxLines: 3, maxBytes: 9, resendWindowMs: 1000 });
      expect(pushAll(buffer, 'aaa', 'bbb', 'ccc')).toEqual([0, 0, 0]);
      expect(buffer.waitingCount).toBe(3);
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.heldBytes).toBe(9);
      expect(takeAll(buffer)).toEqual(['aaa', 'bbb', 'ccc']);
    });

    it('drops the oldest waiting frame past maxLines, says how many, and keeps the newest', () => {
      const buffer = new DrainBuffer({ ...roomy, maxLines: 3 });
      expect(pushAll(buffer, 'a', 'b', 'c', 'd', 'e')).toEqual([0, 0, 0, 1, 1]);
      expect(buffer.waitingCount).toBe(3);
      expect(buffer.heldBytes).toBe(3);
      expect(takeAll(buffer)).toEqual(['c', 'd', 'e']);
    });

    it('drops as many of the oldest waiting frames as it takes to get under maxBytes, and keeps the newest', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 10 });
      // 4 + 4 fit; + 4 pushes a out; + 9 pushes b and c out
      expect(pushAll(buffer, 'aaaa', 'bbbb', 'cccc', 'ddddddddd')).toEqual([0, 0, 1, 2]);
      expect(buffer.waitingCount).toBe(1);
      expect(buffer.heldBytes).toBe(9);
      expect(takeAll(buffer)).toEqual(['ddddddddd']);
    });

    it('keeps exactly maxBytes: a frame that fills the budget to the byte drops nothing', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 8 });
      expect(pushAll(buffer, 'aaaa', 'bbbb')).toEqual([0, 0]);
      expect(buffer.heldBytes).toBe(8);
    });

    it('keeps a single frame larger than maxBytes rather than drop the newest', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 4 });
      expect(pushAll(buffer, 'aa', 'bbbbbbbbbb')).toEqual([0, 1]);
      expect(buffer.waitingCount).toBe(1);
      expect(buffer.heldBytes).toBe(10);
      expect(takeAll(buffer)).toEqual(['bbbbbbbbbb']);
    });

    it('lets an oversized frame go, counted, as soon as a newer frame follows it', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 4 });
      expect(pushAll(buffer, 'bbbbbbbbbb', 'c')).toEqual([0, 1]);
      expect(buffer.heldBytes).toBe(1);
      expect(takeAll(buffer)).toEqual(['c']);
    });

    it('bounds only the waiting frames: written frames do not push waiting ones out', () => {
      const buffer = new DrainBuffer({ ...roomy, maxLines: 2 });
      pushAll(buffer, 'a', 'b');
      buffer.take(Infinity, Infinity, 0);
      expect(pushAll(buffer, 'c', 'd')).toEqual([0, 0]);
      expect(buffer.waitingCount).toBe(2);
      expect(buffer.unconfirmedCount).toBe(2);
      expect(buffer.heldBytes).toBe(4);
    });
  });

  describe('take', () => {
    it('takes waiting frames in the order they were pushed', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a', 'b', 'c', 'd');
      expect(texts(buffer.take(Infinity, 2, 0))).toEqual(['a', 'b']);
      expect(texts(buffer.take(Infinity, 2, 0))).toEqual(['c', 'd']);
    });

    it('stops before the frame that would go past maxBytes, and a frame that fits to the byte is taken', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'aaaa', 'bbbb', 'cccc');
      expect(texts(buffer.take(11, Infinity, 0))).toEqual(['aaaa', 'bbbb']);
      expect(buffer.waitingCount).toBe(1);
      pushAll(buffer, 'dddd');
      expect(texts(buffer.take(8, Infinity, 0))).toEqual(['cccc', 'dddd']);
    });

    it('does not skip a frame that does not fit to take a smaller one behind it', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'aaaa', 'bbbbbbbb', 'c');
      expect(texts(buffer.take(6, Infinity, 0))).toEqual(['aaaa']);
      expect(texts(buffer.take(100, Infinity, 0))).toEqual(['bbbbbbbb', 'c']);
    });

    it('always takes at least one frame, even one larger than maxBytes', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'aaaaaaaaaa', 'b');
      expect(texts(buffer.take(3, Infinity, 0))).toEqual(['aaaaaaaaaa']);
      expect(texts(buffer.take(0, Infinity, 0))).toEqual(['b']);
    });

    it('takes at most maxFrames frames', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a', 'b', 'c', 'd', 'e');
      expect(texts(buffer.take(Infinity, 3, 0))).toEqual(['a', 'b', 'c']);
      expect(texts(buffer.take(Infinity, 1, 0))).toEqual(['d']);
    });

    it('returns nothing when nothing waits', () => {
      const buffer = new DrainBuffer(roomy);
      expect(buffer.take(Infinity, Infinity, 0)).toEqual([]);
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.heldBytes).toBe(0);
    });

    it('keeps taken frames as written until confirmed: heldBytes does not change', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'aa', 'bbb', 'c');
      buffer.take(Infinity, 2, 0);
      expect(buffer.waitingCount).toBe(1);
      expect(buffer.unconfirmedCount).toBe(2);
      expect(buffer.heldBytes).toBe(6);
    });

    it('lets the oldest written frames go, uncounted, once written frames pass maxLines', () => {
      const buffer = new DrainBuffer({ ...roomy, maxLines: 2 });
      pushAll(buffer, 'a', 'b');
      buffer.take(Infinity, Infinity, 0);
      pushAll(buffer, 'c', 'd');
      expect(texts(buffer.take(Infinity, Infinity, 1))).toEqual(['c', 'd']);
      expect(buffer.unconfirmedCount).toBe(2);
      expect(buffer.heldBytes).toBe(2);
      expect(buffer.requeue()).toEqual({ requeued: 2, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['c', 'd']);
    });

    it('lets the oldest written frames go, uncounted, once written bytes pass maxBytes', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 8 });
      pushAll(buffer, 'aaaa', 'bbbb');
      buffer.take(Infinity, Infinity, 0);
      pushAll(buffer, 'ccc');
      expect(texts(buffer.take(Infinity, Infinity, 1))).toEqual(['ccc']);
      expect(buffer.unconfirmedCount).toBe(2);
      expect(buffer.heldBytes).toBe(7);
      expect(buffer.requeue()).toEqual({ requeued: 2, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['bbbb', 'ccc']);
    });

    it('keeps no written frame larger than maxBytes for a resend (it is let go as soon as it is taken)', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 4 });
      pushAll(buffer, 'aaaaaaaaaa');
      expect(texts(buffer.take(Infinity, Infinity, 0))).toEqual(['aaaaaaaaaa']);
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.heldBytes).toBe(0);
    });
  });

  describe('newestWrittenWithin', () => {
    it('counts the newest written frames that hold the last n bytes written', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'aaaa', 'bb', 'c');
      buffer.take(Infinity, Infinity, 0);
      expect(buffer.newestWrittenWithin(0)).toBe(0);
      expect(buffer.newestWrittenWithin(1)).toBe(1);
      expect(buffer.newestWrittenWithin(2)).toBe(2); // part of 'bb' is unsent: the frame is lost
      expect(buffer.newestWrittenWithin(3)).toBe(2);
      expect(buffer.newestWrittenWithin(100)).toBe(3);
    });
  });

  describe('confirmOlderThan', () => {
    it('keeps the newest keepBytes of written frames whatever their age (a receiver that stopped reading may hold them)', () => {
      const buffer = new DrainBuffer({ ...roomy, resendWindowMs: 10, keepBytes: 5 });
      pushAll(buffer, 'aa', 'bb', 'cc', 'dd');
      buffer.take(Infinity, Infinity, 0);
      // 8 bytes written, all old: the oldest go only while 5 bytes or more stay.
      expect(buffer.confirmOlderThan(1000)).toBe(1);
      expect(buffer.unconfirmedCount).toBe(3);
      expect(buffer.requeue()).toEqual({ requeued: 3, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['bb', 'cc', 'dd']);
    });

    it('confirms only frames written at or before now - resendWindowMs, oldest first, and says how many', () => {
      const buffer = new DrainBuffer({ ...roomy, resendWindowMs: 100 });
      pushAll(buffer, 'a', 'b', 'c');
      buffer.take(Infinity, 1, 0);
      buffer.take(Infinity, 1, 50);
      buffer.take(Infinity, 1, 100);
      expect(buffer.confirmOlderThan(99)).toBe(0);
      expect(buffer.confirmOlderThan(149)).toBe(1); // a (0 ≤ 49)
      expect(buffer.confirmOlderThan(150)).toBe(1); // b (50 ≤ 50: the bound is inclusive)
      expect(buffer.unconfirmedCount).toBe(1);
      expect(buffer.heldBytes).toBe(1);
      expect(buffer.requeue()).toEqual({ requeued: 1, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['c']);
    });

    it('confirms every written frame at once with no resend window', () => {
      const buffer = new DrainBuffer({ ...roomy, resendWindowMs: 0 });
      pushAll(buffer, 'a', 'b');
      buffer.take(Infinity, Infinity, 10);
      expect(buffer.confirmOlderThan(10)).toBe(2);
      expect(buffer.heldBytes).toBe(0);
    });

    it('leaves waiting frames alone', () => {
      const buffer = new DrainBuffer({ ...roomy, resendWindowMs: 0 });
      pushAll(buffer, 'a', 'bb', 'ccc');
      buffer.take(Infinity, 1, 0);
      expect(buffer.confirmOlderThan(1_000_000)).toBe(1);
      expect(buffer.waitingCount).toBe(2);
      expect(buffer.heldBytes).toBe(5);
    });
  });

  describe('requeue', () => {
    it('puts written frames back at the head, in their order, ahead of the waiting ones', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a', 'b', 'c');
      buffer.take(Infinity, 1, 0);
      buffer.take(Infinity, 1, 1);
      pushAll(buffer, 'd');
      expect(buffer.requeue()).toEqual({ requeued: 2, dropped: 0 });
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.waitingCount).toBe(4);
      expect(buffer.heldBytes).toBe(4);
      expect(takeAll(buffer)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('does nothing when nothing was written', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a');
      expect(buffer.requeue()).toEqual({ requeued: 0, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['a']);
    });

    it('drops the oldest past maxLines and says how many', () => {
      const buffer = new DrainBuffer({ ...roomy, maxLines: 3 });
      pushAll(buffer, 'a', 'b', 'c');
      buffer.take(Infinity, 2, 0);
      pushAll(buffer, 'd', 'e');
      // a b came back at the head, so they are the oldest, and the ones dropped: none is held for a resend.
      expect(buffer.requeue()).toEqual({ requeued: 0, dropped: 2 });
      expect(buffer.waitingCount).toBe(3);
      expect(buffer.heldBytes).toBe(3);
      expect(takeAll(buffer)).toEqual(['c', 'd', 'e']);
    });

    it('counts as requeued only the written frames still held after the drops', () => {
      const buffer = new DrainBuffer({ ...roomy, maxLines: 3 });
      pushAll(buffer, 'a', 'b', 'c');
      buffer.take(Infinity, 3, 0);
      pushAll(buffer, 'd');
      expect(buffer.requeue()).toEqual({ requeued: 2, dropped: 1 });
      expect(takeAll(buffer)).toEqual(['b', 'c', 'd']);
    });

    it('drops the oldest past maxBytes and says how many', () => {
      const buffer = new DrainBuffer({ ...roomy, maxBytes: 10 });
      pushAll(buffer, 'aaaa', 'bbbb');
      buffer.take(Infinity, Infinity, 0);
      pushAll(buffer, 'cccc', 'dddd');
      expect(buffer.requeue()).toEqual({ requeued: 0, dropped: 2 });
      expect(buffer.heldBytes).toBe(8);
      expect(takeAll(buffer)).toEqual(['cccc', 'dddd']);
    });

    it('counts frames let go before it neither as requeued nor as dropped', () => {
      const buffer = new DrainBuffer({ ...roomy, resendWindowMs: 10 });
      pushAll(buffer, 'a', 'b');
      buffer.take(Infinity, 1, 0);
      buffer.take(Infinity, 1, 5);
      buffer.confirmOlderThan(10);
      expect(buffer.requeue()).toEqual({ requeued: 1, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['b']);
    });
  });

  describe('confirmAll', () => {
    it('confirms every written frame, says how many, and leaves the waiting ones', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a', 'bb', 'ccc');
      buffer.take(Infinity, 2, 0);
      expect(buffer.confirmAll()).toBe(2);
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.heldBytes).toBe(3);
      expect(buffer.requeue()).toEqual({ requeued: 0, dropped: 0 });
      expect(takeAll(buffer)).toEqual(['ccc']);
    });

    it('is what discardWritten does too (frames known lost, not to be resent)', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a', 'bb', 'ccc');
      buffer.take(Infinity, 2, 0);
      expect(buffer.discardWritten()).toBe(2);
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.heldBytes).toBe(3);
      expect(buffer.requeue()).toEqual({ requeued: 0, dropped: 0 });
    });
  });

  describe('clear', () => {
    it('drops waiting and written frames alike and says how many', () => {
      const buffer = new DrainBuffer(roomy);
      pushAll(buffer, 'a', 'bb', 'ccc');
      buffer.take(Infinity, 1, 0);
      expect(buffer.clear()).toBe(3);
      expect(buffer.waitingCount).toBe(0);
      expect(buffer.unconfirmedCount).toBe(0);
      expect(buffer.heldBytes).toBe(0);
      expect(buffer.requeue()).toEqual({ requeued: 0, dropped: 0 });
    });

    it('leaves a buffer that works as new', () => {
      const buffer = new DrainBuffer({ ...roomy, maxLines: 2 });
      pushAll(buffer, 'a', 'b');
      buffer.take(Infinity, 1, 0);
      buffer.clear();
      expect(pushAll(buffer, 'c', 'd', 'e')).toEqual([0, 0, 1]);
      expect(buffer.heldBytes).toBe(2);
      expect(takeAll(buffer)).toEqual(['d', 'e']);
    });
  });

  describe('under any sequence of operations (fast-check)', () => {
    it('matches a plain-array model: counts, bytes, order, and every frame accounted for', () => {
      fc.assert(
        fc.property(
          optionsArb({ maxLines: 12, maxBytes: 200, resendWindowMs: 50 }),
          fc.array(opArb({ maxSize: 60, maxBurst: 4, maxTick: 100 }), { maxLength: 200 }),
          (opts, ops) => runAgainstModel(opts, ops),
        ),
        { numRuns: 500 },
      );
    });

    it('matches the model at a drain’s real scale (tens of thousands of frames held)', () => {
      fc.assert(
        fc.property(
          optionsArb({ maxLines: 25_000, maxBytes: 400_000, resendWindowMs: 2000 }),
          fc.array(opArb({ maxSize: 40, maxBurst: 12_000, maxTick: 3000 }), { maxLength: 40 }),
          (opts, ops) => runAgainstModel(opts, ops),
        ),
        { numRuns: 25 },
      );
    });
  });
});

type Op =
  | { readonly kind: 'push'; readonly size: number; readonly times: number }
  | { readonly kind: 'take'; readonly maxBytes: number; readonly maxFrames: number }
  | { readonly kind: 'tick'; readonly ms: number }
  | { readonly kind: 'confirmOlderThan' }
  | { readonly kind: 'confirmAll' }
  | { readonly kind: 'discardWritten' }
  | { readonly kind: 'requeue' }
  | { readonly kind: 'clear' };

function optionsArb(max: { maxLines: number; maxBytes: number; resendWindowMs: number }): fc.Arbitrary<DrainBufferOptions> {
  return fc.record({
    maxLines: fc.integer({ min: 1, max: max.maxLines }),
    maxBytes: fc.integer({ min: 1, max: max.maxBytes }),
    resendWindowMs: fc.integer({ min: 0, max: max.resendWindowMs }),
  });
}

function opArb(max: { maxSize: number; maxBurst: number; maxTick: number }): fc.Arbitrary<Op> {
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('push' as const), size: fc.integer({ min: 0, max: max.maxSize }), times: fc.integer({ min: 1, max: max.maxBurst }) }), weight: 5 },
    {
      arbitrary: fc.record({
        kind: fc.constant('take' as const),
        maxBytes: fc.oneof(fc.integer({ min: 0, max: max.maxSize * 4 }), fc.constant(Infinity)),
        maxFrames: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(Infinity)),
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: max.maxTick }) }), weight: 3 },
    { arbitrary: fc.constant({ kind: 'confirmOlderThan' as const }), weight: 2 },
    { arbitrary: fc.constant({ kind: 'requeue' as const }), weight: 2 },
    { arbitrary: fc.constant({ kind: 'confirmAll' as const }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'discardWritten' as const }), weight: 1 },
    { arbitrary: fc.constant({ kind: 'clear' as const }), weight: 1 },
  );
}

/**
 * Runs ops on a DrainBuffer and on the model side by side, checking every return value and
 * the counts and bytes after every op; then requeues and takes everything left, and checks
 * that what comes out is what the model holds, in push order, with no frame twice.
 */
function runAgainstModel(opts: DrainBufferOptions, ops: readonly Op[]): void {
  const buffer = new DrainBuffer(opts);
  const model = new DrainModel(opts);
  const ids = new Map<Buffer, number>();
  const idsOf = (frames: Buffer[]): number[] => frames.map(frame => ids.get(frame) ?? -1);
  let nowMs = 0;
  let counted = 0; // dropped, confirmed, discarded or cleared, as the buffer said

  ops.forEach((op, step) => {
    const at = `op ${step} ${JSON.stringify(op)}`;
    switch (op.kind) {
      case 'push':
        for (let k = 0; k < op.times; k++) {
          const frame = Buffer.alloc(op.size + (k % 7), 0x61 + (ids.size % 26));
          ids.set(frame, ids.size);
          const dropped = buffer.push(frame);
          const expected = model.push(frame);
          if (dropped !== expected) expect({ at, k, dropped }).toEqual({ at, k, dropped: expected });
          counted += dropped;
        }
        break;
      case 'take': {
        const taken = idsOf(buffer.take(op.maxBytes, op.maxFrames, nowMs));
        expect({ at, taken }).toEqual({ at, taken: idsOf(model.take(op.maxBytes, op.maxFrames, nowMs)) });
        break;
      }
      case 'tick':
        nowMs += op.ms;
        break;
      case 'confirmOlderThan': {
        const confirmed = buffer.confirmOlderThan(nowMs);
        expect({ at, confirmed }).toEqual({ at, confirmed: model.confirmOlderThan(nowMs) });
        counted += confirmed;
        break;
      }
      case 'confirmAll':
      case 'discardWritten': {
        const confirmed = op.kind === 'confirmAll' ? buffer.confirmAll() : buffer.discardWritten();
        expect({ at, confirmed }).toEqual({ at, confirmed: model.confirmAll() });
        counted += confirmed;
        break;
      }
      case 'requeue': {
        const result = buffer.requeue();
        expect({ at, result }).toEqual({ at, result: model.requeue() });
        counted += result.dropped;
        break;
      }
      case 'clear': {
        const cleared = buffer.clear();
        expect({ at, cleared }).toEqual({ at, cleared: model.clear() });
        counted += cleared;
        break;
      }
    }
    const state = { at, waiting: buffer.waitingCount, unconfirmed: buffer.unconfirmedCount, heldBytes: buffer.heldBytes };
    expect(state).toEqual({ at, waiting: model.waiting.length, unconfirmed: model.written.length, heldBytes: model.heldBytes() });
    // Bounds and conservation, stated without the model.
    expect(buffer.heldBytes).toBeGreaterThanOrEqual(0);
    expect(buffer.waitingCount).toBeLessThanOrEqual(opts.maxLines);
    expect(buffer.unconfirmedCount).toBeLessThanOrEqual(opts.maxLines);
    expect(ids.size - counted - buffer.waitingCount - buffer.unconfirmedCount).toBe(model.letGo);
  });

  // What is left comes out once each, in push order, with its bytes exactly.
  expect(buffer.requeue()).toEqual(model.requeue());
  const expectedLeft = model.waiting.slice();
  const expectedBytes = model.heldBytes();
  expect(buffer.heldBytes).toBe(expectedBytes);
  const left = buffer.take(Infinity, Infinity, nowMs);
  expect(idsOf(left)).toEqual(idsOf(expectedLeft));
  expect(sizeOf(left)).toBe(expectedBytes);
  expect(idsOf(left).every((id, k, all) => id >= 0 && (k === 0 || id > all[k - 1]))).toBe(true);
  buffer.confirmAll();
  expect({ waiting: buffer.waitingCount, unconfirmed: buffer.unconfirmedCount, heldBytes: buffer.heldBytes }).toEqual({ waiting: 0, unconfirmed: 0, heldBytes: 0 });
}

/** The documented rules, as plainly as possible: two arrays, sizes summed when needed. */
class DrainModel {
  waiting: Buffer[] = [];
  written: { frame: Buffer; atMs: number }[] = [];
  /** Written frames let go past the bounds: gone, and told to no one. */
  letGo = 0;
  private waitingBytes = 0;
  private writtenBytes = 0;

  constructor(private readonly opts: DrainBufferOptions) {}

  heldBytes(): number {
    const bytes = sizeOf(this.waiting) + sizeOf(this.written.map(w => w.frame));
    expect(bytes).toBe(this.waitingBytes + this.writtenBytes); // the model's own sums are right
    return bytes;
  }

  push(frame: Buffer): number {
    this.waiting.push(frame);
    this.waitingBytes += frame.length;
    return this.dropOldestWaiting();
  }

  take(maxBytes: number, maxFrames: number, nowMs: number): Buffer[] {
    const out: Buffer[] = [];
    let bytes = 0;
    while (this.waiting.length > 0 && out.length < maxFrames && (out.length === 0 || bytes + this.waiting[0].length <= maxBytes)) {
      const frame = this.waiting.shift() as Buffer;
      this.waitingBytes -= frame.length;
      bytes += frame.length;
      out.push(frame);
    }
    for (const frame of out) this.written.push({ frame, atMs: nowMs });
    this.writtenBytes += bytes;
    while (this.written.length > 0 && (this.written.length > this.opts.maxLines || this.writtenBytes > this.opts.maxBytes)) {
      this.writtenBytes -= (this.written.shift() as { frame: Buffer }).frame.length;
      this.letGo++;
    }
    return out;
  }

  confirmOlderThan(nowMs: number): number {
    let n = 0;
    while (this.written.length > 0 && this.written[0].atMs <= nowMs - this.opts.resendWindowMs) {
      this.writtenBytes -= (this.written.shift() as { frame: Buffer }).frame.length;
      n++;
    }
    return n;
  }

  confirmAll(): number {
    const n = this.written.length;
    this.written = [];
    this.writtenBytes = 0;
    return n;
  }

  requeue(): { requeued: number; dropped: number } {
    const frames = this.written.map(w => w.frame);
    this.waiting = [...frames, ...this.waiting];
    this.waitingBytes += this.writtenBytes;
    this.written = [];
    this.writtenBytes = 0;
    const dropped = this.dropOldestWaiting();
    return { requeued: Math.max(0, frames.length - dropped), dropped };
  }

  clear(): number {
    const n = this.waiting.length + this.written.length;
    this.waiting = [];
    this.written = [];
    this.waitingBytes = this.writtenBytes = 0;
    return n;
  }

  private dropOldestWaiting(): number {
    let dropped = 0;
    while (this.waiting.length > 1 && (this.waiting.length > this.opts.maxLines || this.waitingBytes > this.opts.maxBytes)) {
      this.waitingBytes -= (this.waiting.shift() as Buffer).length;
      dropped++;
    }
    return dropped;
  }
}
