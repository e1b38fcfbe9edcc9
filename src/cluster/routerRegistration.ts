import { Etcd3, EtcdLeaseInvalidError, Lease } from 'etcd3';
import { BehaviorSubject, Observable, Subject, Subscription, defer, distinctUntilChanged, exhaustMap, timer } from 'rxjs';
import { reconnectWithBackoff } from '../../streams/backoff';
import { RouterInfo } from '../../streams/routerInfo';
import { Logger } from '../logger';
import { encodeRouterRecord } from './routerRecord';

export interface RouterRegistrationOptions {
  /** routers.etcdPrefix: the record is `<prefix><id>`. */
  readonly prefix: string;
  /** routers.leaseTtlSeconds: a router that dies without deregistering is gone this long after. */
  readonly ttlSeconds: number;
  readonly info: RouterInfo;
  /** routers.reconnect: the wait before registering again after the lease is lost (jittered). */
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly logger: Logger;
  /** Counts each lost lease, failed registration and failed check (a metric). */
  readonly onError?: () => void;
  /** etcd's errors in an operator's words (describeEtcdError with the configured endpoints). */
  readonly describe?: (err: unknown) => Error;
  /** How often the record is checked (and put back if it was deleted or changed); default TTL / 3. */
  readonly checkMs?: number;
  /** Longest wait for the revoke in close(); default the smaller of the TTL and 3 s. */
  readonly closeTimeoutMs?: number;
}

export interface RouterRegistration {
  /**
   * Whether the record is in etcd under a live lease, as far as this router knows: false until
   * the first put, false from a lost lease until a new one holds the record, false after
   * close(). Hot, replays the current value to a late subscriber, completes on close().
   */
  readonly registered$: Observable<boolean>;
  /** Revokes the lease (the record is gone at once) within a bounded wait. Never throws; idempotent. */
  close(): Promise<void>;
}

/**
 * Registers a router in etcd for as long as it runs: `<prefix><id>` → encodeRouterRecord(info),
 * under a lease of `ttlSeconds` that etcd3 keeps alive.
 *
 * The lifetime is one Observable pipeline, owned by the subscription close() ends:
 *
 *   session$ (one lease) ──reconnectWithBackoff──▶ registered$
 *
 * A session grants a lease and, every `checkMs` from the start, runs one transaction: "if the
 * record holds our value under our lease, nothing; else put it under our lease". The first run
 * registers; later runs repair. This periodic check was chosen over a watch of the router's own
 * key (and over re-putting on keepalive failures, which would not notice a delete at all): one
 * mechanism covers a record deleted by someone else, one overwritten (another value, or another
 * lease: e.g. a second router given the same id, which the warning then shows), and one left
 * behind by an older lease; it adds no second stream with its own connect, break and resync
 * logic; a check that finds all well is a read-only transaction (no new revision, so no event for
 * the watchers of the prefix); and a repair comes within TTL / 3, the cadence of the keepalives.
 *
 * A lost lease (etcd3's 'lost': no keepalive answered for 2 × TTL, or etcd says the lease is
 * expired or revoked; also a grant that fails) ends the session with an error: a warning, a
 * count, and after a jittered backoff a new session with a fresh lease. A check that fails for
 * another reason (etcd briefly away) leaves the lease to etcd3's keepalive, which judges it.
 */
