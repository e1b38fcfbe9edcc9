// `loggregator logs` as a library against a real router: live tail, reconnect after a dropped
// connection without losing or repeating lines, and clear failures.
import { UdpEmitter } from '../../../src/emitter/udpEmitter';
import { nowNs } from '../../../src/envelope/envelope';
import { logs } from '../../../src/cli/logs';
import { createLogger } from '../../../src/logger';
import { Router, startRouter } from '../../../src/router/router';
import { routerConfig } from '../../support/routerConfig';
import { TcpProxy } from '../../support/tcpProxy';
import { waitFor } from '../../support/waitFor';


describe('logs', () => {
  let router: Router;
  let emitter: UdpEmitter;
  const send = (app: string, message: string, timestamp = nowNs()) =>
    emitter.send({ appId: app, sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp, message });

  beforeEach(async () => {
    router = await startRouter(routerConfig(), createLogger('error', 'test'));
    emitter = new UdpEmitter({ host: '127.0.0.1', port: router.udpAddress.port }, { maxDatagramBytes: 65507 });
  });
  afterEach(async () => {
    await emitter.close();
    await router.close();
  });

  it('reconnects after the connection drops and prints every line exactly once', async () => {
    const proxy = await TcpProxy.start(router.httpAddress.port);
    const printed: string[] = [];
    const notices: string[] = [];
    const abort = new AbortController();
    const done = logs({
      app: 'reco',
      recent: false,
      json: true,
      colour: false,
      target: new URL(`http://127.0.0.1:${proxy.port}`),
      signal: abort.signal,
      out: t => printed.push(JSON.parse(t).message),
      err: t => notices.push(t),
    });
    try {
      const tailClients = async () => (await router.metrics.tailClients.get()).values[0]?.value;
      await waitFor(async () => (await tailClients()) === 1, { what: 'the tail to connect', timeoutMs: 10_000 });
      for (let i = 0; i < 5; i++) await send('reco', `before ${i}`);
      await waitFor(() => printed.length === 5, { what: 'the first lines', timeoutMs: 10_000 });

      proxy.cut();
      await waitFor(async () => (await tailClients()) === 0, { what: 'the router to see the client go', timeoutMs: 10_000 });
      // Sent while the client is away: it must get them from the recent lines on reconnect,
      // also from a sender whose clock is behind (timestamps are not what identifies a line).
      for (let i = 0; i < 5; i++) await send('reco', `during ${i}`, i % 2 === 0 ? '1000000000000000000' : nowNs());
      await waitFor(() => notices.some(n => /reconnecting/.test(n)), { what: 'a reconnect notice', timeoutMs: 10_000 });
      await waitFor(async () => (await tailClients()) === 1 && printed.length >= 10, { what: 'the lines sent while away', timeoutMs: 10_000 });
      for (let i = 0; i < 5; i++) await send('reco', `after ${i}`);
      await waitFor(() => printed.length >= 15, { what: 'the lines sent after the reconnect', timeoutMs: 10_000 });
      await new Promise(r => setTimeout(r, 100)); // a duplicate would arrive now

      const expected = [0, 1, 2, 3, 4].map(i => `before ${i}`).concat([0, 1, 2, 3, 4].map(i => `during ${i}`), [0, 1, 2, 3, 4].map(i => `after ${i}`));
      expect(printed).toEqual(expected);
    } finally {
      abort.abort();
      expect(await done).toBe(0);
      await proxy.close();
    }
  });

  it('reconnects a tail that dropped before any line arrived', async () => {
    const proxy = await TcpProxy.start(router.httpAddress.port);
    let connections = 0;
    const printed: string[] = [];
    const abort = new AbortController();
    const done = logs({
      app: 'quiet',
      recent: false,
      json: true,
      colour: false,
      target: new URL(`http://127.0.0.1:${proxy.port}`),
      signal: abort.signal,
      out: t => printed.push(JSON.parse(t).message),
      err: () => undefined,
      onConnected: () => connections++,
    });
    try {
      const tailClients = async () => (await router.metrics.tailClients.get()).values[0]?.value;
      // Open at the client, not only upgraded at the router: a cut before the 101 arrives is a
      // first connection that failed, which logs rightly reports instead of retrying.
      await waitFor(() => connections === 1, { what: 'the tail to connect', timeoutMs: 10_000 });
      await waitFor(async () => (await tailClients()) === 1, { what: 'the router to count it', timeoutMs: 10_000 });
      proxy.cut();
      await waitFor(async () => (await tailClients()) === 0, { what: 'the router to see the client go', timeoutMs: 10_000 });
      await waitFor(async () => (await tailClients()) === 1, { what: 'the tail to reconnect', timeoutMs: 10_000 });
      await send('quiet', 'finally something');
      await waitFor(() => printed.length === 1, { what: 'the line', timeoutMs: 10_000 });
      expect(printed).toEqual(['finally something']);
    } finally {
      abort.abort();
      expect(await done).toBe(0);
      await proxy.close();
    }
  });

  it('prints recent lines in the documented format', async () => {
    await send('fmt', 'hello');
    await waitFor(async () => (await router.metrics.ingested.get()).values[0]?.value === 1, { what: 'the line to be ingested', timeoutMs: 10_000 });
    const printed: string[] = [];
    const target = new URL(`http://127.0.0.1:${router.httpAddress.port}`);
    expect(await logs({ app: 'fmt', recent: true, json: false, colour: false, target, out: t => printed.push(t) })).toBe(0);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[APP\/0\] OUT hello$/);
  });

  it('exits non-zero with the router’s reason when the router refuses the tail', async () => {
    const full = await startRouter(routerConfig({ router: { tail: { maxClients: 1 } } }), createLogger('error', 'test'));
    const target = new URL(`http://127.0.0.1:${full.httpAddress.port}`);
    const abort = new AbortController();
    const first = logs({ app: 'a', recent: false, json: false, colour: false, target, signal: abort.signal, out: () => undefined, err: () => undefined });
    try {
      await waitFor(async () => (await full.metrics.tailClients.get()).values[0]?.value === 1, { what: 'the first client to hold the only place', timeoutMs: 10_000 });
      const errors: string[] = [];
      const code = await logs({ app: 'b', recent: false, json: false, colour: false, target, out: () => undefined, err: t => errors.push(t) });
      expect(code).toBe(2);
      expect(errors.join('\n')).toMatch(/refused: 503 tail client limit of 1 reached/);
    } finally {
      abort.abort();
      expect(await first).toBe(0);
      await full.close();
    }
  });
});
