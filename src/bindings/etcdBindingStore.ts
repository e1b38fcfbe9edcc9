import { Etcd3, IKeyValue } from 'etcd3';
import { Observable } from 'rxjs';
import { bindingIdOf, parseStoreEntry } from '../../streams/binding';
import { BindingStoreEvent } from '../../streams/bindingSets';
import { ConfigError, Config } from '../config/loadConfig';
import { createEtcdClient, describeEtcdError } from '../etcd/etcdClient';
import { prefixEvents } from '../etcd/prefixEvents';
import { Logger } from '../logger';
import { BindingStore, ListedBinding } from './bindingStore';

/**
 * Bindings in etcd (v3): `<prefix><appId>/<bindingId>` → `{"url": "…"}`. Each subscription reads
 * the current set and watches from the revision after it, so no change between the read and
 * the watch is missed. Any failure (etcd unreachable, restarted, the watch cancelled) errors the
 * stream; the router resubscribes with its own backoff and starts again from a snapshot, and
 * until then keeps the last known set (see prefixEvents, createEtcdClient).
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
    this.deadlineMs = config.etcd.dialTimeoutMs;
    this.endpoints = config.etcd.endpoints.join(',');
    this.client = createEtcdClient(config);
  }

  events(): Observable<BindingStoreEvent> {
    return prefixEvents(this.client, this.prefix, this.deadlineMs, err => this.describe(err));
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

  private describe(err: unknown): Error {
    return describeEtcdError(err, this.endpoints, this.deadlineMs);
  }

  private key(kv: IKeyValue): string {
    return kv.key.toString().slice(this.prefix.length);
  }

  private entry(kv: IKeyValue): { key: string; value: string } {
    return { key: this.key(kv), value: kv.value.toString() };
  }
}
