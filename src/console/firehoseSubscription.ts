// The firehose shares a subscription's lines among its consumers (each app's lines at one of
// them); a console tab wants every line, so it never shares: its subscription id is its own.
// The page draws a random id once (per page load) and numbers its connections on it, a new id
// for each: a connection the browser gave up on may still be open at the traffic controller
// until its keepalive drops it, and a new one with the same id would share the lines with it
// (those of the apps hashed to the old one would be lost until then).

/** The page's id: `console-` and 16 hex digits from `random` (8 bytes). */
export function pageSubscriptionId(random: Uint8Array): string {
  return `console-${Array.from(random.subarray(0, 8), b => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The subscription of the page's `connection`-th firehose connection (1, 2, …). */
export function connectionSubscription(pageId: string, connection: number): string {
  return `${pageId}.${connection}`;
}
