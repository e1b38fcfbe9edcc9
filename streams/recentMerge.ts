import { Envelope } from '../src/envelope/envelope';

/**
 * Several routers' recent answers for one app → the newest `limit` lines of all, oldest first.
 * An app's lines normally sit on one router, but after a router joined or left they are spread
 * over two or more, each answer oldest first by its own arrival order. Ordered by timestamp (the
 * senders' clocks: the only order that spans routers); lines with equal timestamps keep their
 * router's order, and routers the order they were given in (the sort is stable).
 */
export function mergeRecent<T = Envelope>(
  answers: readonly (readonly T[])[],
  limit: number,
  timestampOf: (item: T) => string = item => (item as Envelope).timestamp,
): T[] {
  if (limit <= 0) return [];
  // Sorted even when one router answered: the order (and which lines a limit keeps) must not
  // depend on whether another router without the app's lines was asked too.
  const all = answers.flat();
  // Timestamps are decimal strings of up to 19 digits: compared by length, then text, without BigInt.
  all.sort((x, y) => {
    const a = timestampOf(x);
    const b = timestampOf(y);
    return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  });
  return all.slice(-limit);
}
