import { routerApiHeaders } from '../auth/routerApiToken';
import { RouterInfo } from '../../streams/routerInfo';
import { decodeEnvelopeJson } from '../envelope/codec';
import { Envelope } from '../envelope/envelope';

export interface RouterRecentOptions {
  readonly timeoutMs: number;
  /** Aborts the request (the client that asked has gone). */
  readonly signal?: AbortSignal;
  /** Largest answer read; past it the router counts as failed for this request. */
  readonly maxBytes: number;
  /** Told of an answer line that is not a valid envelope of this app (counted, skipped). */
  readonly onInvalidLine: (router: RouterInfo, detail: string) => void;
  /** The routers' API token (with sharedSecret), sent as a bearer token. */
  readonly apiToken?: string;
}

/** Why a router's recent answer is missing from the merge. */
export class RecentFailure extends Error {
  constructor(
    readonly reason: 'timeout' | 'unreachable' | 'refused' | 'too_large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * One router's recent lines of an app (GET /recent, NDJSON), read as a stream with a byte bound
 * and a deadline on the whole answer, not only on its headers. Rejects with RecentFailure.
 */
export async function routerRecent(router: RouterInfo, appId: string, opts: RouterRecentOptions): Promise<Envelope[]> {
  if (router.http === undefined) throw new RecentFailure('unreachable', `router ${router.id} has no HTTP address`);
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  const url = `http://${router.http}/recent?app=${encodeURIComponent(appId)}`;
  let text = '';
  try {
    const res = await fetch(url, { signal, headers: routerApiHeaders(opts.apiToken) });
    if (res.status !== 200 || res.body === null) {
      await res.body?.cancel();
      throw new RecentFailure('refused', `HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (bytes > opts.maxBytes) {
        await res.body.cancel().catch(() => undefined);
        throw new RecentFailure('too_large', `answer larger than ${opts.maxBytes} bytes`);
      }
      text += decoder.decode(chunk, { stream: true });
    }
    text += decoder.decode();
  } catch (err) {
    if (err instanceof RecentFailure) throw err;
    if (deadline.aborted) throw new RecentFailure('timeout', `no answer within ${opts.timeoutMs} ms`);
    if (signal.aborted) throw new RecentFailure('unreachable', 'cancelled: the client has gone');
    const e = err as Error & { cause?: { code?: string } };
    throw new RecentFailure('unreachable', e.cause?.code ?? e.message);
  }
  const envelopes: Envelope[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const decoded = decodeEnvelopeJson(line);
    if (!decoded.ok) opts.onInvalidLine(router, decoded.detail);
    else if (decoded.envelope.appId !== appId) opts.onInvalidLine(router, `a line of another app (${decoded.envelope.appId})`);
    else envelopes.push(decoded.envelope);
  }
  return envelopes;
}
