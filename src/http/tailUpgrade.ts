import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { AppQuery, parseAppQuery } from './appQuery';
import { Refusal, parseUrl, refuseUpgrade } from './refusal';
import { answerAsHttp1 } from './serverLifecycle';

export interface TailUpgradeOptions {
  readonly maxLimit: number;
  readonly allowedOrigins: readonly string[];
  /** The config key of allowedOrigins, named in the refusal. */
  readonly originsKey: string;
  /** Tail clients connected (and being admitted) now, and the limit. */
  readonly clients: number;
  readonly maxClients: number;
  /** Answers a request that offered another protocol than websocket, as plain HTTP/1.1. */
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onRefused: (refusal: Refusal) => void;
  /** When set, /firehose (every app's lines) is admitted too, within its own client limit. */
  readonly firehose?: { readonly clients: number; readonly maxClients: number };
}

/** An admitted upgrade: /tail with its app query, or /firehose; its URL, and how to refuse it later (counted). */
export type TailUpgrade =
  | { readonly kind: 'tail'; readonly url: URL; readonly query: AppQuery; readonly refuse: (refusal: Refusal) => void }
  | { readonly kind: 'firehose'; readonly url: URL; readonly refuse: (refusal: Refusal) => void };

/** The refusal of a firehose consumer over the limit, or undefined while there is room. */
export function firehoseFull(firehose: { readonly clients: number; readonly maxClients: number }): Refusal | undefined {
  if (firehose.clients < firehose.maxClients) return undefined;
  return new Refusal(503, 'too_many_clients', `firehose client limit of ${firehose.maxClients} reached; try again later`, { 'Retry-After': '5' });
}

/**
 * The checks every websocket upgrade (/tail, and /firehose where offered) goes through, in the
 * router and the traffic controller alike: path, query, origin, client limit. A refused upgrade is answered (JSON error
 * body, counted) and undefined is returned.
 */
export function admitTailUpgrade(req: IncomingMessage, socket: Duplex, opts: TailUpgradeOptions): TailUpgrade | undefined {
  socket.on('error', () => socket.destroy());
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    answerAsHttp1(req, socket, opts.handle);
    return undefined;
  }
  const refuse = (refusal: Refusal) => {
    opts.onRefused(refusal);
    refuseUpgrade(socket, refusal);
  };
  const refused = (refusal: Refusal): undefined => {
    refuse(refusal);
    return undefined;
  };
  const url = parseUrl(req);
  if (url instanceof Refusal) return refused(url);
  const firehose = url.pathname === '/firehose' ? opts.firehose : undefined;
  if (url.pathname !== '/tail' && firehose === undefined) {
    const offered = opts.firehose ? '/tail?app=ID or /firehose' : '/tail?app=ID';
    return refused(new Refusal(404, 'not_found', `no websocket endpoint at ${url.pathname}; use ${offered}`));
  }
  const query = firehose ? undefined : parseAppQuery(url, opts.maxLimit);
  if (query instanceof Refusal) return refused(query);
  // A browser page from elsewhere must not read an app's logs through the user's browser
  // (cross-site websocket hijacking): an Origin header, which only browsers send, must be allowed.
  const origin = req.headers.origin;
  if (origin !== undefined && !opts.allowedOrigins.includes(origin)) {
    return refused(new Refusal(403, 'origin_not_allowed', `websocket connections from origin ${JSON.stringify(origin.slice(0, 100))} are not allowed (${opts.originsKey})`));
  }
  if (firehose) {
    const full = firehoseFull(firehose);
    if (full) return refused(full);
    return { kind: 'firehose', url, refuse };
  }
  if (opts.clients >= opts.maxClients) {
    return refused(new Refusal(503, 'too_many_clients', `tail client limit of ${opts.maxClients} reached; try again later`));
  }
  return { kind: 'tail', url, query: query as AppQuery, refuse };
}
