// splitLines: text chunks → lines
//   chunks: -a-b-c-|      "one\ntw" "o\r\nthr" "ee"
//   lines:  -x-y---(z|)   "one" "two" "three"
import { TestScheduler } from 'rxjs/testing';
import { splitLines } from '../../streams/splitLines';

describe('splitLines', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  });

  it('joins lines split across chunks, strips \\r\\n, and passes on a last line without \\n', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const chunks = cold('-a-b-c-|', { a: 'one\ntw', b: 'o\r\nthr', c: 'ee' });
      expectObservable(chunks.pipe(splitLines({ maxLineChars: 100 }))).toBe('-x-y---(z|)', { x: 'one', y: 'two', z: 'three' });
      expectSubscriptions(chunks.subscriptions).toBe('^------!');
    });
  });

  it('emits several lines of one chunk, empty lines included', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const chunks = cold('-a-------|', { a: 'x\n\ny\n' });
      expectObservable(chunks.pipe(splitLines({ maxLineChars: 100 }))).toBe('-(xey)---|', { x: 'x', e: '', y: 'y' });
    });
  });

  it('cuts an over-long line into marked pieces without waiting for its end', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const chunks = cold('-a-------b-----|', { a: 'abcdefg', b: 'hij\n' });
      expectObservable(chunks.pipe(splitLines({ maxLineChars: 3, continuedMarker: '+' }))).toBe('-(xy)----(zw)--|', {
        x: 'abc+',
        y: 'def+',
        z: 'ghi+',
        w: 'j',
      });
    });
  });

  it('does not cut between the halves of a surrogate pair', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const chunks = cold('-a-------|', { a: 'ab😀c\n' });
      expectObservable(chunks.pipe(splitLines({ maxLineChars: 3, continuedMarker: '|' }))).toBe('-(xy)----|', { x: 'ab|', y: '😀c' });
    });
  });

  it('passes on a partial line when the input errors, then the error', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const chunks = cold('-a-#', { a: 'done\nhalf' }, new Error('ECONNRESET'));
      expectObservable(chunks.pipe(splitLines({ maxLineChars: 100 }))).toBe('-d-(h#)', { d: 'done', h: 'half' }, new Error('ECONNRESET'));
    });
  });
});
