import { IncomingMessage } from 'node:http';

/**
 * The origins a /tail upgrade may come from: those configured, and the traffic controller's own
 * (the web console it serves), i.e. an Origin of http or https whose host:port is the request's
 * Host. A page elsewhere still cannot read logs through a user's browser: its Origin names its
 * own host. One that reaches the traffic controller under its own name (DNS rebinding) passes
 * this check, but holds no token: the console keeps its token in its origin's sessionStorage and
 * sends it explicitly, never as a cookie.
 */
export function withOwnOrigin(req: IncomingMessage, allowed: readonly string[]): readonly string[] {
  const { origin, host } = req.headers;
  if (origin === undefined || host === undefined) return allowed;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return allowed;
  }
  const own = (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin && url.host === host.toLowerCase();
  return own ? [...allowed, origin] : allowed;
}
