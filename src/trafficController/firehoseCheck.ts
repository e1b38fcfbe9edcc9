import { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, Refusal, parseUrl } from '../http/refusal';
import { Logger } from '../logger';
import { subscriptionOf } from './firehoseSubscription';

/** The firehose's path: a websocket upgrade, or (without one) this check. */
export const FIREHOSE_PATH = '/firehose';

/** Checks answered at once; more are refused with 503 (each may be a callout). */
const MAX_CHECKS_IN_FLIGHT = 16;

export interface FirehoseCheckOptions {
  /** The caller's right to read the firehose (its token from the Authorization header only), or the refusal. Never rejects. */
  readonly authorize: (req: IncomingMessage, url: URL) => Promise<Refusal | undefined>;
  /** Why a consumer could not join now (the consumer limit), or undefined. */
  readonly full: () => Refusal | undefined;
  /** Answers a refusal, counted. */
  readonly refuse: (res: ServerResponse, refusal: Refusal) => void;
  readonly logger: Logger;
}

/** Whether a request is for /firehose without a websocket upgrade (whatever its method: the check refuses others). */
export function isFirehoseCheck(req: IncomingMessage): boolean {
  const url = parseUrl(req);
  return !(url instanceof Refusal) && url.pathname === FIREHOSE_PATH;
}

/**
 * GET /firehose?subscription=ID as plain HTTP: what the websocket upgrade would refuse (400 for
 * the subscription id, 401 or 403 for the token, 503 with the authorizer down or at the consumer
 * limit), or 426 Upgrade Required when it would let the caller in. A browser is not told why a websocket upgrade
 * was refused; the web console asks this to say it in words. The token goes in the Authorization
 * header only (as for /recent and /apps): this is a request a page makes, and URLs are logged.
 */
export class FirehoseCheck {
  private inFlight = 0;

  constructor(private readonly opts: FirehoseCheckOptions) {}

  answer(req: IncomingMessage, res: ServerResponse): void {
    this.check(req, res).catch(err => {
      this.opts.logger.error('/firehose check failed', { error: String(err) });
      res.destroy();
    });
  }

  private async check(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (refusal: Refusal) => this.opts.refuse(res, refusal);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return refuse(new Refusal(405, 'method_not_allowed', `${req.method} not allowed; use GET`, { Allow: 'GET, HEAD' }));
    }
    const url = parseUrl(req) as URL; // isFirehoseCheck has parsed it
    const subscription = subscriptionOf(url);
    if (subscription instanceof Refusal) return refuse(subscription);
    if (this.inFlight >= MAX_CHECKS_IN_FLIGHT) {
      return refuse(new Refusal(503, 'too_many_clients', `${MAX_CHECKS_IN_FLIGHT} /firehose checks are being answered already; try again later`, { 'Retry-After': '1' }));
    }
    this.inFlight++;
    const refusal = await this.opts.authorize(req, url).finally(() => this.inFlight--);
    if (refusal) return refuse(refusal);
    const full = this.opts.full();
    if (full) return refuse(full);
    if (res.destroyed) return;
    // Not a refusal (not counted): this token may read the firehose, over a websocket.
    res
      .writeHead(426, { 'Content-Type': 'application/json', Upgrade: 'websocket', 'Cache-Control': 'no-store' })
      .end(errorBody('/firehose is a websocket endpoint: connect with a websocket client (this token may read the firehose)'));
  }
}
