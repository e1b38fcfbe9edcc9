import { EMPTY, Observable, defer, map, merge } from 'rxjs';
import { DatagramOptions, RejectReason, decodeDatagram } from '../src/envelope/codec';
import { Envelope } from '../src/envelope/envelope';
import { LogLine } from './logLine';

export type Ingested =
  | { readonly ok: true; readonly line: LogLine }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/**
 * Datagrams → accepted lines or counted rejections. Each subscription numbers its lines from 1;
 * a bad datagram becomes a rejection value, never an error, so ingest cannot be stopped by input.
 * `own$` are the router's own lines for an app (a drain's drop notice): numbered in the same
 * order as ingested ones, so recent and tail place them like any other line.
 */
export function ingest(datagram$: Observable<Buffer>, opts: DatagramOptions, own$: Observable<Envelope> = EMPTY): Observable<Ingested> {
  return defer(() => {
    let seq = 0;
    return merge(
      datagram$.pipe(
        map((datagram): Ingested => {
          const decoded = decodeDatagram(datagram, opts);
          return decoded.ok ? { ok: true, line: new LogLine(++seq, decoded.envelope) } : decoded;
        }),
      ),
      own$.pipe(map((envelope): Ingested => ({ ok: true, line: new LogLine(++seq, envelope) }))),
    );
  });
}
