// The answer to a GET /recent that comes before router discovery has said anything (the TC just
// started, etcd not answering yet). An empty 200 would read as "this app has no lines", which is
// false; a 503 with Retry-After tells the client to ask again, and says why.
import { Refusal } from '../http/refusal';

export const ROUTERS_UNKNOWN_MESSAGE =
  'the router set is not known yet (router discovery has not answered: etcd starting or unreachable?), so no router can be asked; try again';

/** 503, Retry-After: 1, counted as routers_unknown. */
export function routersUnknown(): Refusal {
  return new Refusal(503, 'routers_unknown', ROUTERS_UNKNOWN_MESSAGE, { 'Retry-After': '1' });
}
