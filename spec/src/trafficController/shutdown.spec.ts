// Shutting down while a client is being authorized (a callout can take seconds): the client is
// refused when its answer comes, and close() ends within its grace instead of waiting for ever
// on a client accepted after the others were closed.
import { BehaviorSubject } from 'rxjs';
import WebSocket from 'ws';
import { Authorizer } from '../../../src/auth/authorizer';
import { createLogger } from '../../../src/logger';
import { startTrafficController } from '../../../src/trafficController/trafficController';
import { RouterInfo } from '../../../streams/routerInfo';
import { isLetGo } from '../../support/letGo';
import { tcConfig } from '../../support/trafficControllerHarness';
import { within } from '../../support/waitFor';

describe('traffic controller shutdown', () => {
  it('refuses a tail client whose authorization ends after close() began, and closes within its grace', async () => {
    let asked!: () => void;
    const authorizing = new Promise<void>(resolve => (asked = resolve));
    const slow: Authorizer = {
      description: 'slow',
      authorize: async () => {
        asked();
        await new Promise(resolve => setTimeout(resolve, 800));
        return { allowed: true };
      },
      authorizeFirehose: async () => ({ allowed: true }),
      close: async () => undefined,
    };
    const config = tcConfig();
    const tc = await startTrafficController({ ...config, router: { ...config.router, shutdownSeconds: 0.5 } }, createLogger('error', 'test'), {
      routers$: new BehaviorSubject<readonly RouterInfo[]>([]),
      authorizer: slow,
    });
    const ws = new WebSocket(`ws://127.0.0.1:${tc.httpAddress.port}/tail?app=app-a`, { headers: { Authorization: 'Bearer t' } });
    const status = new Promise<number | 'open'>(resolve => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => undefined);
    });
    await authorizing;
    await within(tc.close(), 3_000, 'close() with a client still being authorized');
    expect(await within(status, 3_000, 'the client answered')).toBe(503);
    ws.terminate();
  });

  it('lets go of its metrics once closed: nothing it started (a GC observer, event loop sampling) keeps them in memory', async () => {
    const idle: Authorizer = { description: 'idle', authorize: async () => ({ allowed: true }), authorizeFirehose: async () => ({ allowed: true }), close: async () => undefined };
    const registry = await (async () => {
      const tc = await startTrafficController(tcConfig(), createLogger('error', 'test'), { routers$: new BehaviorSubject<readonly RouterInfo[]>([]), authorizer: idle });
      const registry = new WeakRef(tc.metrics.registry);
      await tc.close();
      return registry;
    })();
    expect(await isLetGo(registry)).toBe(true);
  });
});
