import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Socket } from 'node:net';
import { acceptApiRequest } from '../http/apiRequest';
import { isAppsRequest } from '../http/appsRequest';
import { answerClientErrors, closeServer, listen } from '../http/serverLifecycle';
import { admitTailUpgrade, firehoseFull } from '../http/tailUpgrade';
import { Duplex } from 'node:stream';
import { Observable, Subscription, concatMap, exhaustMap, finalize, from, interval, map, merge, share, tap } from 'rxjs';
import WebSocket, { WebSocketServer } from 'ws';
import { LogLine } from '../../streams/logLine';
import { mergeRecent } from '../../streams/recentMerge';
import { routerFeeds } from '../../streams/routerFeeds';
import { RouterInfo } from '../../streams/routerInfo';
import { routerNotice } from '../../streams/routerNotice';
import { AuthDecision, Authorizer } from '../auth/authorizer';
import { bearerToken } from '../auth/bearerToken';
import { TailConfig } from '../config/loadConfig';
import { AppQuery, parseAppQuery } from '../http/appQuery';
import { sendNdjson } from '../http/ndjsonAnswer';
import { Refusal, sendRefusal } from '../http/refusal';
import { Logger } from '../logger';
import { runTailSession } from '../router/tailSession';
import { RejectionLog } from '../router/rejectionLog';
import { AppsEndpoint } from './appsEndpoint';
import { ClusterApps } from './clusterApps';
import { withOwnOrigin } from './consoleOrigin';
import { KnownRouters } from './knownRouters';
import { OpenStreams } from './openStreams';
import { RecentFailure, routerRecent } from './routerRecent';
import { RecentSlots } from './recentSlots';
import { routersUnknown } from './routersUnknown';
import { routerTail } from './routerTail';
import { TrafficControllerMetrics } from './trafficControllerMetrics';
import { Firehose } from './firehose';
import { FirehoseCheck, isFirehoseCheck } from './firehoseCheck';
import { subscriptionOf } from './firehoseSubscription';
import { NOTICE_SOURCE, changeText } from './routerChangeText';
import { WebConsole } from './webConsole';

/** /recent merges being worked on at once; more are refused with 503 (each holds answers in memory). */
const MAX_RECENT_IN_FLIGHT = 16;
/** /recent requests whose token is being checked at once (each may be a callout). */
const MAX_RECENT_AUTHORIZING = 256;

/** What an operator should check when a router refuses the traffic controller. */
function refusalHint(message: string): string {
  return /\b401\b/.test(message)
    ? `${message}: the router wants the routers' API token; is sharedSecret the same on the traffic controller and the router?`
    : message;
}
export interface TrafficControllerApiOptions {
  readonly tail: TailConfig;
  readonly recent: { readonly timeoutMs: number; readonly maxLines: number; readonly maxBytesPerRouter: number };
  readonly routerReconnect: { readonly initialMs: number; readonly maxMs: number };
  /** How often an open tail's token is checked again. */
  readonly recheckMs: number;
  readonly firehose: { readonly maxConsumers: number; readonly maxQueuedLines: number; readonly maxQueuedBytes: number };
  /** The routers' API token, when sharedSecret is set (routers then refuse /recent and /tail without it). */
  readonly routerApiToken?: string;
}

/** A recent merge: the lines, and the routers whose answers are missing from it (and why). */
interface MergedRecent {
  /** Each line knows the router it came from (the tail's seam needs it). */
  readonly lines: LogLine[];
  readonly asked: number;
  readonly skipped: { readonly router: RouterInfo; readonly reason: string }[];
}

/**
 * The traffic controller's HTTP face, the clients' one front door: websocket /tail and GET
 * /recent merge every live router's answer for one app, after the caller's token was checked
 * for that app; /health and /metrics need no token. Refusals are JSON `{"error": ...}` with a
 * status that says whose fault it was (401 no or unknown token, 403 app not allowed, 503 not
 * now: at a limit, the authorizer down, or the router set not known yet).
 */
