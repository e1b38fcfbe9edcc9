// "callout" auth mode, as the 2014 traffic controller asked the Cloud Controller: may the bearer
// of this token read this app? GET <callout.url>/<app id> with the caller's token; the answer's
// status decides. Answers are cached for a while; a callout that fails denies (fail closed).
import { LRUCache } from 'lru-cache';
import { Logger } from '../logger';
import { RejectionLog } from '../router/rejectionLog';
import { ALLOWED, AuthDecision, FIREHOSE_SCOPE, SHUTTING_DOWN, authorizerUnavailable, firehoseForbidden, forbidden, unknownToken } from './authDecision';
import type { Authorizer } from './authorizer';
import { isWellFormedToken, redactAccessToken } from './bearerToken';
import { tokenDigest } from './tokenDigest';

export interface CalloutOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly cacheSeconds: number;
  readonly maxCached: number;
}

/** Most of an answer's body read (and thrown away), so that small answers leave the connection reusable. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Why a callout gave no decision: the cause is for the client too, so it never holds the token. */
class CalloutFailure extends Error {
  override name = 'CalloutFailure';
  constructor(
    readonly kind: 'timeout' | 'unreachable' | 'bad_status' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

/** What a cached decision is looked up with; the token only travels to the callout, never into a key. */
interface CalloutRequest {
  readonly token: string;
  readonly appId: string;
}

export class CalloutAuthorizer implements Authorizer {
  readonly description: string;
  private readonly base: URL;
  private readonly cache: LRUCache<string, AuthDecision, CalloutRequest>;
  private readonly failures: RejectionLog;
  private closed = false;

  constructor(
    private readonly opts: CalloutOptions,
    logger: Logger,
  ) {
    this.base = calloutBase(opts.url);
    this.description = `callout to ${redactAccessToken(this.base.href)}`;
    this.failures = new RejectionLog(logger, 'authorization callout failed');
    this.cache = new LRUCache<string, AuthDecision, CalloutRequest>({
      max: opts.maxCached,
      // lru-cache reads ttl 0 as "forever": cacheSeconds 0 is 1 ms, i.e. concurrent requests share one callout, no more.
      ttl: Math.max(1, opts.cacheSeconds * 1000),
      // A failure is thrown, so it is never cached (the pending entry is deleted); every caller
      // waiting on the same callout hears it.
      fetchMethod: (_key, _stale, { signal, context }) => this.callout(context, signal),
    });
  }

  async authorize(token: string, appId: string): Promise<AuthDecision> {
    if (this.closed) return authorizerUnavailable(SHUTTING_DOWN);
    // A token that could not have come through bearerToken is refused here too: it must not
    // reach a header (fetch would quote it in its error).
    if (!isWellFormedToken(token)) return unknownToken();
    // "", "." and ".." would address the collection or its parent, not an app.
    if (appId === '' || appId === '.' || appId === '..') return forbidden(appId);
    try {
      const decision = await this.cache.fetch(`${tokenDigest(token)} ${appId}`, { context: { token, appId } });
      return decision ?? authorizerUnavailable('the authorization service gave no answer');
    } catch (err) {
      // Not a CalloutFailure: lru-cache cut the callout short (closed, or evicted by newer ones).
      return authorizerUnavailable(err instanceof CalloutFailure ? err.message : this.closed ? SHUTTING_DOWN : 'too many authorization checks at once');
    }
  }

  /** GET <url>/firehose with the caller's token, cached and failing closed like an app's check. */
  async authorizeFirehose(token: string): Promise<AuthDecision> {
    const decision = await this.authorize(token, FIREHOSE_SCOPE);
    return !decision.allowed && decision.reason === 'forbidden' ? firehoseForbidden(`${redactAccessToken(this.appUrl(FIREHOSE_SCOPE).href)} said no`) : decision;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear(); // aborts callouts still running; their callers get 503
  }

  /** The app's URL at the platform API: the base path and the encoded app id, one slash between. */
  appUrl(appId: string): URL {
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(appId)}`;
    return url;
  }

  private async callout({ token, appId }: CalloutRequest, cacheSignal: AbortSignal): Promise<AuthDecision> {
    const url = this.appUrl(appId);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        // A redirect is an answer we do not understand (503), and the token must not follow it elsewhere.
        redirect: 'manual',
        signal: AbortSignal.any([timeout, cacheSignal]),
      });
    } catch (err) {
      if (cacheSignal.aborted) throw new CalloutFailure('aborted', 'the check was cut short');
      throw this.failed(url, failureOf(err, timeout, this.opts.timeoutMs));
    }
    // Only the status counts; the body is drained in the background, bounded by the same timeout.
    void discardBody(response);
    switch (response.status) {
      case 200:
        return ALLOWED;
      case 401:
        return unknownToken();
      case 403:
      case 404: // the Cloud Controller hides apps a token may not see
        return forbidden(appId);
      default:
        throw this.failed(url, new CalloutFailure('bad_status', `the authorization service answered ${response.status}`));
    }
  }

  private failed(url: URL, failure: CalloutFailure): CalloutFailure {
    this.failures.record(failure.kind, `GET ${redactAccessToken(url.href)}: ${failure.message}`);
    return failure;
  }
}

/** The configured URL, checked once: fetch refuses credentials in a URL, and the token must be the only credential. */
function calloutBase(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`trafficController.auth.callout.url ${JSON.stringify(raw)} is not a URL (e.g. "https://api.example.com/internal/apps")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`trafficController.auth.callout.url must be http:// or https://, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new Error('trafficController.auth.callout.url must not contain user:password; the caller\'s token is sent instead');
  if (url.hash !== '') throw new Error('trafficController.auth.callout.url must not have a #fragment');
  return url;
}

function failureOf(err: unknown, timeout: AbortSignal, timeoutMs: number): CalloutFailure {
  if (timeout.aborted) return new CalloutFailure('timeout', `the authorization service did not answer within ${timeoutMs} ms`);
  // fetch's own message is "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is its cause.
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new CalloutFailure('unreachable', `cannot reach the authorization service (${cause?.code ?? cause?.message ?? (err as Error).message})`);
}

/** Reads and drops at most MAX_BODY_BYTES of the body, then cancels the rest (which closes the connection). */
async function discardBody(response: Response): Promise<void> {
  const body = response.body;
  if (body === null) return;
  const reader = body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_BODY_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // A body cut off (timeout, reset) does not change the decision already made.
  } finally {
    reader.releaseLock();
  }
}
