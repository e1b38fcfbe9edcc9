// `loggregator logs` as a library against a real router (and a scripted one, for a replay that
// interleaves differently): live tail, reconnect after a dropped connection without losing or
// repeating lines, waiting at a full router, and clear failures.
import { WebSocket } from 'ws';
import { UdpEmitter } from '../../../src/emitter/udpEmitter';
import { encodeEnvelopeJson } from '../../../src/envelope/codec';
import { nowNs } from '../../../src/envelope/envelope';
import { logs } from '../../../src/cli/logs';
import { createLogger } from '../../../src/logger';
import { Router, startRouter } from '../../../src/router/router';
import { metricValue } from '../../support/routerMetricValue';
import { routerConfig } from '../../support/routerConfig';
import { TcpProxy } from '../../support/tcpProxy';
import { waitFor } from '../../support/waitFor';
import { FakeTarget } from '../../support/fakeTarget';


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
      const tailClients = async () => metricValue(router, 'loggregator_tail_clients');
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
      const tailClients = async () => metricValue(router, 'loggregator_tail_clients');
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
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 1, { what: 'the line to be ingested', timeoutMs: 10_000 });
    const printed: string[] = [];
    const target = new URL(`http://127.0.0.1:${router.httpAddress.port}`);
    expect(await logs({ app: 'fmt', recent: true, json: false, colour: false, target, out: t => printed.push(t) })).toBe(0);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[APP\/0\] OUT hello$/);
  });

  it('waits at the router’s tail client limit (503), saying so once, and tails once a place frees', async () => {
    const full = await startRouter(routerConfig({ router: { tail: { maxClients: 1 } } }), createLogger('error', 'test'));
    const target = new URL(`http://127.0.0.1:${full.httpAddress.port}`);
    const tailClients = async () => metricValue(full, 'loggregator_tail_clients');
    const holder = new AbortController();
    const first = logs({ app: 'a', recent: false, json: false, colour: false, target, signal: holder.signal, out: () => undefined, err: () => undefined });
    const waiter = new AbortController();
    const notices: string[] = [];
    const printed: string[] = [];
    let second: Promise<number> | undefined;
    try {
      await waitFor(async () => (await tailClients()) === 1, { what: 'the first client to hold the only place', timeoutMs: 10_000 });
      second = logs({ app: 'b', recent: false, json: true, colour: false, target, signal: waiter.signal, out: t => printed.push(JSON.parse(t).message), err: t => notices.push(t), onConnected: () => printed.push('(connected)') });
      await waitFor(() => notices.length > 0, { what: 'the second client to be told the router is full', timeoutMs: 10_000 });
      await new Promise(r => setTimeout(r, 1_000)); // it keeps trying, silently
      expect(notices).toEqual([expect.stringMatching(/is unavailable \(503 tail client limit of 1 reached; try again later\); retrying until it serves again/)]);
      holder.abort();
      expect(await first).toBe(0);
      await waitFor(() => printed.includes('(connected)'), { what: 'the second client to get the place', timeoutMs: 15_000 });
      const toFull = new UdpEmitter({ host: '127.0.0.1', port: full.udpAddress.port }, { maxDatagramBytes: 65507 });
      await toFull.send({ appId: 'b', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: nowNs(), message: 'for the patient one' });
      await toFull.close();
      await waitFor(() => printed.length === 2, { what: 'the line', timeoutMs: 10_000 });
      expect(printed).toEqual(['(connected)', 'for the patient one']);
    } finally {
      holder.abort();
      waiter.abort();
      expect(await first).toBe(0);
      if (second) expect(await second).toBe(0);
      await full.close();
    }
  });

  it('after a reconnect, skips every replayed line it printed, however the replay interleaves them, and prints each line exactly once', async () => {
    // Two routers' lines (a*, b*) arrived live interleaved; the replay after the reconnect is
    // their merge by timestamp, with the lines sent while away (c*) among them. `tick` came
    // twice with the same timestamp (a repeat, not a duplicate) and once more while away.
    const at = (ms: number) => `${1_764_000_000_000 + ms}000000`;
    const lineOf = (message: string, ms: number, instance = '0'): string =>
      encodeEnvelopeJson({ appId: 'inter', sourceType: 'APP', sourceInstance: instance, messageType: 'OUT', timestamp: at(ms), message });
    const a1 = lineOf('a1', 1), a2 = lineOf('a2', 3), b1 = lineOf('b1', 2, '1'), b2 = lineOf('b2', 4, '1');
    const tick = lineOf('tick', 5), c1 = lineOf('c1', 1, '2'), c2 = lineOf('c2', 6, '2'), d1 = lineOf('d1', 7);
    const live = [b1, a1, b2, tick, a2, tick];
    const replay = [a1, c1, b1, a2, b2, tick, tick, tick, c2];
    const target = await FakeTarget.start();
    let firstConnection: WebSocket | undefined;
    target.onTail = (ws, _req, index) => {
      if (index === 0) firstConnection = ws;
      for (const f of index === 0 ? live : [...replay, d1]) ws.send(f);
    };
    const printed: string[] = [];
    const abort = new AbortController();
    const done = logs({ app: 'inter', recent: false, json: true, colour: false, target: target.url, signal: abort.signal, out: t => printed.push(JSON.parse(t).message), err: () => undefined });
    try {
      await waitFor(() => printed.length === live.length, { what: 'the live lines', timeoutMs: 10_000 });
      firstConnection?.terminate();
      await waitFor(() => printed.includes('d1'), { what: 'the line after the replay', timeoutMs: 10_000 });
      await new Promise(r => setTimeout(r, 100)); // a duplicate would arrive now
      expect(printed).toEqual(['b1', 'a1', 'b2', 'tick', 'a2', 'tick', 'c1', 'tick', 'c2', 'd1']);
      expect(target.requestsTo('/tail').map(r => r.recent)).toEqual([false, true]);
    } finally {
      abort.abort();
      expect(await done).toBe(0);
      await target.close();
    }
  });
});
