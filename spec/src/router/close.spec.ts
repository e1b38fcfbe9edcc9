// Router.close(): ingest stops, every tail client is told 1001 (going away), HTTP stops, and both
// ports are free for the next process — within the shutdown time the config allows
// (router.shutdownSeconds), whatever the clients are doing.
import { createSocket } from 'node:dgram';
import { AddressInfo, Socket, connect, createServer } from 'node:net';
import { createLogger } from '../../../src/logger';
import { startRouter } from '../../../src/router/router';
import { isLetGo } from '../../support/letGo';
import { routerConfig } from '../../support/routerConfig';
import { httpGet } from '../../support/httpGet';
import { Teardown } from '../../support/teardown';
import { numbered } from '../../support/udpSender';
import { waitFor, within } from '../../support/waitFor';

const SHUTDOWN_MS = routerConfig().router.shutdownSeconds * 1000;

function bindUdp(port: number): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve()));
  });
}

function listenTcp(port: number): Promise<void> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

describe('router close()', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('closes every tail client with 1001 and releases the UDP and HTTP ports', async () => {
    const router = await teardown.router();
    const a = await teardown.tail(router, 'app=app-a');
    const b = await teardown.tail(router, 'app=app-b&recent=true');
    const sender = teardown.sender(router);
    await sender.sendEnvelopes([...numbered('app-a', 10), ...numbered('app-b', 10)]);
    await waitFor(() => a.received.length === 10 && b.received.length === 10, { what: 'lines at both clients' });
    const udp: AddressInfo = router.udpAddress;
    const http: AddressInfo = router.httpAddress;

    await within(router.close(), SHUTDOWN_MS, 'router.close()');
    expect(await a.closed).toEqual({ code: 1001, reason: 'router shutting down' });
    expect(await b.closed).toEqual({ code: 1001, reason: 'router shutting down' });

    await expect(bindUdp(udp.port)).resolves.toBeUndefined();
    await expect(listenTcp(http.port)).resolves.toBeUndefined();
    await expect(httpGet(http, '/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // A second close is harmless.
    await expect(within(router.close(), SHUTDOWN_MS, 'a second router.close()')).resolves.toBeUndefined();
  });

  it('closes HTTP keep-alive connections that are idle', async () => {
    const router = await teardown.router();
    const socket = teardown.add(connect(router.httpAddress.port, '127.0.0.1'), s => s.destroy());
    const answered = new Promise<string>(resolve => socket.once('data', chunk => resolve(chunk.toString('latin1'))));
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await answered).slice(0, 15)).toBe('HTTP/1.1 200 OK');
    const ended = new Promise<void>(resolve => socket.once('close', () => resolve()));

    await within(router.close(), SHUTDOWN_MS, 'router.close() with an idle keep-alive connection');
    await within(ended, SHUTDOWN_MS, 'the idle connection to be closed');
  });

  it('finishes within shutdownSeconds while a tail client has stopped reading', async () => {
    const router = await teardown.router();
    const stuck = await teardown.tail(router, 'app=app-a');
    stuck.ws.pause();
    await within(router.close(), SHUTDOWN_MS, 'router.close() with a tail client that stopped reading');
    await expect(bindUdp(router.udpAddress.port)).resolves.toBeUndefined();
  });

  it('finishes within shutdownSeconds while an HTTP request is half sent', async () => {
    const router = await teardown.router();
    const socket: Socket = teardown.add(connect(router.httpAddress.port, '127.0.0.1'), s => s.destroy());
    socket.on('error', () => undefined);
    await new Promise(resolve => socket.once('connect', resolve));
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n'); // …and the blank line never comes
    await waitFor(async () => (await httpGet(router.httpAddress, '/health')).status === 200, { what: 'the server to be serving' });
    await within(router.close(), SHUTDOWN_MS, 'router.close() with a half-sent HTTP request');
  });

  it('lets go of its metrics: nothing it started (a GC observer, event loop sampling) keeps them in memory', async () => {
    // (With several workers the registry read here is the sum made for each scrape: this holds
    // trivially; one router on one thread is the case that shows it.)
    const registry = await (async () => {
      const router = await startRouter(routerConfig(), createLogger('error', 'test'));
      const registry = new WeakRef(await router.metricsRegistry());
      await router.close();
      return registry;
    })();
    expect(await isLetGo(registry)).toBe(true);
  });
});
