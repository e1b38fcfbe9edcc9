import { AddressInfo } from 'node:net';
import { advertisedAddress } from '../cluster/routerDiscovery';
import { registerRouter } from '../cluster/routerRegistration';
import { Config } from '../config/loadConfig';
import { createEtcdClient, describeEtcdError } from '../etcd/etcdClient';
import { Logger } from '../logger';

/** A router's etcd registration (routers.discovery etcd); close() deregisters, then lingers. */
export interface Registration {
  close(): Promise<void>;
}

/**
 * Registers the router in etcd once its ports listen (whoever finds it can use it at once), when
 * routers.discovery is etcd; undefined otherwise. Closing revokes the lease, then waits while
 * agents' watches catch up (ingest goes on meanwhile, so what they send until then is not refused).
 */
export function registerIfEtcd(
  config: Config,
  id: string,
  udp: AddressInfo,
  http: AddressInfo,
  onError: () => void,
  logger: Logger,
): Registration | undefined {
  if (config.routers.discovery !== 'etcd') return undefined;
  const info = { id, udp: advertisedAddress(config, udp, 'udp'), http: advertisedAddress(config, http, 'http') };
  const etcd = createEtcdClient(config);
  const endpoints = config.etcd.endpoints.join(',');
  const registration = registerRouter(etcd, {
    prefix: config.routers.etcdPrefix,
    ttlSeconds: config.routers.leaseTtlSeconds,
    info,
    reconnect: config.routers.reconnect,
    logger: logger.child({ component: 'registration' }),
    onError,
    describe: err => describeEtcdError(err, endpoints, config.etcd.dialTimeoutMs),
    // Bounded so that the revoke, the linger and the drains' flush fit in shutdownSeconds.
    closeTimeoutMs: REVOKE_TIMEOUT_MS,
  });
  logger.info('registering in etcd', { id, key: config.routers.etcdPrefix + id, udp: info.udp, http: info.http, ttlSeconds: config.routers.leaseTtlSeconds });
  return {
    close: async () => {
      await registration.close();
      await new Promise(resolve => setTimeout(resolve, DEREGISTERED_LINGER_MS));
      etcd.close();
    },
  };
}

/** Longest wait for the lease revoke on close (etcd away: the lease then expires by itself). */
const REVOKE_TIMEOUT_MS = 750;
/** Ingest kept open after deregistering, while agents' watches catch up. */
const DEREGISTERED_LINGER_MS = 500;

