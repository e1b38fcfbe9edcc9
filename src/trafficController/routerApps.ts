import { routerApiHeaders } from '../auth/routerApiToken';
import { AppActivity, AppsList } from '../../streams/appsMerge';
import { RouterInfo } from '../../streams/routerInfo';
import { isValidAppId } from '../envelope/codec';

/** Why a router's app list is missing from a merge. */
export type RouterAppsFailure = 'timeout' | 'unreachable' | 'refused' | 'invalid_answer';

export class RouterAppsError extends Error {
  constructor(
    readonly reason: RouterAppsFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Largest /apps answer read from a router: 1,000 apps of 48-character ids take about 100 KB. */
const MAX_ANSWER_BYTES = 1024 * 1024;

const TIMESTAMP = /^[0-9]{1,19}$/;

/** A router's answer checked entry by entry: a router's bug cannot list what is not an app. */
function appsListFrom(value: unknown): AppsList | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { apps, more } = value as { apps?: unknown; more?: unknown };
  if (!Array.isArray(apps) || typeof more !== 'boolean') return undefined;
  const checked: AppActivity[] = [];
  for (const app of apps) {
    const { appId, timestamp } = (app ?? {}) as { appId?: unknown; timestamp?: unknown };
    if (typeof appId !== 'string' || !isValidAppId(appId) || typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) return undefined;
    checked.push({ appId, timestamp });
  }
  return { apps: checked, more };
}

/** One router's GET /apps?limit=N, within `timeoutMs` for the whole answer. Rejects with RouterAppsError. */
export async function routerApps(router: RouterInfo, limit: number, opts: { readonly timeoutMs: number; readonly apiToken?: string }): Promise<AppsList> {
  if (router.http === undefined) throw new RouterAppsError('unreachable', `router ${router.id} has no HTTP address`);
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let text: string;
  try {
    const res = await fetch(`http://${router.http}/apps?limit=${limit}`, { signal, headers: routerApiHeaders(opts.apiToken) });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new RouterAppsError('refused', `HTTP ${res.status}`);
    }
    text = '';
    const decoder = new TextDecoder();
    let bytes = 0;
    for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (bytes > MAX_ANSWER_BYTES) {
        await res.body?.cancel().catch(() => undefined);
        throw new RouterAppsError('invalid_answer', `answer larger than ${MAX_ANSWER_BYTES} bytes`);
      }
      text += decoder.decode(chunk, { stream: true });
    }
    text += decoder.decode();
  } catch (err) {
    if (err instanceof RouterAppsError) throw err;
    if (signal.aborted) throw new RouterAppsError('timeout', `no answer within ${opts.timeoutMs} ms`);
    const e = err as Error & { cause?: { code?: string } };
    throw new RouterAppsError('unreachable', e.cause?.code ?? e.message);
  }
  let list: AppsList | undefined;
  try {
    list = appsListFrom(JSON.parse(text));
  } catch {
    list = undefined;
  }
  if (list === undefined) throw new RouterAppsError('invalid_answer', 'not an app list ({"apps": [{"appId", "timestamp"}], "more"})');
  return list;
}
