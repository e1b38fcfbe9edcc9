import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';

/** GET /health and GET /metrics for a process that serves nothing else over HTTP (the agent). */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' }).end('{"error":"use GET"}\n');
    } else if (path === '/health') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        text => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        err => res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: String(err) }) + '\n'),
      );
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"no such path; try /health or /metrics"}\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, address: server.address() as AddressInfo };
}
