import { noop } from 'cockatiel';
import { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { Observable } from 'rxjs';
import { bindingIdOf, parseStoreEntry } from '../../streams/binding';
import { BindingStoreEvent } from '../../streams/bindingSets';
import { ConfigError, Config } from '../config/loadConfig';
import { Logger } from '../logger';
import { BindingStore, ListedBinding } from './bindingStore';

/**
 * Bindings in etcd (v3): `<prefix><appId>/<bindingId>` → `{"url": "…"}`. Each subscription reads
 * the current set and watches from the revision after it, so no change between the read and
 * the watch is missed. Any failure (etcd unreachable, restarted, the watch cancelled) errors the
 * stream; the router resubscribes with its own backoff and starts again from a snapshot, and
 * until then keeps the last known set. The client's own retries and circuit breaker are off
 * (one policy of retrying, ours), and every unary call has a deadline.
 */
export class EtcdBindingStore implements BindingStore {
  readonly description: string;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly deadlineMs: number;
  private readonly endpoints: string;

  constructor(
    config: Config,
    private readonly logger: Logger,
  ) {
    if (config.etcd.endpoints.length === 0) {
      throw new ConfigError('bindings.store is "etcd" but etcd.endpoints is empty: set LOGGREGATOR_ETCD_ENDPOINTS=http://127.0.0.1:2379');
    }
    this.prefix = config.bindings.etcdPrefix;
    this.description = `etcd ${config.etcd.endpoints.join(',')} ${this.prefix}`;
    const deadlineMs = config.etcd.dialTimeoutMs;
    this.deadlineMs = deadlineMs;
    this.endpoints = config.etcd.endpoints.join(',');
    this.client = new Etcd3({
      hosts: config.etcd.endpoints,
      dialTimeout: deadlineMs,
      faultHandling: { host: () => noop, global: noop },
      defaultCallOptions: context => (context.isStream ? {} : { deadline: Date.now() + deadlineMs }),
      // A watch on a connection that went silent (no RST: a load balancer's idle timeout, a
      // partition) would wait for ever; keepalive pings end it, and the router resyncs.
      grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 },
    });
  }

  events(): Observable<BindingStoreEvent> {
    return new Observable<BindingStoreEvent>(subscriber => {
      let watcher: Watcher | undefined;
      let connectTimer: NodeJS.Timeout | undefined;
      let closed = false;
      const fail = (err: unknown) => {
        if (!closed) subscriber.error(this.describe(err));
      };
      (async () => {
        const snapshot = await this.client.getAll().prefix(this.prefix).exec();
        if (closed) return;
        subscriber.next({ kind: 'snapshot', entries: snapshot.kvs.map(kv => this.entry(kv)) });
        // The subscriber may have gone while the snapshot was delivered: then no watch is made.
        if (closed) return;
        const next = (BigInt(snapshot.header.revision) + 1n).toString();
        // watcher(), not create(): every listener is attached before the watch can connect or
        // break, and the wait for it to connect is bounded here, not by the client's own retries.
        const w = this.client.watch().prefix(this.prefix).startRevision(next).watcher();
        watcher = w;
        connectTimer = setTimeout(() => fail(new Error(`the watch did not connect within ${this.deadlineMs} ms`)), this.deadlineMs);
        w.on('connected', () => clearTimeout(connectTimer));
        w.on('put', kv => subscriber.next({ kind: 'put', entry: this.entry(kv) }));
        w.on('delete', kv => subscriber.next({ kind: 'delete', key: this.key(kv) }));
        // The client would quietly resume a broken watch; a resync from a snapshot is simpler
        // to trust (a compacted revision cannot be resumed at all).
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

  async list(appId?: string): Promise<ListedBinding[]> {
    const kvs = await this.call(() => this.client.getAll().prefix(this.prefix + (appId === undefined ? '' : `${appId}/`)).exec());
    return kvs.kvs.flatMap(kv => {
      const parsed = parseStoreEntry(this.entry(kv));
      if (parsed.ok) return [{ appId: parsed.binding.appId, url: parsed.binding.drain.url }];
      this.logger.warn('invalid binding in etcd', { key: this.key(kv), reason: parsed.reason });
      return [];
    });
  }

  async bind(appId: string, url: string): Promise<boolean> {
    const entry = { key: `${appId}/${bindingIdOf(url)}`, value: JSON.stringify({ url }) };
    const check = parseStoreEntry(entry);
    if (!check.ok) throw new Error(check.reason);
    // Bound already under any id (the platform may choose its own): "already bound".
    if ((await this.keysOf(appId, url)).length > 0) return false;
    const key = this.prefix + entry.key;
    // Create only if absent, in one transaction, so a second `bind` reports "already bound".
    const result = await this.call(() => this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(entry.value)).commit());
    return result.succeeded;
  }

  /** Removes every key of the app that binds this drain (however spelled, under any id). */
  async unbind(appId: string, url: string): Promise<boolean> {
    const keys = await this.keysOf(appId, url);
    for (const key of keys) await this.call(() => this.client.delete().key(key).exec());
    return keys.length > 0;
  }

  /** The full keys of the app's records that bind the drain at `url` (compared in canonical form). */
  private async keysOf(appId: string, url: string): Promise<string[]> {
    const id = bindingIdOf(url);
    const records = await this.call(() => this.client.getAll().prefix(`${this.prefix}${appId}/`).exec());
    return records.kvs
      .filter(kv => {
        const parsed = parseStoreEntry(this.entry(kv));
        return parsed.ok && bindingIdOf(parsed.binding.drain.url) === id;
      })
      .map(kv => kv.key.toString());
  }

  async close(): Promise<void> {
    this.client.close();
  }

  private async call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.describe(err);
    }
  }

  /** gRPC's words ("14 UNAVAILABLE: No connection established…") as an operator's. */
  private describe(err: unknown): Error {
    const text = String((err as Error)?.message ?? err);
    if (/ECONNREFUSED|UNAVAILABLE|No connection established/.test(text)) {
      return new Error(`cannot reach etcd at ${this.endpoints}: connection refused or unavailable (is etcd running? check etcd.endpoints) [${text.slice(0, 120)}]`);
    }
    if (/DEADLINE_EXCEEDED|deadline/i.test(text)) {
      return new Error(`etcd at ${this.endpoints} did not answer within ${this.deadlineMs} ms (etcd.dialTimeoutMs) [${text.slice(0, 120)}]`);
    }
    return err instanceof Error ? err : new Error(text);
  }

  private key(kv: IKeyValue): string {
    return kv.key.toString().slice(this.prefix.length);
  }

  private entry(kv: IKeyValue): { key: string; value: string } {
    return { key: this.key(kv), value: kv.value.toString() };
  }
}
