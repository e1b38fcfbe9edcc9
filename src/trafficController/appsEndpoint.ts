import { IncomingMessage, ServerResponse } from 'node:http';
import { AppActivity } from '../../streams/appsMerge';
import { RouterInfo } from '../../streams/routerInfo';
import { bearerToken } from '../auth/bearerToken';
import { parseAppsRequest, sendAppsJson } from '../http/appsRequest';
import { Refusal, parseUrl } from '../http/refusal';
import { Logger } from '../logger';
import { ClusterApps } from './clusterApps';
import { routersUnknown } from './routersUnknown';

/** The most apps one GET /apps lists, and how many it lists when not told. */
export const MAX_APPS = 1000;
export const DEFAULT_APPS = 100;
/** /apps requests being answered at once; more are refused with 503. */
const MAX_APPS_IN_FLIGHT = 16;
/** Authorizations asked at once for one request (each may be a callout). */
const AUTHORIZE_AT_ONCE = 16;
/**
 * What a token is checked against when no app has recent lines: an app id nothing uses. An
 * unknown token is then still refused (401), and a known one gets an empty list.
 */
export const TOKEN_CHECK_APP = 'apps-list-token-check';

export interface AppsEndpointOptions {
  /** The router set; undefined until discovery has answered. */
  readonly routers: () => readonly RouterInfo[] | undefined;
  readonly cluster: ClusterApps;
  /** The caller's right to read an app (its token as the request carries it), or the refusal. Never rejects. */
  readonly authorize: (req: IncomingMessage, url: URL, appId: string) => Promise<Refusal | undefined>;
  /** Answers a refusal, counted. */
  readonly refuse: (res: ServerResponse, refusal: Refusal) => void;
  readonly logger: Logger;
}

/**
 * The traffic controller's GET /apps[?limit=N]: the apps with recent lines on any router that
 * the caller's token may read, the most recently active first, each with its last line's time
 * (`{"apps": [{"appId", "timestamp"}], "more": bool}`). Bounded three ways: each router lists
 * its 1,000 most recently written apps, the token is checked against at most the 1,000 newest of
 * those, and at most `limit` (100, up to 1,000) are listed; `more` says when some were left out.
 * Token as for /recent: the Authorization header only.
 */
export class AppsEndpoint {
  private inFlight = 0;

  constructor(private readonly opts: AppsEndpointOptions) {}

  answer(req: IncomingMessage, res: ServerResponse): void {
    this.answerApps(req, res).catch(err => {
      this.opts.logger.error('/apps answer failed', { error: String(err) });
      res.destroy();
    });
  }

  private async answerApps(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (refusal: Refusal) => this.opts.refuse(res, refusal);
    const query = parseAppsRequest(req, { maxLimit: MAX_APPS, defaultLimit: DEFAULT_APPS });
    if (query instanceof Refusal) return refuse(query);
    const url = parseUrl(req) as URL; // parseAppsRequest has parsed it
    // No token, or one that cannot be one: refused before any router is asked.
    if (bearerToken(req.headers, url, { allowQuery: false }).kind !== 'token') {
      return refuse((await this.opts.authorize(req, url, TOKEN_CHECK_APP)) as Refusal);
    }
    const routers = this.opts.routers();
    if (routers === undefined) return refuse(routersUnknown());
    if (this.inFlight >= MAX_APPS_IN_FLIGHT) {
      return refuse(new Refusal(503, 'too_many_clients', `${MAX_APPS_IN_FLIGHT} /apps requests are being answered already; try again later`, { 'Retry-After': '1' }));
    }
    this.inFlight++;
    try {
      const merged = await this.opts.cluster.of(routers);
      const headers: Record<string, string> = { 'X-Routers-Asked': String(merged.asked) };
      const skipped = merged.skipped.map(s => `${s.router.id} (${s.reason})`).join(', ');
      if (skipped !== '') headers['X-Skipped-Routers'] = skipped;
      if (merged.asked > 0 && merged.skipped.length === merged.asked) {
        return refuse(new Refusal(502, 'routers_failed', `no router answered: ${skipped}`, headers));
      }
      const candidates = merged.list.apps;
      if (candidates.length === 0) {
        const refusal = await this.opts.authorize(req, url, TOKEN_CHECK_APP);
        if (refusal !== undefined && refusal.status !== 403) return refuse(refusal);
        return sendAppsJson(res, { apps: [], more: false }, headers);
      }
      const readable: AppActivity[] = [];
      let checked = 0;
      while (checked < candidates.length && readable.length < query.limit) {
        if (res.destroyed) return; // the client left
        const batch = candidates.slice(checked, checked + AUTHORIZE_AT_ONCE);
        const refusals = await Promise.all(batch.map(app => this.opts.authorize(req, url, app.appId)));
        for (let k = 0; k < batch.length; k++) {
          const refusal = refusals[k];
          if (refusal === undefined) readable.push(batch[k]);
          // 403: an app this token may not read, left out. 401 (token unknown or revoked) and 503
          // (cannot check now) are the answer: a partial list would read as all there is.
          else if (refusal.status !== 403) return refuse(refusal);
        }
        checked += batch.length;
      }
      const more = merged.list.more || checked < candidates.length || readable.length > query.limit;
      sendAppsJson(res, { apps: readable.slice(0, query.limit), more }, headers);
    } finally {
      this.inFlight--;
    }
  }
}
