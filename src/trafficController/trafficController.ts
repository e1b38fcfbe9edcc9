import { routerApiToken } from '../auth/routerApiToken';
import { AddressInfo } from 'node:net';
import { Etcd3 } from 'etcd3';
import { Observable, Subscription, shareReplay } from 'rxjs';
import { RouterInfo } from '../../streams/routerInfo';
import { Authorizer, openAuthorizer } from '../auth/authorizer';
import { routers$ as discoverRouters } from '../cluster/routerDiscovery';
import { Config, ConfigError } from '../config/loadConfig';
import { createEtcdClient } from '../etcd/etcdClient';
import { Logger } from '../logger';
import { TrafficControllerApi } from './trafficControllerApi';
import { TrafficControllerMetrics } from './trafficControllerMetrics';

export interface TrafficController {
  readonly httpAddress: AddressInfo;
  readonly metrics: TrafficControllerMetrics;
  close(): Promise<void>;
}

export interface TrafficControllerDeps {
  /**
   * The routers to merge; by default those config discovers (routers.static or etcd). Until it
   * first emits, /recent answers 503 and tails wait for it (see KnownRouters).
   */
  readonly routers$?: Observable<readonly RouterInfo[]>;
  /** Who may read which app; by default the one trafficController.auth names (closed with it). */
  readonly authorizer?: Authorizer;
}

/**
 * One traffic controller's wiring:
 *   routers$ (static list or etcd; failures and invalid records counted) → shared, latest set
 *     replayed to each client session; until the first set, /recent is 503 (see routersUnknown)
 *   websocket /tail → authorize → one stream per live router, merged (routerFeeds) → bounded queue
 *   GET /recent → authorize → every live router asked in parallel, merged by timestamp
 */
export async function startTrafficController(config: Config, logger: Logger, deps: TrafficControllerDeps = {}): Promise<TrafficController> {
  const opts = config.trafficController;
  if (deps.routers$ === undefined && config.routers.discovery === 'static') {
    if (config.routers.static.length === 0) {
      throw new ConfigError('invalid configuration: routers.static is empty: the traffic controller has no router to ask (list them, or use routers.discovery "etcd")');
    }
    if (config.routers.static.some(r => r.http === undefined)) {
      throw new ConfigError('invalid configuration: the traffic controller needs every router in routers.static to have an "http" address');
    }
  }
  const metrics = new TrafficControllerMetrics();
  let client: Etcd3 | undefined;
  let source$ = deps.routers$;
  if (source$ === undefined) {
    if (config.routers.discovery === 'etcd') client = createEtcdClient(config);
    // Every bad input is a counted rejection: a failed etcd read or watch (retried; the last known
    // set stays in use), and each invalid record (left out; discovery logs it with its key).
    source$ = discoverRouters(config, {
      client,
      logger,
      onError: () => metrics.routerDiscoveryErrors.inc(),
      onInvalid: reason => metrics.invalidRouterRecords.inc({ reason }),
    });
  }
  // One read of the set for the whole process; each tail session gets the latest at once.
  const shared$ = source$.pipe(shareReplay({ bufferSize: 1, refCount: true }));
  let authorizer: Authorizer;
  try {
    authorizer = deps.authorizer ?? (await openAuthorizer(config, logger));
  } catch (err) {
    client?.close();
    metrics.close();
    throw err;
  }
  const api = new TrafficControllerApi(shared$, authorizer, metrics, {
      ...opts,
      recheckMs: opts.auth.recheckSeconds * 1000,
      ...(config.sharedSecret === null ? {} : { routerApiToken: routerApiToken(config.sharedSecret) }),
    }, logger);
  let known = new Set<string>();
  const following: Subscription = shared$.subscribe({
    next: routers => {
      // A router gone from the set takes its metric series with it: ids come and go (containers).
      const ids = new Set(routers.map(r => r.id));
      for (const id of known) if (!ids.has(id)) metrics.forgetRouter(id);
      known = ids;
      api.setRouters(routers);
      metrics.routers.set(routers.length);
      logger.info('routers', { routers: routers.map(r => `${r.id}=${r.http ?? '?'}`) });
    },
    // Discovery retries by itself and never errors; if it did, the last set would stay for good:
    // counted, so that it shows.
    error: err => {
      metrics.routerDiscoveryErrors.inc();
      logger.error('router discovery failed; the last known set stays in use until a restart', { error: String(err) });
    },
  });
  try {
    await api.listen(opts.http.host, opts.http.port);
  } catch (err) {
    following.unsubscribe();
    if (deps.authorizer === undefined) await authorizer.close();
    await client?.close();
    metrics.close();
    throw err;
  }
  logger.info('traffic controller authorizes with', { authorizer: authorizer.description });
  return {
    httpAddress: api.server.address() as AddressInfo,
    metrics,
    close: async () => {
      await api.close((config.router.shutdownSeconds * 1000) / 2);
      following.unsubscribe();
      if (deps.authorizer === undefined) await authorizer.close();
      client?.close();
      metrics.close();
    },
  };
}
