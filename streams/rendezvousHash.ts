// Which router gets an app's lines: rendezvous (highest random weight) hashing, a consistent
// hashing scheme that needs no ring: each (app, router) pair gets a pseudo-random weight and the
// heaviest router wins. All lines of an app go to one router (in order); adding or removing one
// of N routers moves only the apps whose winner changed, about 1/N of them. Twenty lines, no
// virtual nodes to tune, so written here rather than taken from a package.

/** 32-bit FNV-1a of a string's UTF-16 code units, then murmur3's finaliser for avalanche. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The node that owns `key` among `nodes` (by their ids), or undefined when there are none. */
export function rendezvousPick<N>(key: string, nodes: readonly N[], idOf: (node: N) => string): N | undefined {
  let best: N | undefined;
  let bestWeight = -1;
  for (const node of nodes) {
    const weight = hash32(`${key}\u0000${idOf(node)}`);
    if (weight > bestWeight) {
      best = node;
      bestWeight = weight;
    }
  }
  return best;
}
