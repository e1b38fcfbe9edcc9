// mergeRecent(answers, limit): several routers' recent answers for one app → the newest `limit`
// lines of all, oldest first, ordered by timestamp.
//
//   r1  t10 t30 t50          ┐
//   r2  t20 t40              ├──▶ limit 4: t30 t40 t50 t60      limit 100: t10 t20 t30 t40 t50 t60
//   r3  t60                  ┘
//
// Equal timestamps keep the order they were given in (answer by answer, then within an answer);
// timestamps of different lengths compare as numbers ("999" before "1000").
import fc from 'fast-check';
import { Envelope } from '../../src/envelope/envelope';
import { mergeRecent } from '../../streams/recentMerge';
import { envelope } from './fixtures';

const at = (timestamp: string, message = `t${timestamp}`): Envelope => envelope({ timestamp, message });
const messages = (lines: Envelope[]): string[] => lines.map(e => e.message);

describe('mergeRecent', () => {
  it('orders the lines of all answers by timestamp', () => {
    const r1 = [at('10'), at('30'), at('50')];
    const r2 = [at('20'), at('40')];
    const r3 = [at('60')];
    expect(messages(mergeRecent([r1, r2, r3], 100))).toEqual(['t10', 't20', 't30', 't40', 't50', 't60']);
    expect(messages(mergeRecent([r3, r2, r1], 100))).toEqual(['t10', 't20', 't30', 't40', 't50', 't60']);
  });

  it('orders lines that are out of order within an answer too', () => {
    expect(messages(mergeRecent([[at('50'), at('10')], [at('40'), at('20')]], 100))).toEqual(['t10', 't20', 't40', 't50']);
  });

  it('keeps equal timestamps in the order given: answer by answer, then within each answer', () => {
    const same = '1700000000000000000';
    const r1 = [at(same, 'r1 a'), at(same, 'r1 b')];
    const r2 = [at('1', 'r2 early'), at(same, 'r2 a'), at(same, 'r2 b')];
    expect(messages(mergeRecent([r1, r2], 100))).toEqual(['r2 early', 'r1 a', 'r1 b', 'r2 a', 'r2 b']);
    expect(messages(mergeRecent([r2, r1], 100))).toEqual(['r2 early', 'r2 a', 'r2 b', 'r1 a', 'r1 b']);
  });

  it('compares timestamps of different lengths as numbers, up to 19 digits', () => {
    const r1 = [at('1000'), at('9223372036854775807')];
    const r2 = [at('999'), at('0'), at('10'), at('922337203685477580')];
    expect(messages(mergeRecent([r1, r2], 100))).toEqual(['t0', 't10', 't999', 't1000', 't922337203685477580', 't9223372036854775807']);
  });

  it('returns the newest `limit` lines, oldest first', () => {
    const r1 = [at('10'), at('30'), at('50')];
    const r2 = [at('20'), at('40'), at('60')];
    expect(messages(mergeRecent([r1, r2], 4))).toEqual(['t30', 't40', 't50', 't60']);
    expect(messages(mergeRecent([r1, r2], 1))).toEqual(['t60']);
    expect(messages(mergeRecent([r1, r2], 6))).toEqual(['t10', 't20', 't30', 't40', 't50', 't60']);
    expect(messages(mergeRecent([r1, r2], 7))).toHaveLength(6);
    expect(messages(mergeRecent([r1], 2))).toEqual(['t30', 't50']);
  });

  it('answers nothing for no answers or empty ones', () => {
    expect(mergeRecent([], 10)).toEqual([]);
    expect(mergeRecent([[]], 10)).toEqual([]);
    expect(mergeRecent([[], [], []], 10)).toEqual([]);
  });

  it('leaves the answers it was given as they were', () => {
    const r1 = Object.freeze([at('30'), at('10')]);
    const r2 = Object.freeze([at('20')]);
    const copies = [[...r1], [...r2]];
    mergeRecent([r1, r2], 2);
    expect([r1, r2]).toEqual(copies);
  });

  // One answer is sorted as several are: the traffic controller's /recent answer must not change
  // order (or which lines are "newest" under a limit) when a router with no lines of the app
  // joins the set.
  it('orders one answer as it orders the same answer beside an empty one', () => {
    const r1 = [at('30'), at('10'), at('20')];
    expect(messages(mergeRecent([r1], 100))).toEqual(messages(mergeRecent([r1, []], 100)));
    expect(messages(mergeRecent([r1], 2))).toEqual(messages(mergeRecent([r1, []], 2)));
  });

  it('is a stable sort by numeric timestamp, then the newest `limit` (property, two answers or more)', () => {
    const timestamp = fc.oneof(
      fc.constantFrom('0', '1', '9', '10', '999', '1000', '9223372036854775807'),
      fc.bigInt({ min: 0n, max: 9223372036854775807n }).map(n => n.toString()),
    );
    const answer = fc.array(timestamp, { maxLength: 8 });
    fc.assert(
      fc.property(fc.array(answer, { minLength: 2, maxLength: 4 }), fc.integer({ min: 1, max: 40 }), (stamps, limit) => {
        const answers = stamps.map((ts, r) => ts.map((t, k) => at(t, `r${r} #${k}`)));
        const expected = answers
          .flat()
          .map((e, i) => ({ e, i }))
          .sort((x, y) => (BigInt(x.e.timestamp) < BigInt(y.e.timestamp) ? -1 : BigInt(x.e.timestamp) > BigInt(y.e.timestamp) ? 1 : x.i - y.i))
          .map(({ e }) => e)
          .slice(-limit);
        expect(mergeRecent(answers, limit)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('returns nothing for a limit of 0 (not everything, as slice(-0) would)', () => {
    expect(mergeRecent([[envelope({ message: 'a' })], [envelope({ message: 'b' })]], 0)).toEqual([]);
  });
});
