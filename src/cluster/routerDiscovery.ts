import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Etcd3 } from 'etcd3';
import { NEVER, Observable, concat, defer, of } from 'rxjs';
import { reconnectWithBackoff } from '../../streams/backoff';
import { RouterInfo } from '../../streams/routerInfo';
import { routerSets } from '../../streams/routerSets';
import { Config, ConfigError } from '../config/loadConfig';
import { describeEtcdError } from '../etcd/etcdClient';
import { prefixEvents } from '../etcd/prefixEvents';
import { Logger } from '../logger';
import { InvalidRouterRecordReason, ROUTER_ID, isHostPort, parseRouterRecord } from './routerRecord';

export interface RouterDiscoveryDeps {
  /** Needed when routers.discovery is "etcd" (createEtcdClient(config)); the caller closes it. */
  readonly client?: Etcd3;
  readonly logger: Logger;
  /** Counts each invalid router record (logged once, with its key and what is wrong), by reason label. */
  readonly onInvalid?: (reason: InvalidRouterRecordReason) => void;
  /** Counts each failed read or watch of the routers in etcd. */
  readonly onError?: () => void;
}

/**
 * The routers of the cluster, each time the set changes (sorted by id).
 *
 * - routers.discovery "static": routers.static, once, sorted by id like every set (an id is the
 *   configured one, or the UDP address when none is given); then nothing, and no completion:
 *   the set never changes.
 * - "etcd": the records under routers.etcdPrefix (see routerRecord), read as a snapshot and then
 *   watched. On any etcd failure the read is made again after a jittered backoff
 *   (routers.reconnect) and the set is worked out from the new snapshot; meanwhile nothing is
 *   emitted, so the consumer keeps the last known set, and a resync that finds the same routers
 *   emits nothing. Invalid records are left out and logged once each (warn, with the key).
 *
 * Cold: each subscription reads and watches etcd on its own, and gets the current set as its
 * first value. Callers whose several consumers need the set share one subscription:
 * `routers$(config, deps).pipe(shareReplay({ bufferSize: 1, refCount: true }))` (a late
 * subscriber then gets the latest set at once; the watch ends with the last subscriber).
 */
export function routers$(config: Config, deps: RouterDiscoveryDeps): Observable<readonly RouterInfo[]> {
  if (config.routers.discovery === 'static') {
    const routers = config.routers.static.map((r): RouterInfo => ({ id: r.id ?? r.udp, udp: r.udp, ...(r.http === undefined ? {} : { http: r.http }) }));
    routers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return concat(of(routers), NEVER);
  }
  const client = deps.client;
  if (client === undefined) throw new Error('routers$: routers.discovery is "etcd" but no etcd client was given');
  const endpoints = config.etcd.endpoints.join(',');
  const deadlineMs = config.etcd.dialTimeoutMs;
  const describe = (err: unknown) => describeEtcdError(err, endpoints, deadlineMs);
  const prefix = config.routers.etcdPrefix;
  const logger = deps.logger;
  // The reconnect is around the events, not around routerSets: the set known so far survives a
  // reconnect, so a resync snapshot that changes nothing emits nothing, and an invalid record is
  // not reported again on each resync.
  const event$ = defer(() => prefixEvents(client, prefix, deadlineMs, describe)).pipe(
    reconnectWithBackoff(NEVER, {
      ...config.routers.reconnect,
      jitter: 0.5,
      onRetry: (err, attempt, delayMs) => {
        const reason = err === undefined ? 'the watch ended' : (err as Error).message;
        logger.warn('cannot read the routers from etcd; the last known set stays in use', { prefix, error: reason, attempt, retryInMs: delayMs });
        deps.onError?.();
      },
    }),
  );
  return routerSets(event$, {
    parse: parseRouterRecord,
    onInvalid: (key, reason, record) => {
      logger.warn('invalid router record in etcd; left out', { key: prefix + key, reason });
      deps.onInvalid?.(record.reason);
    },
  });
}

/** This router's id: router.id, or HOSTNAME-UDPPORT made to fit the id pattern (router-UDPPORT if no host name is left). */
export function routerIdOf(config: Config, udpPort: number): string {
  if (config.router.id !== null) return config.router.id;
  const suffix = `-${udpPort}`;
  // The port is kept whole (two routers on one host differ by it); a long host name is cut.
  const host = hostname()
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128 - suffix.length);
  const fitted = host + suffix;
  return ROUTER_ID.test(fitted) ? fitted : `router${suffix}`;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::0']);

/**
 * HOST:PORT that other processes reach this router's `kind` socket at, to register: the host is
 * router.advertiseHost, or else the bound address. A wildcard bind (0.0.0.0, ::) says nothing about
 * where the router is: with etcd discovery it is a ConfigError telling the operator to set
 * router.advertiseHost; with static discovery (the address is then only shown, never registered)
 * it is the loopback address. An IPv6 host is written in brackets.
 */
export function advertisedAddress(config: Config, bound: Pick<AddressInfo, 'address' | 'port'>, kind: 'udp' | 'http'): string {
  let host = config.router.advertiseHost;
  if (host === null) {
    if (WILDCARDS.has(bound.address)) {
      if (config.routers.discovery === 'etcd') {
        throw new ConfigError(
          `invalid configuration: router.${kind}.host is ${bound.address} (every interface), so there is no one address to register in etcd: ` +
            'set router.advertiseHost (LOGGREGATOR_ROUTER_ADVERTISE_HOST) to the host name or IP address other machines reach this router at',
        );
      }
      host = bound.address.includes(':') ? '::1' : '127.0.0.1';
    } else {
      host = bound.address;
    }
  }
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${bound.port}` : `${host}:${bound.port}`;
  if (!isHostPort(address)) {
    const from = config.router.advertiseHost === null ? `the bound address ${JSON.stringify(bound.address)}` : `router.advertiseHost ${JSON.stringify(host)}`;
    throw new ConfigError(`invalid configuration: ${from} does not make a HOST:PORT address to register (${JSON.stringify(address)}): set router.advertiseHost to a host name, an IPv4 address or an IPv6 address`);
  }
  return address;
}
