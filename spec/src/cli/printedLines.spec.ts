// PrintedLines: which frames of a replay after a reconnect `logs` prints.
//
//   printed:            a b c
//   replay (any order): c x a b y   →  prints x y   (each printed line skipped, new ones kept in order)
//   printed twice:      t t, replay t t t           →  prints t once (the copy sent while away)
import { lineIdentity } from '../../../src/cli/lineIdentity';
import { PrintedLines } from '../../../src/cli/printedLines';
import { Envelope } from '../../../src/envelope/envelope';

/** Feeds ids through, as `logs` does; returns those it would print. */
function admitted(lines: PrintedLines, ids: string[]): string[] {
  return ids.filter(id => lines.admit(id));
}

describe('PrintedLines', () => {
  it('prints every line of a live connection, repeats included', () => {
    const lines = new PrintedLines(10);
    expect(admitted(lines, ['a', 'b', 'a', 'a'])).toEqual(['a', 'b', 'a', 'a']);
  });

  it('skips every replayed line already printed, in whatever order the replay has them, and prints the others in order', () => {
    const lines = new PrintedLines(10);
    admitted(lines, ['a', 'b', 'c']);
    lines.replayStarts();
    expect(admitted(lines, ['c', 'x', 'a', 'b', 'y'])).toEqual(['x', 'y']);
  });

  it('skips a line as often as it was printed, and prints a further identical one', () => {
    const lines = new PrintedLines(10);
    expect(admitted(lines, ['t', 'u', 't'])).toEqual(['t', 'u', 't']);
    lines.replayStarts();
    expect(admitted(lines, ['t', 'u', 't', 't'])).toEqual(['t']);
  });

  it('after the replay, identical lines are new again', () => {
    const lines = new PrintedLines(10);
    admitted(lines, ['a', 'b']);
    lines.replayStarts();
    expect(admitted(lines, ['a', 'b', 'a', 'b'])).toEqual(['a', 'b']);
  });

  it('stops skipping after at most `capacity` frames, when lines it printed were not replayed (the target no longer kept them)', () => {
    const lines = new PrintedLines(3);
    admitted(lines, ['old', 'b']);
    lines.replayStarts();
    expect(admitted(lines, ['b', 'x', 'y', 'old'])).toEqual(['x', 'y', 'old']);
  });

  it('forgets the oldest lines past its capacity (it is bounded)', () => {
    const lines = new PrintedLines(2);
    admitted(lines, ['a', 'b', 'c']);
    lines.replayStarts();
    expect(admitted(lines, ['a', 'c'])).toEqual(['a']);
  });

  it('recognises what it skipped in an earlier replay when the connection drops again', () => {
    const lines = new PrintedLines(10);
    admitted(lines, ['a', 'b']);
    lines.replayStarts();
    expect(admitted(lines, ['b', 'c'])).toEqual(['c']);
    lines.replayStarts();
    expect(admitted(lines, ['a', 'c', 'b', 'd'])).toEqual(['d']);
  });
});

describe('lineIdentity', () => {
  const line: Envelope = { appId: 'a', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: '1700000000000000000', message: 'hello' };

  it('is the same for the same line, whatever the size of its message', () => {
    expect(lineIdentity({ ...line })).toBe(lineIdentity(line));
    expect(lineIdentity({ ...line, message: 'x'.repeat(65_536) }).length).toBe(lineIdentity(line).length);
  });

  it('tells apart lines that differ in timestamp, source, instance, stream or message', () => {
    const variants: Envelope[] = [
      { ...line, timestamp: '1700000000000000001' },
      { ...line, sourceType: 'RTR' },
      { ...line, sourceInstance: '1' },
      { ...line, messageType: 'ERR' },
      { ...line, message: 'hello!' },
    ];
    expect(new Set([line, ...variants].map(lineIdentity)).size).toBe(6);
  });
});
