import { Row } from './rowStore';
import { TailLine } from './tailLine';

/** Which lines the reader wants to see. */
export interface LineFilter {
  /** Shown when the message contains it, ignoring case; '' for all. */
  readonly text: string;
  readonly stream: 'all' | 'OUT' | 'ERR';
  /** A source type (`APP`), a source type and instance (`APP/0`), or '' for all. */
  readonly source: string;
}

export const ALL_LINES: LineFilter = { text: '', stream: 'all', source: '' };

/** A line's source as the filter names it: `TYPE/INSTANCE`. */
export function sourceOf(line: TailLine): string {
  return `${line.sourceType}/${line.sourceInstance}`;
}

/** A test for lines, made once per filter (the text lowercased once, not once per line). */
export function lineTest(filter: LineFilter): (line: TailLine) => boolean {
  const text = filter.text.toLowerCase();
  const { stream, source } = filter;
  const bySource = source === '' ? undefined : source.includes('/') ? (l: TailLine) => sourceOf(l) === source : (l: TailLine) => l.sourceType === source;
  return line =>
    (stream === 'all' || line.messageType === stream) &&
    (bySource === undefined || bySource(line)) &&
    (text === '' || line.message.toLowerCase().includes(text));
}

/** A test for rows: the console's own notes (about the connection) pass every filter. */
export function rowTest(filter: LineFilter): (row: Row) => boolean {
  const test = lineTest(filter);
  return row => row.kind === 'note' || test(row.line);
}
