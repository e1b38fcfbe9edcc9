// The credential of the routers' own HTTP API (/recent, /tail), which the traffic controller
// uses: derived from sharedSecret, which every process of a cluster already holds to sign
// datagrams, so a cluster needs no second secret to distribute. Derived (HMAC with a fixed label)
// rather than the secret itself, so the secret never travels in a header, and the signing key and
// the API credential are separate values.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { IncomingHttpHeaders } from 'node:http';
import { Refusal } from '../http/refusal';

const LABEL = 'loggregator-rx router API v1';

/** The bearer token of the routers' API for this sharedSecret (64 hex digits). */
export function routerApiToken(sharedSecret: string): string {
  return createHmac('sha256', sharedSecret).update(LABEL).digest('hex');
}

/** The Authorization header the traffic controller (or an operator's tool) sends to a router. */
export function routerApiHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { Authorization: `Bearer ${token}` };
}

/**
 * Whether a request to a router's /recent or /tail carries the API token; a 401 refusal if not.
 * The comparison takes the same time wherever the tokens differ. The refusal never quotes what
 * was sent.
 */
export function checkRouterApiToken(headers: IncomingHttpHeaders, expected: string): Refusal | undefined {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="loggregator-router"' };
  const header = headers.authorization;
  const match = header === undefined ? null : /^Bearer ([0-9a-f]{64})$/i.exec(header.trim());
  if (match === null) {
    const why = header === undefined ? 'no Authorization header' : 'an Authorization header that is not "Bearer" and the router API token';
    return new Refusal(401, 'unauthorized', `this router's API needs the router API token (derived from sharedSecret; \`loggregator router-token\` prints it): the request had ${why}`, challenge);
  }
  const given = Buffer.from(match[1].toLowerCase(), 'utf8');
  if (!timingSafeEqual(given, Buffer.from(expected, 'utf8'))) {
    return new Refusal(401, 'unauthorized', 'wrong router API token: is sharedSecret the same on this router and its caller?', challenge);
  }
  return undefined;
}
