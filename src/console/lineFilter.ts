import { Row } from './rowStore';
import { TailLine } from './tailLine';

/** Which lines the reader wants to see. */
export interface LineFilter {
  /** Shown when the message contains it, ignoring case (or the app id, where rows show it); '' for all. */
  readonly text: string;
  readonly stream: 'all' | 'OUT' | 'ERR';
  /** A source type (`APP`), a source type and instance (`APP/0`), or '' for all. */
  readonly source: string;
  /** One app's lines (its exact id), or '' (or absent) for every app's. */
  readonly app?: string;
}

export const ALL_LINES: LineFilter = { text: '', stream: 'all', source: '', app: '' };

/** How a view applies filters: whether the text is looked for in the app id too (rows that show it: the firehose). */
export interface FilterScope {
  readonly textInAppId: boolean;
}

export const MESSAGE_ONLY: FilterScope = { textInAppId: false };

/** A line's source as the filter names it: `TYPE/INSTANCE`. */
export function sourceOf(line: TailLine): string {
  return `${line.sourceType}/${line.sourceInstance}`;
}

/** A test for lines, made once per filter (the text lowercased once, not once per line). */
export function lineTest(filter: LineFilter, scope: FilterScope = MESSAGE_ONLY): (line: TailLine) => boolean {
  const text = filter.text.toLowerCase();
  const { stream, source } = filter;
  const app = filter.app ?? '';
  const bySource = source === '' ? undefined : source.includes('/') ? (l: TailLine) => sourceOf(l) === source : (l: TailLine) => l.sourceType === source;
  const inMessage = (l: TailLine) => l.message.toLowerCase().includes(text);
  const byText = text === '' ? undefined : scope.textInAppId ? (l: TailLine) => inMessage(l) || l.appId.toLowerCase().includes(text) : inMessage;
  return line =>
    (stream === 'all' || line.messageType === stream) &&
    (app === '' || line.appId === app) &&
    (bySource === undefined || bySource(line)) &&
    (byText === undefined || byText(line));
}

/** A test for rows: the console's own notes (about the connection) pass every filter. */
export function rowTest(filter: LineFilter, scope: FilterScope = MESSAGE_ONLY): (row: Row) => boolean {
  const test = lineTest(filter, scope);
  return row => row.kind === 'note' || test(row.line);
}