export function registerRouter(client: Etcd3, opts: RouterRegistrationOptions): RouterRegistration {
  const key = opts.prefix + opts.info.id;
  const value = encodeRouterRecord(opts.info);
  const describe = opts.describe ?? ((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  const checkMs = opts.checkMs ?? Math.max(100, Math.round((opts.ttlSeconds * 1000) / 3));
  const closeTimeoutMs = opts.closeTimeoutMs ?? Math.min(opts.ttlSeconds * 1000, 3000);
  const logger = opts.logger.child({ routerId: opts.info.id, key });
  const registered = new BehaviorSubject<boolean>(false);
  const stop$ = new Subject<void>();
  /** The revoke of the latest session's lease, started by its teardown; close() waits for it. */
  let revoking: Promise<void> = Promise.resolve();

  const session$ = defer(
    () =>
      new Observable<boolean>(subscriber => {
        const lease: Lease = client.lease(opts.ttlSeconds);
        let lost = false;
        let putOnce = false;
        let failing = false;
        let heldElsewhere = false;
        lease.on('lost', err => {
          lost = true;
          subscriber.error(new LeaseLost(describe(err).message));
        });
        // A failed check errors the session only when the lease is gone or the first put failed;
        // otherwise it is reported once per run of failures and the next check tries again.
        const check = async (): Promise<CheckOutcome | 'failed'> => {
          try {
            return await checkRecord(client, lease, key, value);
          } catch (err) {
            if (err instanceof EtcdLeaseInvalidError) throw new LeaseLost(describe(err).message);
            if (!putOnce) throw err;
            if (!failing) {
              logger.warn('cannot check the router registration in etcd; the lease keepalive decides whether it is lost', { error: describe(err).message });
              opts.onError?.();
            }
            failing = true;
            return 'failed';
          }
        };
        const checks = timer(0, checkMs)
          .pipe(exhaustMap(() => defer(check)))
          .subscribe({
            next: outcome => {
              if (outcome === 'failed') return;
              if (failing) logger.info('the router registration checks again fine');
              failing = false;
              if (typeof outcome === 'object') {
                // Not ours to take: this router stays out of the set until the holder is gone.
                if (!heldElsewhere) {
                  logger.error(
                    'another router holds this router id in etcd; this router is not registered (agents send it nothing) until that record goes: give every router its own router.id',
                    { heldBy: outcome.heldBy, ttlSeconds: opts.ttlSeconds },
                  );
                  opts.onError?.();
                }
                heldElsewhere = true;
                subscriber.next(false);
                return;
              }
              const wasHeld = heldElsewhere;
              heldElsewhere = false;
              if (wasHeld) {
                logger.info('the router id is free again in etcd; router registered', { udp: opts.info.udp, http: opts.info.http });
              } else if (outcome === 'put' && putOnce) {
                logger.warn('the router registration was deleted or changed by someone else (another router with this id?); put it back');
                opts.onError?.();
              } else if (outcome === 'put') {
                logger.info('router registered in etcd', { udp: opts.info.udp, http: opts.info.http, ttlSeconds: opts.ttlSeconds });
              }
              putOnce = true;
              subscriber.next(true);
            },
            error: (err: unknown) => subscriber.error(err),
          });
        return () => {
          checks.unsubscribe();
          if (lost) {
            lease.release();
            return;
          }
          // Best effort: a lease whose etcd is away expires there on its own after the TTL.
          revoking = lease.revoke().catch((err: unknown) => {
            logger.warn('could not revoke the lease of the router registration; its record goes when the lease expires', { error: describe(err).message, ttlSeconds: opts.ttlSeconds });
          });
        };
      }),
  );

  const owner: Subscription = session$
    .pipe(
      reconnectWithBackoff(stop$, {
        ...opts.reconnect,
        jitter: 0.5,
        onRetry: (err, attempt, delayMs) => {
          registered.next(false);
          const reason = err === undefined ? 'the registration ended' : describe(err).message;
          logger.warn('router registration lost; registering again with a new lease', { reason, attempt, retryInMs: delayMs });
          opts.onError?.();
        },
      }),
    )
    .subscribe({ next: ok => registered.next(ok) });

  let closing: Promise<void> | undefined;
  return {
    registered$: registered.pipe(distinctUntilChanged()),
    close: () =>
      (closing ??= (async () => {
        stop$.next();
        owner.unsubscribe();
        let timeout: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>(resolve => (timeout = setTimeout(() => resolve('late'), closeTimeoutMs)));
        try {
          // `revoking` never rejects.
          if ((await Promise.race([revoking.then(() => 'done' as const), late])) === 'late') {
            logger.warn('could not deregister the router in time; its record goes when the lease expires', { ttlSeconds: opts.ttlSeconds });
          }
        } finally {
          clearTimeout(timeout);
          registered.next(false);
          registered.complete();
        }
      })()),
  };
}

/** The session's lease is gone: register again with a new one. */
class LeaseLost extends Error {
  override name = 'LeaseLost';
  constructor(reason: string) {
    super(`etcd lease lost: ${reason}`);
  }
}

/** What one check found: all well, the record (re)put under our lease, or held by another router. */
type CheckOutcome = 'ok' | 'put' | { readonly heldBy: string };

/**
 * Whether `key` holds `value` under `lease` ('ok'); if not, puts it there when the key is free to
 * take ('put'), else says who holds it. Free to take: no record; a record under our own lease (its
 * value was changed); a record without a lease (written by hand: no live router holds it); a record
 * with our value under another lease (our own earlier run, whose lease has not expired yet). A
 * record with another value under another live lease is another router's: two routers given one
 * id would otherwise overwrite each other on every check, and the agents' apps would flap between
 * them. Each put is conditional on the record read, so two routers racing for a free key cannot
 * both win; a record that changed in between is read again (a few times, then the next check).
 */
async function checkRecord(client: Etcd3, lease: Lease, key: string, value: string): Promise<CheckOutcome> {
  const id = await lease.grant();
  for (let attempt = 0; attempt < 3; attempt++) {
    const found = await client.if(key, 'Lease', '==', id).and(key, 'Value', '==', value).else(client.get(key)).commit();
    if (found.succeeded) return 'ok';
    const held = found.responses[0]?.response_range?.kvs[0];
    const put = client.put(key).value(value).lease(id);
    if (held === undefined) {
      if ((await client.if(key, 'Create', '==', 0).then(put).commit()).succeeded) return 'put';
      continue;
    }
    const other = held.value.toString();
    if (held.lease !== id && held.lease !== '0' && other !== value) return { heldBy: other.slice(0, 300) };
    if ((await client.if(key, 'Mod', '==', held.mod_revision).then(put).commit()).succeeded) return 'put';
  }
  return { heldBy: '(a record that kept changing while it was read)' };
}
