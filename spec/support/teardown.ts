// Owns what a spec opens (routers, clients, sockets) and closes it all, newest first, in afterEach,
// whether the test passed or not.
import { createLogger } from '../../src/logger';
import { Router, startRouter } from '../../src/router/router';
import { routerConfig } from './routerConfig';
import { TailClient } from './tailClient';
import { UdpSender } from './udpSender';

export class Teardown {
  private steps: (() => unknown)[] = [];

  add<T>(resource: T, close: (resource: T) => unknown): T {
    this.steps.push(() => close(resource));
    return resource;
  }

  /** Runs every step even if some fail; rethrows the first failure. */
  async run(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    let failure: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** A router on ephemeral loopback ports (config overrides as routerConfig takes them). */
  async router(overrides: Parameters<typeof routerConfig>[0] = {}): Promise<Router> {
    const router = await startRouter(routerConfig(overrides), createLogger('error', 'test'));
    return this.add(router, r => r.close());
  }

  sender(router: Router): UdpSender {
    return this.add(new UdpSender(router.udpAddress), s => s.close());
  }

  async tail(router: Router, query: string, options?: Parameters<typeof TailClient.open>[2]): Promise<TailClient> {
    const client = await TailClient.open(router.httpAddress, query, options);
    return this.add(client, c => c.terminate());
  }
}
