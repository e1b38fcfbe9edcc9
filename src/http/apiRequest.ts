import { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { Refusal, errorBody, parseUrl } from './refusal';

/** The paths of the router's and the traffic controller's HTTP APIs (the same five). */
const PATHS = ['/recent', '/health', '/ready', '/metrics', '/tail'];

/**
 * The checks every plain HTTP request to the APIs goes through: a parseable URL, a known path,
 * GET or HEAD. Returns the URL, or refuses (through `refuse`, which counts) and returns undefined.
 * /health, /ready, /metrics and the /tail-without-upgrade hint are answered here too.
 */
export function acceptApiRequest(
  req: IncomingMessage,
  res: ServerResponse,
  opts: {
    /** The metrics /metrics answers with (a router with workers gathers theirs first). */
    readonly registry: Registry | (() => Promise<Registry>);
    readonly health: () => object;
    /** Why the process cannot serve yet (/ready answers 503 with it), or undefined when it can. */
    readonly notReady?: () => string | undefined;
    readonly refuse: (refusal: Refusal) => void;
  },
): URL | undefined {
  const url = parseUrl(req);
  if (url instanceof Refusal) return void opts.refuse(url);
  if (!PATHS.includes(url.pathname)) return void opts.refuse(new Refusal(404, 'not_found', `no such path ${url.pathname}; try /recent, /tail, /health, /ready or /metrics`));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return void opts.refuse(new Refusal(405, 'method_not_allowed', `${req.method} not allowed; use GET`));
  }
  switch (url.pathname) {
    case '/health':
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...opts.health() }) + '\n');
      return undefined;
    case '/ready': {
      // For readiness probes that look only at the status (Kubernetes httpGet): /health says the
      // process is alive, /ready that it can answer /recent and /tail as it should.
      const why = opts.notReady?.();
      if (why === undefined) res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ready"}\n');
      else res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(JSON.stringify({ status: 'not ready', reason: why }) + '\n');
      return undefined;
    }
    case '/metrics': {
      const source = opts.registry;
      const registry = typeof source === 'function' ? source() : Promise.resolve(source);
      registry
        .then(r => r.metrics().then(text => res.writeHead(200, { 'Content-Type': r.contentType }).end(text)))
        .catch(err => res.writeHead(500, { 'Content-Type': 'application/json' }).end(errorBody(String(err))));
      return undefined;
    }
    case '/tail':
      return void opts.refuse(new Refusal(426, 'bad_request', '/tail is a websocket endpoint: connect with a websocket client'));
  }
  return url;
}
