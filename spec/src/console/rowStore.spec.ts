// RowStore(capacity 3): the newest rows, numbered in arrival order; older ones dropped and counted.
//
//   push r0 r1 r2 r3 r4  ──▶  kept r2 r3 r4 (seqs 2..4), dropped 2
import { Row, RowStore } from '../../../src/console/rowStore';

const note = (text: string): Row => ({ kind: 'note', text });

describe('RowStore', () => {
  it('numbers rows in arrival order and keeps them all while they fit', () => {
    const store = new RowStore(3);
    expect([store.push(note('a')), store.push(note('b'))]).toEqual([0, 1]);
    expect([store.firstSeq, store.nextSeq, store.size, store.dropped]).toEqual([0, 2, 2, 0]);
    expect(store.at(1)).toEqual(note('b'));
    expect(store.at(2)).toBeUndefined();
  });

  it('drops the oldest rows past capacity, and counts them', () => {
    const store = new RowStore(3);
    for (const text of ['r0', 'r1', 'r2', 'r3', 'r4']) store.push(note(text));
    expect([store.firstSeq, store.nextSeq, store.size, store.dropped]).toEqual([2, 5, 3, 2]);
    expect([store.at(1), store.at(2), store.at(4)]).toEqual([undefined, note('r2'), note('r4')]);
  });

  it('stays bounded however many rows come', () => {
    const store = new RowStore(5000);
    for (let i = 0; i < 20_000; i++) store.push(note(String(i)));
    expect([store.size, store.dropped, store.at(store.firstSeq)]).toEqual([5000, 15_000, note('15000')]);
  });
});
