// The page's HTTP requests to the traffic controller that served it: the token always in the
// Authorization header, never in a URL (URLs end up in logs and histories).
import { Refusal, refusalMessage } from './refusal';

/** An app with recent lines: its id and its last line's timestamp (ns, decimal). */
export interface AppActivity {
  readonly appId: string;
  readonly timestamp: string;
}

export type Answer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly refusal: Refusal };

const REQUEST_TIMEOUT_MS = 10_000;

async function get(path: string, token: string): Promise<Response | Refusal> {
  try {
    return await fetch(path, { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    return { status: 0, message: `the traffic controller cannot be reached (${(err as Error).message})` };
  }
}

async function refusalOf(res: Response): Promise<Refusal> {
  return { status: res.status, message: refusalMessage(await res.text().catch(() => ''), `${res.status} ${res.statusText}`) };
}

/** GET /apps: the apps this token may read that have recent lines, the most recently active first. */
export async function listApps(token: string): Promise<Answer<{ apps: AppActivity[]; more: boolean }>> {
  const res = await get('/apps', token);
  if (!(res instanceof Response)) return { ok: false, refusal: res };
  if (res.status !== 200) return { ok: false, refusal: await refusalOf(res) };
  return { ok: true, value: (await res.json()) as { apps: AppActivity[]; more: boolean } };
}

/**
 * Why a tail of the app cannot be opened, if it is the token's fault (400, 401, 403): a browser is not told the
 * status of a refused websocket upgrade, so the same check is asked over HTTP (the newest recent
 * line, through the same authorization). undefined when the app may be read (or nothing answers:
 * the tail just tries again).
 */
export async function tailRefusal(app: string, token: string): Promise<Refusal | undefined> {
  const res = await get(`/recent?app=${encodeURIComponent(app)}&limit=1`, token);
  if (!(res instanceof Response)) return undefined;
  if (res.status === 400 || res.status === 401 || res.status === 403) return refusalOf(res);
  await res.body?.cancel().catch(() => undefined);
  return undefined;
}

/**
 * Why the firehose cannot be opened, as GET /firehose (without an upgrade) answers the check the
 * websocket upgrade makes: a refusal (400, 401, 403; 503 with the authorizer down or at the
 * consumer limit), or undefined when this token would be let in (426) or nothing answers.
 */
export async function firehoseRefusal(subscription: string, token: string): Promise<Refusal | undefined> {
  const res = await get(`/firehose?subscription=${encodeURIComponent(subscription)}`, token);
  if (!(res instanceof Response)) return undefined;
  if (res.status === 400 || res.status === 401 || res.status === 403 || res.status === 503) return refusalOf(res);
  await res.body?.cancel().catch(() => undefined);
  return undefined;
}