export class TrafficControllerApi {
  readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: true });
  /** Recent merges at once (GET /recent and recent=true tails), each holding every router's answer. */
  private readonly recentSlots = new RecentSlots(MAX_RECENT_IN_FLIGHT);
  private closing = false;
  /** A router that refuses the TC (at most one warning per router per minute): usually a sharedSecret mismatch. */
  private readonly routerRefusals: RejectionLog;
  /** /recent requests being authorized: bounded, so requests with random tokens cannot start callouts without limit. */
  private recentAuthorizing = 0;
  /** Upgrades accepted but not yet complete (authorizing): they count against maxClients. */
  private upgrading = 0;
  private firehoseUpgrading = 0;
  /** Every app's lines for operators' consumers (GET /firehose). */
  private readonly firehose: Firehose;
  /** The set /recent asks; none until discovery has answered (see KnownRouters). */
  private readonly routers = new KnownRouters();
  /** Apps being tailed: their shared live lines (see liveLines), and which routers' streams are open. */
  private readonly appFeeds = new Map<string, { readonly lines$: Observable<LogLine>; readonly open: OpenStreams }>();
  /** The web console's page and assets, and the app list it picks from. */
  private readonly webConsole: WebConsole;
  private readonly apps: AppsEndpoint;
  /** GET /firehose without an upgrade: whether the caller's token would be let in (for the web console). */
  private readonly firehoseCheck: FirehoseCheck;

  constructor(
    private readonly routers$: Observable<readonly RouterInfo[]>,
    private readonly authorizer: Authorizer,
    private readonly metrics: TrafficControllerMetrics,
    private readonly opts: TrafficControllerApiOptions,
    private readonly logger: Logger,
  ) {
    this.routerRefusals = new RejectionLog(logger, 'a router refused the traffic controller', 60_000);
    this.firehose = new Firehose(
      routers$,
      metrics,
      {
        ...opts.firehose,
        highWaterBytes: opts.tail.socketHighWaterBytes,
        keepaliveMs: opts.tail.keepaliveSeconds * 1000,
        routerReconnect: opts.routerReconnect,
        routerApiToken: opts.routerApiToken,
      },
      logger,
      (router, err) => this.routerStreamFailed(router, err),
    );
    this.webConsole = new WebConsole({ refuse: (res, refusal) => this.refuse(res, refusal) });
    this.apps = new AppsEndpoint({
      routers: () => this.routers.current,
      cluster: new ClusterApps(metrics.registry, { timeoutMs: opts.recent.timeoutMs, apiToken: opts.routerApiToken }),
      authorize: (req, url, app) => this.authorize(req, url, false, token => this.authorizer.authorize(token, app)),
      refuse: (res, refusal) => this.refuse(res, refusal),
      logger,
    });
    this.firehoseCheck = new FirehoseCheck({
      authorize: (req, url) => this.authorize(req, url, false, token => this.authorizer.authorizeFirehose(token)),
      full: () => firehoseFull(this.firehoseClients()),
      refuse: (res, refusal) => this.refuse(res, refusal),
      logger,
    });
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    answerClientErrors(this.server, () => this.metrics.refused.inc({ reason: 'bad_request' }));
  }

  /** The router set /recent asks (tail sessions follow routers$ themselves). */
  setRouters(routers: readonly RouterInfo[]): void {
    const ids = new Set(routers.map(r => r.id));
    for (const gone of this.routers.current ?? []) if (!ids.has(gone.id)) this.routerRefusals.forget(gone.id);
    this.routers.update(routers);
  }

  listen(host: string, port: number): Promise<void> {
    return listen(this.server, host, port);
  }

  get tailClients(): number {
    return this.wss.clients.size;
  }

  /** Closes every tail client with 1001 (going away), then the server; stragglers are cut after graceMs. */
  async close(graceMs = 1000): Promise<void> {
    // Upgrades still being authorized are refused when their answer comes: a client accepted
    // after the grace period would never be closed, nor the server.
    this.closing = true;
    await closeServer(this.server, [this.wss, this.firehose.wss], graceMs, 'traffic controller shutting down');
  }

  private refuse(res: ServerResponse, refusal: Refusal): void {
    this.metrics.refused.inc({ reason: refusal.reason });
    sendRefusal(res, refusal);
  }

  /** The caller's right to read what `decide` is asked about, or the refusal to answer with. Never rejects. */
  private async authorize(req: IncomingMessage, url: URL, allowQuery: boolean, decide: (token: string) => Promise<AuthDecision>): Promise<Refusal | undefined> {
    const found = bearerToken(req.headers, url, { allowQuery });
    const challenge = { 'WWW-Authenticate': 'Bearer realm="loggregator"' };
    if (found.kind === 'none') {
      const how = allowQuery ? 'send "Authorization: Bearer <token>" or ?access_token=<token>' : 'send "Authorization: Bearer <token>"';
      return new Refusal(401, 'unauthorized', `a token is required: ${how}`, challenge);
    }
    if (found.kind === 'malformed') return new Refusal(401, 'unauthorized', found.message, { 'WWW-Authenticate': 'Bearer realm="loggregator", error="invalid_request"' });
    let decision;
    try {
      decision = await decide(found.token);
    } catch (err) {
      // An authorizer must not reject; if one does anyway, the caller is refused, not let in.
      this.logger.error('authorizer failed', { error: String((err as Error).message ?? err) });
      return new Refusal(503, 'authorizer_unavailable', 'cannot check authorization right now; try again');
    }
    if (decision.allowed) return undefined;
    if (decision.status === 401) return new Refusal(401, 'unauthorized', decision.message, { 'WWW-Authenticate': 'Bearer realm="loggregator", error="invalid_token"' });
    if (decision.status === 403) return new Refusal(403, 'forbidden', decision.message);
    return new Refusal(503, 'authorizer_unavailable', decision.message, { 'Retry-After': '1' });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.webConsole.answers(req, res)) return;
    if (isAppsRequest(req)) return this.apps.answer(req, res);
    if (isFirehoseCheck(req)) return this.firehoseCheck.answer(req, res);
    const url = acceptApiRequest(req, res, {
      registry: this.metrics.registry,
      // routersKnown false: discovery has not answered yet (0 routers would then mean nothing).
      health: () => ({ routers: this.routers.current?.length ?? 0, routersKnown: this.routers.current !== undefined }),
      notReady: () => (this.routers.current === undefined ? 'the router set is not known yet (router discovery has not answered)' : undefined),
      refuse: refusal => this.refuse(res, refusal),
    });
    if (url === undefined) return;
    // GET /recent: the only path left.
    const query = parseAppQuery(url, this.opts.recent.maxLines);
    if (query instanceof Refusal) return this.refuse(res, query);
    this.answerRecent(req, res, url, query).catch(err => {
      this.logger.error('/recent answer failed', { error: String(err) });
      res.destroy();
    });
  }

  private async answerRecent(req: IncomingMessage, res: ServerResponse, url: URL, query: AppQuery): Promise<void> {
    // Authorized before it may take a slot: the slots bound the merges held in memory for callers
    // allowed to ask; a caller without a valid token (or one still being checked) holds none, so
    // requests without a token cannot crowd out those with one.
    if (this.recentAuthorizing >= MAX_RECENT_AUTHORIZING) {
      return this.refuse(res, new Refusal(503, 'too_many_clients', `${MAX_RECENT_AUTHORIZING} /recent requests are being authorized already; try again later`, { 'Retry-After': '1' }));
    }
    this.recentAuthorizing++;
    const refusal = await this.authorize(req, url, false, token => this.authorizer.authorize(token, query.app)).finally(() => this.recentAuthorizing--);
    if (refusal) return this.refuse(res, refusal);
    if (res.destroyed) return; // the client left while it was being authorized
    const routers = this.routers.current;
    if (routers === undefined) return this.refuse(res, routersUnknown());
    if (!this.recentSlots.tryTake()) {
      return this.refuse(res, new Refusal(503, 'too_many_clients', `${MAX_RECENT_IN_FLIGHT} /recent requests are being answered already; try again later`));
    }
    // A client that leaves mid-merge cancels the routers' answers: they would be read for nobody.
    const abort = new AbortController();
    const leave = () => abort.abort();
    res.once('close', leave);
    try {
      const merged = await this.mergedRecent(routers, query.app, query.limit ?? this.opts.recent.maxLines, abort.signal);
      const headers: Record<string, string> = { 'X-Routers-Asked': String(merged.asked) };
      const skipped = merged.skipped.map(s => `${s.router.id} (${s.reason})`).join(', ');
      if (merged.skipped.length > 0) headers['X-Skipped-Routers'] = skipped;
      if (res.destroyed) return;
      // No router answered: an empty 200 would read as an app without lines.
      if (merged.asked > 0 && merged.skipped.length === merged.asked) {
        return this.refuse(res, new Refusal(502, 'routers_failed', `no router answered: ${skipped}`, headers));
      }
      await sendNdjson(res, merged.lines.map(line => line.json), headers);
    } finally {
      res.off('close', leave);
      this.recentSlots.release();
    }
  }

  /** Every router of the set asked at once, each with its own deadline; the failures are named. */
  private async mergedRecent(routers: readonly RouterInfo[], appId: string, limit: number, signal?: AbortSignal): Promise<MergedRecent> {
    const skipped: MergedRecent['skipped'] = [];
    const answers = await Promise.all(
      routers.map(router =>
        routerRecent(router, appId, {
          signal,
          timeoutMs: this.opts.recent.timeoutMs,
          maxBytes: this.opts.recent.maxBytesPerRouter,
          onInvalidLine: () => this.metrics.invalidRouterLines.inc(),
          apiToken: this.opts.routerApiToken,
        }).then(
          envelopes => envelopes.map(e => new LogLine(0, e, undefined, router.id)),
          (err: unknown) => {
            const reason = err instanceof RecentFailure ? err.reason : 'unreachable';
            // Cancelled because the client went: not the router's failure.
            if (!signal?.aborted) {
              this.metrics.recentRouterFailures.inc({ router: router.id, reason });
              if (reason === 'refused') this.routerRefusals.record(router.id, refusalHint((err as Error).message));
            }
            skipped.push({ router, reason });
            return [] as LogLine[];
          },
        ),
      ),
    );
    return { lines: mergeRecent(answers, limit, line => line.envelope.timestamp), asked: routers.length, skipped };
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const admitted = admitTailUpgrade(req, socket, {
      maxLimit: this.opts.recent.maxLines,
      allowedOrigins: withOwnOrigin(req, this.opts.tail.allowedOrigins),
      originsKey: 'trafficController.tail.allowedOrigins',
      // Upgrades still being authorized count too.
      clients: this.wss.clients.size + this.upgrading,
      maxClients: this.opts.tail.maxClients,
      handle: (q, r) => this.handle(q, r),
      onRefused: refusal => this.metrics.refused.inc({ reason: refusal.reason }),
      firehose: this.firehoseClients(),
    });
    if (admitted === undefined) return;
    if (admitted.kind === 'firehose') return this.upgradeFirehose(req, socket, head, admitted.url, admitted.refuse);
    const { url, query, refuse } = admitted;
    this.upgrading++;
    this.authorize(req, url, true, token => this.authorizer.authorize(token, query.app)).then(refusal => {
      this.upgrading--;
      if (socket.destroyed) return;
      if (refusal) return refuse(refusal);
      if (this.closing) return refuse(new Refusal(503, 'too_many_clients', 'the traffic controller is shutting down; try again'));
      // The token was checked just now, so it is well formed and present.
      const found = bearerToken(req.headers, url, { allowQuery: true });
      const token = found.kind === 'token' ? found.token : '';
      this.wss.handleUpgrade(req, socket, head, ws => this.startSession(ws, socket, query, token));
    });
  }

  /**
   * An app's live lines from every router, shared by all of its tail clients: one connection
   * per router and app, however many clients tail it (each client still has its own bounded
   * queue). Made by the first client, torn down when the last one leaves.
   */
  private liveLines(app: string): Observable<LogLine> {
    const existing = this.appFeeds.get(app);
    if (existing) return existing.lines$;
    const tail = this.opts.tail;
    const open = new OpenStreams();
    const notice = (message: string) => routerNotice(app, message, Date.now(), NOTICE_SOURCE);
    const feed$: Observable<LogLine> = routerFeeds<LogLine>(
      this.routers$,
      router =>
        routerTail(router, app, {
          keepaliveMs: tail.keepaliveSeconds * 1000,
          handshakeTimeoutMs: 10_000,
          onInvalidFrame: () => this.metrics.invalidRouterLines.inc(),
          apiToken: this.opts.routerApiToken,
        }).pipe(
          tap(feed => feed.kind === 'connected' && open.add(router.id)),
          finalize(() => open.delete(router.id)),
        ),
      {
        backoff: { ...this.opts.routerReconnect, jitter: 0.5 },
        notice: change => notice(changeText(change, ' of this app')),
        onError: (router, err) => this.routerStreamFailed(router, err),
      },
    ).pipe(
      finalize(() => {
        if (this.appFeeds.get(app)?.lines$ === feed$) this.appFeeds.delete(app);
      }),
      share({ resetOnRefCountZero: true }),
    );
    this.appFeeds.set(app, { lines$: feed$, open });
    return feed$;
  }

  /** A router's tail or firehose stream failed to open or broke: counted, and a refusal explained. */
  private routerStreamFailed(router: RouterInfo, err: unknown): void {
    this.metrics.routerStreamErrors.inc({ router: router.id });
    const message = (err as Error | undefined)?.message ?? '';
    if (message.startsWith('refused: ')) this.routerRefusals.record(router.id, refusalHint(message));
  }

  /** Resolves once every current router's stream of the app is open, or after recent.timeoutMs. */
  private liveStreamsOpen(app: string): Promise<void> {
    const open = this.appFeeds.get(app)?.open;
    if (open === undefined) return Promise.resolve();
    return open.waitFor(() => (this.routers.current ?? []).map(r => r.id), this.opts.recent.timeoutMs);
  }

  /**
   * A recent=true tail's recent lines, and notices for what is missing. Never rejects.
   * Asked once the router set is known (at most recent.timeoutMs: before it, the answer would be
   * empty, not true) and the live streams are open (spliceRecent subscribes live first; the
   * wait for every router's stream is bounded by recent.timeoutMs): a line a router receives
   * after its /recent answer is then in the live stream, not lost between the two.
   * Counted with /recent requests (the same bound), and cancelled when the client goes.
   */
  private async tailRecent(app: string, limit: number, signal: AbortSignal, notice: (message: string) => LogLine): Promise<LogLine[]> {
    const known = await this.routers.whenKnown(this.opts.recent.timeoutMs);
    if (signal.aborted) return []; // the client left while it waited
    if (!known) {
      const waited = this.opts.recent.timeoutMs;
      return [notice(`recent lines unavailable: the router set was not known within ${waited} ms (router discovery has not answered); live lines are shown once it is`)];
    }
    // Waits for a slot (bounded): a client dropped with many others comes back with them.
    if (!(await this.recentSlots.take(this.opts.recent.timeoutMs, signal))) {
      if (signal.aborted) return [];
      return [notice(`recent lines skipped: ${MAX_RECENT_IN_FLIGHT} recent requests were being answered for ${this.opts.recent.timeoutMs} ms`)];
    }
    try {
      await this.liveStreamsOpen(app);
      const merged = await this.mergedRecent(this.routers.current ?? [], app, limit, signal);
      return [
        ...merged.lines,
        ...merged.skipped.map(s => notice(`recent lines from router ${s.router.id} are missing (${s.reason})`)),
      ];
    } catch (err) {
      return [notice(`recent lines unavailable (${String((err as Error).message ?? err)})`)];
    } finally {
      this.recentSlots.release();
    }
  }

  private startSession(ws: import('ws').WebSocket, socket: Duplex, query: AppQuery, token: string): void {
    const tail = this.opts.tail;
    this.metrics.tailClients.inc();
    ws.once('close', () => this.metrics.tailClients.dec());
    const notice = (message: string) => routerNotice(query.app, message, Date.now(), NOTICE_SOURCE);
    // A tail opened before the first router set waits for it (a live stream loses nothing by
    // waiting), and is told so in-band rather than left looking like an app without lines. With
    // recent=true its recent part says so instead (see tailRecent): notices in live$ would be held
    // until the recent lines are sent, and so come after them, out of order.
    const live$ = query.recent ? this.liveLines(query.app) : merge(this.routers.waitNotices(notice), this.liveLines(query.app));
    const limit = query.limit ?? this.opts.recent.maxLines;
    const recent$ = query.recent
      ? new Observable<LogLine[]>(subscriber => {
          const abort = new AbortController();
          void this.tailRecent(query.app, limit, abort.signal, notice).then(lines => {
            subscriber.next(lines);
            subscriber.complete();
          });
          return () => abort.abort();
        }).pipe(concatMap(lines => lines))
      : undefined;
    const session = runTailSession(
      ws,
      live$,
      recent$,
      {
        appId: query.app,
        socket: socket as Socket,
        maxQueued: tail.maxQueuedLines + (query.recent ? limit : 0),
        maxQueuedBytes: tail.maxQueuedBytes + (query.recent ? this.opts.recent.maxBytesPerRouter : 0),
        highWaterBytes: tail.socketHighWaterBytes,
        keepaliveMs: tail.keepaliveSeconds * 1000,
        onDrop: n => this.metrics.dropped.inc({ reason: 'tail_slow_consumer' }, n),
        seam: 'identity',
        noticeSource: NOTICE_SOURCE,
      },
      this.logger,
    );
    // The token is checked again while the session lasts: a token revoked (tokens file edited,
    // the platform says no) ends its open tails too, with 1008 (policy violation). A check that
    // cannot be made (503) leaves the session be.
    session.add(this.recheck(ws, () => this.authorizer.authorize(token, query.app), 'token may no longer read this app'));
  }

  /** Checks the token again every recheckMs; closes with 1008 once it is refused (not when the check cannot be made). */
  private recheck(ws: WebSocket, decide: () => Promise<AuthDecision>, forbidden: string): Subscription {
    const recheck = interval(this.opts.recheckMs)
      .pipe(exhaustMap(() => from(decide().catch(() => ({ allowed: true as const })))))
      .subscribe(decision => {
        if (!decision.allowed && decision.status !== 503) {
          this.metrics.revoked.inc();
          ws.close(1008, decision.status === 401 ? 'token no longer valid' : forbidden);
        }
      });
    ws.once('close', () => recheck.unsubscribe());
    return recheck;
  }

  /** Firehose consumers connected and being admitted, and their limit. */
  private firehoseClients(): { clients: number; maxClients: number } {
    return { clients: this.firehose.consumers + this.firehoseUpgrading, maxClients: this.opts.firehose.maxConsumers };
  }

  /** GET /firehose?subscription=ID: checked, authorized for the firehose, then handed to it. */
  private upgradeFirehose(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, refuse: (refusal: Refusal) => void): void {
    const subscription = subscriptionOf(url);
    if (subscription instanceof Refusal) return refuse(subscription);
    this.firehoseUpgrading++;
    this.authorize(req, url, true, token => this.authorizer.authorizeFirehose(token)).then(refusal => {
      this.firehoseUpgrading--;
      if (socket.destroyed) return;
      if (refusal) return refuse(refusal);
      if (this.closing) return refuse(new Refusal(503, 'too_many_clients', 'the traffic controller is shutting down; try again'));
      const found = bearerToken(req.headers, url, { allowQuery: true });
      const token = found.kind === 'token' ? found.token : '';
      this.firehose.wss.handleUpgrade(req, socket, head, ws => {
        const session = this.firehose.join(ws, socket as Socket, subscription);
        session.add(this.recheck(ws, () => this.authorizer.authorizeFirehose(token), 'token may no longer read the firehose'));
      });
    });
  }
}
