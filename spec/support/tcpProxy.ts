import { createConnection, createServer, Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy whose connections a test can cut, to drop a client's connection for
 * real, or block (every connection, open and new, is reset until it is unblocked).
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  private blocked = false;
  port = 0;

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy();
    proxy.server = createServer(client => {
      if (proxy.blocked) return void client.resetAndDestroy();
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>(resolve => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  /** Cuts every connection through the proxy (both sides see a reset). */
  cut(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }

  block(): void {
    this.blocked = true;
    this.cut();
  }

  unblock(): void {
    this.blocked = false;
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}
