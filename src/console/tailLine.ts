// What the console reads from the traffic controller: one envelope per websocket frame, as JSON
// (docs/wire-formats.md). Defined here, not imported, because the page is a client of the wire
// format like any other, built for the browser without the server's modules.

/** One line of an app's log, as a tail frame carries it. */
export interface TailLine {
  readonly appId: string;
  readonly sourceType: string;
  readonly sourceInstance: string;
  readonly messageType: 'OUT' | 'ERR';
  /** Nanoseconds since the epoch, a decimal string. */
  readonly timestamp: string;
  readonly message: string;
}

/** Who the router's and traffic controller's own lines (drop notices, router changes) are from. */
export const NOTICE_SOURCE_TYPE = 'LGR';

const TIMESTAMP = /^[0-9]{1,19}$/;

/** A frame's line, or undefined when it is not one (such a frame is skipped, counted by the caller). */
export function decodeTailFrame(text: string): TailLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { appId, sourceType, sourceInstance, messageType, timestamp, message } = value as Record<string, unknown>;
  if (typeof appId !== 'string' || typeof sourceType !== 'string' || typeof sourceInstance !== 'string' || typeof message !== 'string') return undefined;
  if ((messageType !== 'OUT' && messageType !== 'ERR') || typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) return undefined;
  return { appId, sourceType, sourceInstance, messageType, timestamp, message };
}

/** Milliseconds since the epoch of a line's timestamp (its nanoseconds cut, not rounded). */
export function timestampMs(timestamp: string): number {
  return timestamp.length <= 6 ? 0 : Number(timestamp.slice(0, -6));
}

/** `12:00:01.234`: the line's time of day in the reader's time zone. */
export function timeOfDay(timestamp: string): string {
  const at = new Date(timestampMs(timestamp));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`;
}

/** A line as one NDJSON record: the envelope's fields in their canonical order. */
export function lineJson(line: TailLine): string {
  const { appId, sourceType, sourceInstance, messageType, timestamp, message } = line;
  return JSON.stringify({ appId, sourceType, sourceInstance, messageType, timestamp, message });
}

/** Lines as NDJSON (one envelope per line, as `loggregator logs --json` prints them). */
export function ndjson(lines: readonly TailLine[]): string {
  return lines.map(line => lineJson(line) + '\n').join('');
}
