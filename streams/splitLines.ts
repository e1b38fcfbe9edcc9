import { Observable, OperatorFunction } from 'rxjs';

export interface SplitLinesOptions {
  /** Longest line passed on; a longer one is cut into pieces of this length. */
  readonly maxLineChars: number;
  /** Appended to every piece of a cut line but the last, so the cut is visible to the reader. */
  readonly continuedMarker?: string;
}

/**
 * Text chunks (already decoded, as they come off a pipe or socket) → lines. Splits on "\n",
 * drops a "\r" before it, joins lines split across chunks, and never holds more than one line's
 * worth of text: a line over the limit is passed on in marked pieces. A last line without "\n"
 * is passed on when the input ends (completes or errors).
 */
export function splitLines(opts: SplitLinesOptions): OperatorFunction<string, string> {
  const marker = opts.continuedMarker ?? ' [continued]';
  return source$ =>
    new Observable<string>(subscriber => {
      let partial = '';
      const emitPiecesOf = (text: string): string => {
        // Whole pieces of an over-long line go out at once; the remainder waits for more text.
        while (text.length > opts.maxLineChars) {
          let cut = opts.maxLineChars;
          const code = text.charCodeAt(cut - 1);
          if (code >= 0xd800 && code <= 0xdbff) cut--; // do not split a surrogate pair
          subscriber.next(text.slice(0, cut) + marker);
          text = text.slice(cut);
        }
        return text;
      };
      const flush = () => {
        if (partial.length > 0) subscriber.next(partial.endsWith('\r') ? partial.slice(0, -1) : partial);
        partial = '';
      };
      return source$.subscribe({
        next: chunk => {
          let start = 0;
          let nl = chunk.indexOf('\n');
          while (nl !== -1) {
            let line = emitPiecesOf(partial + chunk.slice(start, nl));
            if (line.endsWith('\r')) line = line.slice(0, -1);
            subscriber.next(line);
            partial = '';
            start = nl + 1;
            nl = chunk.indexOf('\n', start);
          }
          partial = emitPiecesOf(partial + chunk.slice(start));
        },
        // What was read is passed on when the input ends, also when it ends in an error (a
        // socket reset mid-line): the reader reconnects, the text is not lost.
        error: err => {
          flush();
          subscriber.error(err);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
    });
}
