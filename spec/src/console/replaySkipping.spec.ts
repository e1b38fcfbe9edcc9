// After a reconnect the tail replays the app's recent lines first; the console skips those it
// showed already, as `loggregator logs` does (the same PrintedLines, with the page's lineKey):
//
//   shown      l1 l2 l3 ┊ disconnected ┊ replay l2 l3 l4, then live l5  ──▶  shown l1 l2 l3 l4 l5
import { PrintedLines } from '../../../src/cli/printedLines';
import { lineKey } from '../../../src/console/lineKey';
import { TailLine } from '../../../src/console/tailLine';

const line = (n: number, overrides: Partial<TailLine> = {}): TailLine => ({
  appId: 'app-a',
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: String(1_700_000_000_000_000_000n + BigInt(n)),
  message: `line ${n}`,
  ...overrides,
});

describe('replayed lines in the console', () => {
  it('skips the lines of a replay shown before the reconnect and shows the rest once', () => {
    const printed = new PrintedLines(10_000);
    const shown: string[] = [];
    const receive = (l: TailLine) => printed.admit(lineKey(l)) && shown.push(l.message);
    [1, 2, 3].map(n => line(n)).forEach(receive);
    printed.replayStarts();
    [2, 3, 4, 5].map(n => line(n)).forEach(receive);
    expect(shown).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('tells lines apart by time, source, stream and message, and keys of long messages stay short', () => {
    const base = line(1);
    const variants = [line(2), line(1, { sourceInstance: '1' }), line(1, { sourceType: 'RTR' }), line(1, { messageType: 'ERR' }), line(1, { message: 'line 1 ' }), line(1, { message: 'line 2' })];
    expect(new Set([base, ...variants].map(lineKey)).size).toBe(7);
    expect(lineKey({ ...base })).toBe(lineKey(base));
    expect(lineKey(line(1, { message: 'x'.repeat(65_536) })).length).toBeLessThan(80);
  });
});
