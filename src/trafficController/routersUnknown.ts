// The answer to a GET /recent that comes before router discovery has said anything (the TC just
// started, etcd not answering yet). An empty 200 would read as "this app has no lines", which is
// false; a 503 with Retry-After tells the client to ask again, and says why.
import { ServerResponse } from 'node:http';
import { errorBody } from '../http/refusal';

/** The refused-requests label (not a RefusedReason: only the traffic controller refuses this way). */
export const ROUTERS_UNKNOWN = 'routers_unknown';

export const ROUTERS_UNKNOWN_MESSAGE =
  'the router set is not known yet (router discovery has not answered: etcd starting or unreachable?), so no router can be asked; try again';

/** 503, Retry-After: 1, a JSON error body, as every refusal. */
export function sendRoutersUnknown(res: ServerResponse): void {
  res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end(errorBody(ROUTERS_UNKNOWN_MESSAGE));
}
