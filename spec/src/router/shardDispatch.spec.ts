// ShardDispatch: a multi-worker router's reader gathers each worker's envelopes and hands them
// over as one batch (texts joined by "\n", in arrival order): when full, else at the end of the
// turn if nothing went for coalesceMs, else coalesceMs after the last hand-over.
import { ShardDispatch } from '../../../src/router/shardDispatch';

const text = (s: string) => Buffer.from(s);
const nextTurn = () => new Promise(resolve => setImmediate(resolve));

describe('ShardDispatch', () => {
  it('hands each worker its envelopes of a turn as one batch, in order, when the turn ends', async () => {
    const sent: [number, string, number][] = [];
    const dispatch = new ShardDispatch(2, (shard, batch, lines) => sent.push([shard, Buffer.from(batch).toString(), lines]));
    dispatch.add(0, text('a1'));
    dispatch.add(1, text('b1'));
    dispatch.add(0, text('a2'));
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([
      [0, 'a1\na2', 2],
      [1, 'b1', 1],
    ]);
  });

  it('gathers lines for coalesceMs after a hand-over, then hands them over together', async () => {
    // Timers and the clock are jest's (setImmediate stays real: turns still end), so a loaded
    // machine cannot let coalesceMs pass between two turns.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const sent: string[] = [];
      const dispatch = new ShardDispatch(1, (_shard, batch) => sent.push(Buffer.from(batch).toString()), () => false, 1024, 100, 50);
      dispatch.add(0, text('first'));
      await nextTurn();
      expect(sent).toEqual(['first']);
      dispatch.add(0, text('second'));
      await nextTurn();
      dispatch.add(0, text('third'));
      await nextTurn();
      jest.advanceTimersByTime(49);
      expect(sent).toEqual(['first']); // within 50 ms of the last hand-over: still gathering
      jest.advanceTimersByTime(1);
      await nextTurn();
      expect(sent).toEqual(['first', 'second\nthird']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('hands a line to an idle worker at the end of the turn, however recent the last hand-over', async () => {
    const sent: string[] = [];
    let idle = false;
    const dispatch = new ShardDispatch(1, (_shard, batch) => sent.push(Buffer.from(batch).toString()), () => idle, 1024, 100, 60_000);
    dispatch.add(0, text('first'));
    await nextTurn();
    idle = true;
    dispatch.add(0, text('second'));
    await nextTurn();
    expect(sent).toEqual(['first', 'second']);
  });

  it('hands a batch over at once when it reaches its most envelopes or bytes', () => {
    const sent: string[] = [];
    const dispatch = new ShardDispatch(1, (_shard, batch) => sent.push(Buffer.from(batch).toString()), () => false, 20, 3);
    ['1', '2', '3', '4'].forEach(s => dispatch.add(0, text(s)));
    expect(sent).toEqual(['1\n2\n3']);
    dispatch.add(0, text('x'.repeat(30)));
    expect(sent).toEqual(['1\n2\n3', '4\n' + 'x'.repeat(30)]);
    dispatch.flush();
    expect(sent.length).toBe(2);
  });

  it('hands over batches whose buffers are their own (transferable, not node\'s shared pool)', () => {
    const batches: Uint8Array[] = [];
    const dispatch = new ShardDispatch(1, (_shard, batch) => batches.push(batch));
    dispatch.add(0, text('tiny'));
    dispatch.flush();
    expect(batches[0].byteOffset).toBe(0);
    expect(batches[0].buffer.byteLength).toBe(batches[0].byteLength);
  });
});
