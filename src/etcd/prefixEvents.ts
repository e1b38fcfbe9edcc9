import { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { Observable } from 'rxjs';

/** One record under a prefix: its key with the prefix taken off, and its value as text. */
export interface PrefixEntry {
  readonly key: string;
  readonly value: string;
}

export type PrefixEvent =
  | { readonly kind: 'snapshot'; readonly entries: readonly PrefixEntry[] }
  | { readonly kind: 'put'; readonly entry: PrefixEntry }
  | { readonly kind: 'delete'; readonly key: string };

/**
 * Everything under an etcd prefix, as a stream: the current records (a snapshot), then every
 * change, watched from the revision after the snapshot's, so no change between the read and the
 * watch is missed. Any failure (etcd unreachable or restarted, the watch cancelled, a watch that
 * does not connect within `connectMs`) errors the stream: the caller resubscribes with its own
 * backoff and starts again from a snapshot. The watch is cancelled on unsubscribe.
 */
export function prefixEvents(client: Etcd3, prefix: string, connectMs: number, describe: (err: unknown) => Error = err => err as Error): Observable<PrefixEvent> {
  const entry = (kv: IKeyValue): PrefixEntry => ({ key: kv.key.toString().slice(prefix.length), value: kv.value.toString() });
  return new Observable<PrefixEvent>(subscriber => {
    let watcher: Watcher | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    let closed = false;
    const fail = (err: unknown) => {
      if (!closed) subscriber.error(describe(err));
    };
    (async () => {
      const snapshot = await client.getAll().prefix(prefix).exec();
      if (closed) return;
      subscriber.next({ kind: 'snapshot', entries: snapshot.kvs.map(entry) });
      // The subscriber may have gone while the snapshot was delivered: then no watch is made.
      if (closed) return;
      const next = (BigInt(snapshot.header.revision) + 1n).toString();
      // watcher(), not create(): every listener is attached before the watch can connect or
      // break, and the wait for it to connect is bounded here, not by the client's own retries.
      const w = client.watch().prefix(prefix).startRevision(next).watcher();
      watcher = w;
      connectTimer = setTimeout(() => fail(new Error(`the watch did not connect within ${connectMs} ms`)), connectMs);
      w.on('connected', () => clearTimeout(connectTimer));
      w.on('put', kv => subscriber.next({ kind: 'put', entry: entry(kv) }));
      w.on('delete', kv => subscriber.next({ kind: 'delete', key: entry(kv).key }));
      // The client would quietly resume a broken watch; a resync from a snapshot is simpler to
      // trust (a compacted revision cannot be resumed at all).
      w.on('disconnected', err => fail(err));
      w.on('error', err => fail(err));
      w.on('end', () => fail(new Error('etcd watch ended')));
    })().catch(fail);
    return () => {
      closed = true;
      clearTimeout(connectTimer);
      void watcher?.cancel().catch(() => undefined);
    };
  });
}
