// serve's traffic controller in its own thread (router.workers above 1): it listens and answers
// as in process, its log entries reach the process's logger, a start failure is the caller's
// error, and close() ends the thread.
import { createServer } from 'node:net';
import { startTrafficControllerThread } from '../../../src/trafficController/trafficControllerThread';
import { captureLogger } from '../../support/agentHarness';
import { httpGet } from '../../support/httpGet';
import { routerConfig } from '../../support/routerConfig';
import { waitFor } from '../../support/waitFor';

function config(port: number) {
  const base = routerConfig();
  return { ...base, trafficController: { ...base.trafficController, http: { host: '127.0.0.1', port } } };
}

describe('the traffic controller in its own thread', () => {
  it('answers /health, logs through the given logger, and ends its thread on close', async () => {
    const { logger, entries } = captureLogger();
    const tc = await startTrafficControllerThread(config(0), logger);
    try {
      const health = await httpGet({ address: '127.0.0.1', family: 'IPv4', port: tc.httpAddress.port }, '/health');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', routersKnown: true });
      expect(entries.map(e => e.message)).toContain('tokens file read');
    } finally {
      await tc.close();
    }
    await expect(httpGet({ address: '127.0.0.1', family: 'IPv4', port: tc.httpAddress.port }, '/health')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('starts a thread that dies again, on the same port, and says so', async () => {
    const { logger, entries } = captureLogger();
    const tc = await startTrafficControllerThread(config(0), logger);
    const address = { address: '127.0.0.1', family: 'IPv4', port: tc.httpAddress.port };
    try {
      await tc.terminate();
      await waitFor(async () => (await httpGet(address, '/health').catch(() => undefined))?.status === 200, { what: 'the traffic controller back on its port' });
      expect(entries.map(e => e.message)).toContain('the traffic controller thread died; starting it again (its clients reconnect)');
    } finally {
      await tc.close();
    }
  });

  it('rejects when it cannot listen, saying why', async () => {
    const taken = createServer();
    await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      await expect(startTrafficControllerThread(config(port), captureLogger().logger)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
