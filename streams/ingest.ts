import { EMPTY, Observable, defer, map, merge } from 'rxjs';
import { DatagramOptions, Decoded, RejectReason, decodeDatagramBatch } from '../src/envelope/codec';
import { Envelope } from '../src/envelope/envelope';
import { LogLine } from './logLine';

export type Ingested =
  | { readonly ok: true; readonly line: LogLine }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/**
 * Datagrams → accepted lines or counted rejections, one per envelope (a datagram may carry a
 * batch of them; see decodeDatagramBatch). Each subscription numbers its lines from 1;
 * a bad datagram becomes a rejection value, never an error, so ingest cannot be stopped by input.
 * `own$` are the router's own lines for an app (a drain's drop notice): numbered in the same
 * order as ingested ones, so recent and tail place them like any other line.
 */
export function ingest(datagram$: Observable<Buffer>, opts: DatagramOptions, own$: Observable<Envelope> = EMPTY): Observable<Ingested> {
  return ingestWith(datagram$, datagram => decodeDatagramBatch(datagram, opts), own$);
}

/**
 * ingest's numbering for any input whose items decode to envelopes or rejections (a worker of a
 * multi-worker router is handed envelope texts, already checked as datagrams: decodeEnvelopeLines).
 */
export function ingestWith<T>(input$: Observable<T>, decode: (item: T) => Decoded[], own$: Observable<Envelope> = EMPTY): Observable<Ingested> {
  return defer(() => {
    let seq = 0;
    return merge(
      // An item may carry several envelopes (an agent's batch): each is its own line or
      // rejection, in order. A loop, not an inner Observable per item: this is the hot path.
      new Observable<Ingested>(subscriber =>
        input$.subscribe({
          next: item => {
            for (const decoded of decode(item)) {
              subscriber.next(decoded.ok ? { ok: true, line: new LogLine(++seq, decoded.envelope, decoded.json) } : decoded);
            }
          },
          error: err => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      ),
      own$.pipe(map((envelope): Ingested => ({ ok: true, line: new LogLine(++seq, envelope) }))),
    );
  });
}
