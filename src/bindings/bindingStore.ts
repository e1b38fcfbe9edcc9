import { Observable } from 'rxjs';
import { BindingStoreEvent } from '../../streams/bindingSets';
import { Config } from '../config/loadConfig';
import { Logger } from '../logger';
import { EtcdBindingStore } from './etcdBindingStore';
import { FileBindingStore } from './fileBindingStore';

/** One binding as the CLI lists it. */
export interface ListedBinding {
  readonly appId: string;
  readonly url: string;
}

/**
 * Where app → drain bindings live: the file store (one router, `npm run serve`) or etcd (a
 * cluster). Same shape either way, so the router and the CLI do not care which.
 */
export interface BindingStore {
  /** What the router describes the store as, in logs. */
  readonly description: string;
  /**
   * The store's records from now on: a snapshot first, then changes. Errors when the store is
   * unreachable or the watch breaks; the caller resubscribes (with backoff), which starts again
   * with a snapshot.
   */
  events(): Observable<BindingStoreEvent>;
  list(appId?: string): Promise<ListedBinding[]>;
  /** Binds; false if the app already had this URL. */
  bind(appId: string, url: string): Promise<boolean>;
  /** Unbinds; false if the app did not have this URL. */
  unbind(appId: string, url: string): Promise<boolean>;
  close(): Promise<void>;
}

export function openBindingStore(config: Config, logger: Logger): BindingStore {
  if (config.bindings.store === 'etcd') return new EtcdBindingStore(config, logger);
  return new FileBindingStore(config.dataDir, logger);
}
