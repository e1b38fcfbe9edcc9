import { ServerResponse } from 'node:http';

const CHUNK_CHARS = 64 * 1024;

/** Resolves when a response can take more, or is gone; leaves no listener behind. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Lines as an NDJSON 200 answer, written in chunks as the client takes them: the answer is
 * never built whole (100 lines of 64 KB messages can be tens of MB of JSON), and a client that
 * does not read holds at most a chunk beyond the socket's buffer.
 */
export async function sendNdjson(res: ServerResponse, jsons: readonly string[], headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'X-Line-Count': String(jsons.length), ...headers });
  let chunk = '';
  for (const json of jsons) {
    chunk += json + '\n';
    if (chunk.length < CHUNK_CHARS) continue;
    const more = res.write(chunk);
    chunk = '';
    if (!more) await drainedOrClosed(res);
    if (res.destroyed) return;
  }
  res.end(chunk);
}
