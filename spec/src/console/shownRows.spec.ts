// ShownRows: which kept rows the reader sees.
//
//   store     r0 r1 r2 r3 r4 r5 r6      (capacity 5: r0, r1 dropped)
//   released  ─────────────┘            (paused after r4)
//   filter    ERR only: r2 r4 r6
//   shown     r2 r4         waiting 1 (r6)        resume ──▶ shown r2 r4 r6, waiting 0
import { ALL_LINES } from '../../../src/console/lineFilter';
import { Row, RowStore } from '../../../src/console/rowStore';
import { ShownRows } from '../../../src/console/shownRows';

const line = (message: string, messageType: 'OUT' | 'ERR' = 'OUT'): Row => ({
  kind: 'line',
  line: { appId: 'app-a', sourceType: 'APP', sourceInstance: '0', messageType, timestamp: '1700000000000000000', message },
});
const texts = (shown: ShownRows): string[] => [...shown.rows()].map(r => (r.kind === 'line' ? r.line.message : `note: ${r.text}`));

function setUp(capacity = 100) {
  const store = new RowStore(capacity);
  return { store, shown: new ShownRows(store) };
}

describe('ShownRows', () => {
  it('shows every row that came, in order, once updated', () => {
    const { store, shown } = setUp();
    store.push(line('a'));
    store.push(line('b'));
    expect(shown.length).toBe(0); // drawn at the next frame
    expect(shown.update()).toBe(0);
    expect(texts(shown)).toEqual(['a', 'b']);
    expect(shown.seqAt(1)).toBe(1);
  });

  it('applies a filter to the rows shown and to those that come', () => {
    const { store, shown } = setUp();
    store.push(line('ok 1'));
    store.push(line('bad 1', 'ERR'));
    shown.update();
    shown.setFilter({ ...ALL_LINES, stream: 'ERR' });
    expect(texts(shown)).toEqual(['bad 1']);
    store.push(line('ok 2'));
    store.push(line('bad 2', 'ERR'));
    store.push({ kind: 'note', text: 'live again' });
    shown.update();
    expect(texts(shown)).toEqual(['bad 1', 'bad 2', 'note: live again']);
    shown.setFilter(ALL_LINES);
    expect(texts(shown)).toEqual(['ok 1', 'bad 1', 'ok 2', 'bad 2', 'note: live again']);
  });

  it('holds rows back while paused, counting those the filter passes, and shows them on resume', () => {
    const { store, shown } = setUp();
    store.push(line('before'));
    shown.update();
    shown.pause();
    store.push(line('during 1'));
    store.push(line('during 2', 'ERR'));
    shown.update();
    expect(texts(shown)).toEqual(['before']);
    expect(shown.waiting).toBe(2);
    shown.setFilter({ ...ALL_LINES, stream: 'ERR' });
    expect([texts(shown), shown.waiting]).toEqual([[], 1]);
    shown.setFilter(ALL_LINES);
    shown.resume();
    expect([texts(shown), shown.waiting]).toEqual([['before', 'during 1', 'during 2'], 0]);
  });

  it('lets go of rows the store dropped, saying how many left the top', () => {
    const { store, shown } = setUp(5);
    for (let i = 0; i < 5; i++) store.push(line(`r${i}`, i % 2 === 0 ? 'ERR' : 'OUT'));
    shown.setFilter({ ...ALL_LINES, stream: 'ERR' });
    shown.update();
    expect(texts(shown)).toEqual(['r0', 'r2', 'r4']);
    store.push(line('r5'));
    store.push(line('r6', 'ERR'));
    store.push(line('r7'));
    expect(shown.update()).toBe(2); // r0 and r2 were dropped (r1 was not shown)
    expect(texts(shown)).toEqual(['r4', 'r6']);
  });

  it('counts as waiting only what is still kept, however long it is paused', () => {
    const { store, shown } = setUp(5);
    shown.pause();
    for (let i = 0; i < 1000; i++) store.push(line(`r${i}`));
    shown.update();
    expect(shown.waiting).toBe(5);
    shown.resume();
    expect(texts(shown)).toEqual(['r995', 'r996', 'r997', 'r998', 'r999']);
  });
});
