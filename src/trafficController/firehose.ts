import { Socket } from 'node:net';
import { BehaviorSubject, Observable, Subject, Subscription, share } from 'rxjs';
import WebSocket, { WebSocketServer } from 'ws';
import { firehoseShares } from '../../streams/firehoseShares';
import { LogLine } from '../../streams/logLine';
import { routerFeeds } from '../../streams/routerFeeds';
import { RouterInfo } from '../../streams/routerInfo';
import { FIREHOSE_NOTICE_APP_ID, routerNotice } from '../../streams/routerNotice';
import { Logger } from '../logger';
import { runTailSession } from '../router/tailSession';
import { NOTICE_SOURCE, changeText } from './routerChangeText';
import { routerTail } from './routerTail';
import { TrafficControllerMetrics } from './trafficControllerMetrics';

export interface FirehoseOptions {
  readonly maxConsumers: number;
  readonly maxQueuedLines: number;
  readonly maxQueuedBytes: number;
  readonly highWaterBytes: number;
  readonly keepaliveMs: number;
  readonly routerReconnect: { readonly initialMs: number; readonly maxMs: number };
  /** The routers' API token (with sharedSecret). */
  readonly routerApiToken?: string;
}

/** One subscription: its consumers (each its own queue) and the lines they share. */
interface Group {
  readonly consumers: Map<string, Subject<LogLine>>;
  readonly members$: BehaviorSubject<readonly string[]>;
  readonly subscription: Subscription;
  /** Lines written to its consumers' sockets since the metric last read it. */
  sent: number;
}

/**
 * The firehose: every app's lines from every router, one stream per router for all
 * subscriptions (made when the first consumer comes, ended when the last leaves). Each
 * subscription gets every line once, split among its consumers by app (firehoseShares); each
 * consumer has its own bounded queue with drop notices, so a slow one loses only its own lines.
 * Notices about the routers behind the stream (a router left, a stream lost) go to every consumer.
 */
export class Firehose {
  readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  private readonly lines$: Observable<LogLine>;
  private readonly groups = new Map<string, Group>();
  private nextConsumer = 0;

  constructor(
    routers$: Observable<readonly RouterInfo[]>,
    private readonly metrics: TrafficControllerMetrics,
    private readonly opts: FirehoseOptions,
    private readonly logger: Logger,
    onRouterError: (router: RouterInfo, err: unknown) => void,
  ) {
    this.lines$ = routerFeeds<LogLine>(
      routers$,
      router =>
        routerTail(router, undefined, {
          keepaliveMs: opts.keepaliveMs,
          handshakeTimeoutMs: 10_000,
          onInvalidFrame: () => metrics.invalidRouterLines.inc(),
          apiToken: opts.routerApiToken,
        }),
      {
        backoff: { ...opts.routerReconnect, jitter: 0.5 },
        notice: change => routerNotice(FIREHOSE_NOTICE_APP_ID, changeText(change, ''), Date.now(), NOTICE_SOURCE),
        onError: onRouterError,
      },
    ).pipe(share({ resetOnRefCountZero: true }));
    metrics.beforeCollect(() => {
      for (const [id, group] of this.groups) {
        metrics.firehoseSent.inc({ subscription: id }, group.sent);
        group.sent = 0;
      }
    });
  }

  /** Consumers connected now, over all subscriptions. */
  get consumers(): number {
    return this.wss.clients.size;
  }

  /** Takes an upgraded consumer of `subscription` until its socket closes. */
  join(ws: WebSocket, socket: Socket, subscription: string): Subscription {
    const group = this.groups.get(subscription) ?? this.openGroup(subscription);
    const id = `consumer-${this.nextConsumer++}`;
    const lines$ = new Subject<LogLine>();
    group.consumers.set(id, lines$);
    group.members$.next([...group.consumers.keys()]);
    this.metrics.firehoseConsumers.inc({ subscription });
    const session = runTailSession(
      ws,
      lines$,
      undefined,
      {
        appId: FIREHOSE_NOTICE_APP_ID,
        socket,
        maxQueued: this.opts.maxQueuedLines,
        maxQueuedBytes: this.opts.maxQueuedBytes,
        highWaterBytes: this.opts.highWaterBytes,
        keepaliveMs: this.opts.keepaliveMs,
        onDrop: n => {
          this.metrics.dropped.inc({ reason: 'firehose_slow_consumer' }, n);
          this.metrics.firehoseDropped.inc({ subscription }, n);
        },
        onSent: () => group.sent++,
        noticeSource: NOTICE_SOURCE,
      },
      this.logger,
    );
    session.add(() => this.leave(subscription, id));
    return session;
  }

  private openGroup(id: string): Group {
    const consumers = new Map<string, Subject<LogLine>>();
    const members$ = new BehaviorSubject<readonly string[]>([]);
    const subscription = firehoseShares(this.lines$, members$, { forEveryone: isForEveryone }).subscribe(share => {
      if (share.to === undefined) for (const consumer of consumers.values()) consumer.next(share.line);
      else consumers.get(share.to)?.next(share.line);
    });
    const group: Group = { consumers, members$, subscription, sent: 0 };
    this.groups.set(id, group);
    this.metrics.firehoseSent.inc({ subscription: id }, 0);
    this.metrics.firehoseDropped.inc({ subscription: id }, 0);
    return group;
  }

  private leave(subscription: string, id: string): void {
    const group = this.groups.get(subscription);
    if (!group?.consumers.delete(id)) return;
    this.metrics.firehoseConsumers.dec({ subscription });
    group.members$.next([...group.consumers.keys()]);
    if (group.consumers.size > 0) return;
    // The last consumer left: the subscription ends, and with it its series (ids are the clients' to choose).
    group.subscription.unsubscribe();
    this.groups.delete(subscription);
    this.metrics.forgetSubscription(subscription);
  }
}

/** The traffic controller's notices (no router) and a router's notices about its own firehose stream. */
function isForEveryone(line: LogLine): boolean {
  return line.origin === undefined || (line.appId === FIREHOSE_NOTICE_APP_ID && line.envelope.sourceType === 'LGR');
}
