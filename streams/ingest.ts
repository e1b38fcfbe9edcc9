import { Observable, defer, map } from 'rxjs';
import { DatagramOptions, RejectReason, decodeDatagram } from '../src/envelope/codec';
import { LogLine } from './logLine';

export type Ingested =
  | { readonly ok: true; readonly line: LogLine }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

/**
 * Datagrams → accepted lines or counted rejections. Each subscription numbers its lines from 1;
 * a bad datagram becomes a rejection value, never an error, so ingest cannot be stopped by input.
 */
export function ingest(datagram$: Observable<Buffer>, opts: DatagramOptions): Observable<Ingested> {
  return defer(() => {
    let seq = 0;
    return datagram$.pipe(
      map((datagram): Ingested => {
        const decoded = decodeDatagram(datagram, opts);
        return decoded.ok ? { ok: true, line: new LogLine(++seq, decoded.envelope) } : decoded;
      }),
    );
  });
}
