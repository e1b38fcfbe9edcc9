import { Subscriber } from 'rxjs';
import { DrainBuffer } from '../../streams/drainBuffer';
import { LogLine } from '../../streams/logLine';
import { DrainWriterContext } from './drainWriterContext';

/**
 * A line into a drain's buffer, as every writer takes it: a router notice only while there is
 * room (in a full queue it would push out an app line, and that drop call for the next notice);
 * returns how many waiting frames were dropped for it (undefined: skipped, or the writer failed).
 */
export function queueLine(buffer: DrainBuffer, line: LogLine, ctx: DrainWriterContext, writer: Subscriber<unknown>): number | undefined {
  if (buffer.isFull && ctx.isNotice?.(line)) return undefined;
  let frame: Buffer;
  try {
    frame = ctx.frameOf(line);
  } catch (err) {
    // Not expected (the encoder takes any valid envelope); a throw here would otherwise escape
    // RxJS as an uncaught exception. The writer fails alone and is started again.
    writer.error(err);
    return undefined;
  }
  return buffer.push(frame);
}
