import { createConnection } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';

/**
 * One connection to a unix domain socket, as text: chunks decoded as UTF-8 (invalid bytes become
 * U+FFFD, a character split across chunks is joined). Completes at EOF, or when `stop$` emits
 * (after passing on what was decoded so far); errors when the socket is missing, refuses or
 * breaks.
 */
export function unixSocketText(path: string, stop$: Observable<void>): Observable<string> {
  return new Observable<string>(subscriber => {
    const decoder = new StringDecoder('utf8');
    const socket = createConnection({ path });
    const finish = () => {
      const rest = decoder.end();
      if (rest) subscriber.next(rest);
      subscriber.complete();
    };
    socket.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (text) subscriber.next(text);
    });
    socket.on('end', finish);
    socket.on('error', err => subscriber.error(err));
    socket.on('close', () => subscriber.complete());
    const stopping = stop$.subscribe(() => {
      socket.destroy();
      finish();
    });
    return () => {
      stopping.unsubscribe();
      socket.destroy();
    };
  });
}
