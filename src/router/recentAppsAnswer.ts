import { IncomingMessage, ServerResponse } from 'node:http';
import { mergeApps } from '../../streams/appsMerge';
import { RecentBuffer } from '../../streams/recentBuffer';
import { checkRouterApiToken } from '../auth/routerApiToken';
import { parseAppsRequest, sendAppsJson } from '../http/appsRequest';
import { Refusal } from '../http/refusal';

/** The most apps one router's /apps answer lists, and how many it lists when not told. */
export const MAX_APPS_LISTED = 1000;

export interface RecentAppsAnswerOptions {
  /** With sharedSecret: the routers' API token, wanted as for /recent. */
  readonly apiToken?: string;
  /** Answers a refusal, counted. */
  readonly refuse: (refusal: Refusal) => void;
}

/**
 * A router's GET /apps[?limit=N]: the apps its recent buffer holds lines of, the most recently
 * active first, each with its last line's timestamp. The buffer is read in the order it keeps
 * apps (written to last, first), so an answer costs `limit`, however many apps are retained.
 */
export function answerRecentApps(req: IncomingMessage, res: ServerResponse, recent: RecentBuffer, opts: RecentAppsAnswerOptions): void {
  const query = parseAppsRequest(req, { maxLimit: MAX_APPS_LISTED, defaultLimit: MAX_APPS_LISTED });
  if (query instanceof Refusal) return opts.refuse(query);
  const unauthorized = opts.apiToken === undefined ? undefined : checkRouterApiToken(req.headers, opts.apiToken);
  if (unauthorized) return opts.refuse(unauthorized);
  // One more than asked: whether there are more is then known without counting them all.
  sendAppsJson(res, mergeApps([{ apps: recent.lastWritten(query.limit + 1), more: false }], query.limit));
}
