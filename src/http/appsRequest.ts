import { IncomingMessage, ServerResponse } from 'node:http';
import { Refusal, parseUrl } from './refusal';

/** GET /apps[?limit=N]: the apps with recent lines, the most recently active first. */
export const APPS_PATH = '/apps';

export interface AppsQuery {
  readonly limit: number;
}

/** Whether a request is for /apps (whatever its method: parseAppsRequest checks it). */
export function isAppsRequest(req: IncomingMessage): boolean {
  const url = parseUrl(req);
  return !(url instanceof Refusal) && url.pathname === APPS_PATH;
}

/**
 * The checks of a GET /apps: the method, and `limit` (1 to `maxLimit`, `defaultLimit` when not
 * given). A Refusal says what is wrong, counted by the caller.
 */
export function parseAppsRequest(req: IncomingMessage, opts: { readonly maxLimit: number; readonly defaultLimit: number }): AppsQuery | Refusal {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return new Refusal(405, 'method_not_allowed', `${req.method} not allowed; use GET`, { Allow: 'GET, HEAD' });
  }
  const url = parseUrl(req);
  if (url instanceof Refusal) return url;
  const limits = url.searchParams.getAll('limit');
  if (limits.length > 1) return new Refusal(400, 'bad_request', 'query parameter "limit" given more than once');
  if (limits.length === 0) return { limit: opts.defaultLimit };
  const text = limits[0];
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < 1 || Number(text) > opts.maxLimit) {
    return new Refusal(400, 'bad_request', `invalid limit ${JSON.stringify(text.slice(0, 32))}: a whole number from 1 to ${opts.maxLimit}`);
  }
  return { limit: Number(text) };
}

/** A GET /apps answer as JSON, never cached, never sniffed as anything else. */
export function sendAppsJson(res: ServerResponse, body: object, headers: Record<string, string> = {}): void {
  res
    .writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers })
    .end(JSON.stringify(body) + '\n');
}
