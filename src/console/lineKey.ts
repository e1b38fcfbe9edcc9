// What identifies a line when a reconnect (recent=true) replays lines already shown: the same
// parts as `loggregator logs` uses (src/cli/lineIdentity.ts), with the message hashed by a fast
// hash instead of SHA-256, which a browser has only asynchronously (crypto.subtle). A collision
// needs the same timestamp, source, stream and message length too.

/** cyrb53: a 53-bit string hash (public domain, bryc), good enough to tell lines apart. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A line's identity: bounded in size however long its message is. */
export function lineKey(line: { timestamp: string; sourceType: string; sourceInstance: string; messageType: string; message: string }): string {
  return `${line.timestamp} ${line.sourceType}/${line.sourceInstance} ${line.messageType} ${line.message.length}:${hash53(line.message).toString(36)}`;
}
