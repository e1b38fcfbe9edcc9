// startRouter failing to start: a binding store that cannot be opened (bindings.store "etcd" with
// no etcd.endpoints) is a ConfigError, and the start gives up before taking any port, so a fixed
// UDP port (as an operator configures it) is free again for the corrected router.
import { createSocket, Socket } from 'node:dgram';
import { rm } from 'node:fs/promises';
import { ConfigError } from '../../../src/config/loadConfig';
import { startRouter } from '../../../src/router/router';
import { captureLogger } from '../../support/drainWriterHarness';
import { routerConfig } from '../../support/routerConfig';
import { Teardown } from '../../support/teardown';

/** Binds a UDP socket to 127.0.0.1:port (0: any free port); rejects with the bind error. */
function bindUdp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', err => {
      socket.close();
      reject(err);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

function closeUdp(socket: Socket): Promise<void> {
  return new Promise(resolve => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const socket = await bindUdp(0);
  const { port } = socket.address();
  await closeUdp(socket);
  return port;
}

describe('startRouter: a binding store that cannot be opened', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  /** A router config on a fixed UDP port whose binding store is etcd with no endpoints. */
  function etcdWithoutEndpoints(udpPort: number) {
    const config = routerConfig({ router: { udp: { host: '127.0.0.1', port: udpPort } } });
    teardown.add(config.dataDir, dir => rm(dir, { recursive: true, force: true }));
    return { ...config, bindings: { ...config.bindings, store: 'etcd' as const }, etcd: { ...config.etcd, endpoints: [] } };
  }

  it('rejects with a ConfigError naming etcd.endpoints', async () => {
    const { logger } = captureLogger('debug');
    const start = startRouter(etcdWithoutEndpoints(0), logger);
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow(/etcd\.endpoints is empty/);
  });

  it('leaves the configured UDP port unbound: a socket (and then a good router) can bind it at once', async () => {
    const port = await freeUdpPort();
    const { logger } = captureLogger('debug');
    await expect(startRouter(etcdWithoutEndpoints(port), logger)).rejects.toBeInstanceOf(ConfigError);

    // Before the fix the router had bound the port first and kept it: EADDRINUSE here.
    const socket = await bindUdp(port);
    expect(socket.address().port).toBe(port);
    await closeUdp(socket);

    // And the corrected configuration starts on that same port.
    const good = routerConfig({ router: { udp: { host: '127.0.0.1', port } } });
    teardown.add(good.dataDir, dir => rm(dir, { recursive: true, force: true }));
    const router = teardown.add(await startRouter(good, captureLogger('error').logger), r => r.close());
    expect(router.udpAddress.port).toBe(port);
  });
});
