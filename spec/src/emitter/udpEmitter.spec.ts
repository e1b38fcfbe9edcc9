// The emitter with real UDP sockets: apps spread over routers by id, a router set that changes,
// and a router whose port is closed (its process is gone, its lease not yet expired): its apps'
// lines go to the others instead of into the void, and it is tried again later.
import { UdpEmitter, UdpTarget, parseUdpTarget } from '../../../src/emitter/udpEmitter';
import { encodeEnvelopeJson } from '../../../src/envelope/codec';
import { Envelope } from '../../../src/envelope/envelope';
import { rendezvousPick } from '../../../streams/rendezvousHash';
import { Teardown } from '../../support/teardown';
import { UdpReceiver } from '../../support/udpReceiver';
import { waitFor } from '../../support/waitFor';

const envelope = (appId: string, message: string): Envelope => ({
  appId,
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: '1700000000000000000',
  message,
});

describe('UdpEmitter', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  async function routers(n: number): Promise<{ receivers: UdpReceiver[]; targets: UdpTarget[] }> {
    const receivers = await Promise.all(Array.from({ length: n }, () => UdpReceiver.start()));
    receivers.forEach(r => teardown.add(r, x => x.close()));
    return { receivers, targets: receivers.map((r, i) => ({ ...parseUdpTarget(r.target), id: `r${i + 1}` })) };
  }

  it('sends each app to the router its id hashes to, and only there', async () => {
    const { receivers, targets } = await routers(3);
    const emitter = teardown.add(new UdpEmitter(targets, { maxDatagramBytes: 65507 }), e => e.close());
    const apps = Array.from({ length: 30 }, (_, i) => `app-${i}`);
    for (const app of apps) await emitter.send(envelope(app, `hello ${app}`));
    await waitFor(() => receivers.reduce((n, r) => n + r.envelopes.length, 0) === apps.length, { what: 'every line' });
    for (const app of apps) {
      const owner = rendezvousPick(app, targets, t => t.id as string) as UdpTarget;
      const holder = receivers.findIndex(r => r.messages(app).length > 0);
      expect(targets[holder]).toBe(owner);
    }
    expect(receivers.every(r => r.envelopes.length > 0)).toBe(true);
  });

  it('moves only the apps of a router that left when the set changes', async () => {
    const { receivers, targets } = await routers(3);
    const emitter = teardown.add(new UdpEmitter(targets, { maxDatagramBytes: 65507 }), e => e.close());
    const apps = Array.from({ length: 60 }, (_, i) => `app-${i}`);
    const before = new Map(apps.map(app => [app, emitter.routerFor(app)?.id]));
    emitter.setRouters([targets[0], targets[2]]);
    for (const app of apps) {
      const now = emitter.routerFor(app)?.id;
      if (before.get(app) !== 'r2') expect(now).toBe(before.get(app));
      else expect(now).not.toBe('r2');
    }
    for (const app of apps) await emitter.send(envelope(app, 'after'));
    await waitFor(() => receivers[0].envelopes.length + receivers[2].envelopes.length === apps.length, { what: 'every line on r1 and r3' });
    expect(receivers[1].envelopes).toEqual([]);
  });

  it('passes over a router whose port refuses, re-routing its apps to the others, and tries it again later', async () => {
    const { receivers, targets } = await routers(2);
    const refused: string[] = [];
    const dropped: string[] = [];
    // The backoff must outlast everything from the refusal to the moved lines' arrival on r2,
    // even on a loaded machine that stalls this process: 2 s (and the wait below just past it).
    const backoffMs = 2_000;
    const emitter = teardown.add(
      new UdpEmitter(targets, {
        maxDatagramBytes: 65507,
        refusedBackoffMs: backoffMs,
        onRouterRefused: id => refused.push(id),
        onDropped: reason => dropped.push(reason),
      }),
      e => e.close(),
    );
    const app = Array.from({ length: 100 }, (_, i) => `app-${i}`).find(a => emitter.routerFor(a)?.id === 'r1') as string;
    emitter.emit(envelope(app, 'before'));
    await waitFor(() => receivers[0].messages(app).length === 1, { what: 'the first line on r1' });
    await receivers[0].close(); // r1 is gone; nothing has told the emitter yet

    // Sent until the refusal has come back; from then on every line goes to r2.
    let n = 0;
    await waitFor(
      () => {
        emitter.emit(envelope(app, `line ${++n}`));
        return refused.length > 0;
      },
      { what: 'r1 refused', intervalMs: 5 },
    );
    expect(emitter.routerFor(app)?.id).toBe('r2');
    for (let i = 0; i < 10; i++) emitter.emit(envelope(app, `moved ${i}`));
    await waitFor(() => receivers[1].messages(app).filter(m => m.startsWith('moved')).length === 10, { what: 'the moved lines on r2' });
    expect(dropped.filter(r => r === 'router_refused').length).toBeGreaterThan(0);
    expect(refused).toEqual(['r1']);

    // After the wait it is tried again: still refusing, it is passed over again, for twice as long.
    // (The refusal came before the wait for it returned, so this is more than backoffMs after it.)
    await new Promise(resolve => setTimeout(resolve, backoffMs + 50));
    expect(emitter.routerFor(app)?.id).toBe('r1');
    await waitFor(
      () => {
        emitter.emit(envelope(app, 'probe'));
        return refused.length > 1;
      },
      { what: 'r1 refused again', intervalMs: 5 },
    );
    expect(emitter.routerFor(app)?.id).toBe('r2');
  });

  it('sees the refusal under a steady burst too (the kernel reports it to the next send, not as an event)', async () => {
    const { receivers, targets } = await routers(2);
    const dropped: string[] = [];
    const emitter = teardown.add(
      new UdpEmitter(targets, { maxDatagramBytes: 65507, refusedBackoffMs: 60_000, onDropped: reason => dropped.push(reason) }),
      e => e.close(),
    );
    const app = Array.from({ length: 100 }, (_, i) => `app-${i}`).find(a => emitter.routerFor(a)?.id === 'r1') as string;
    emitter.emit(envelope(app, 'warm'));
    await waitFor(() => receivers[0].messages(app).length === 1, { what: 'the first line on r1' });
    await receivers[0].close();
    // Bursts of 200 with no pause long enough for an idle 'error' event between them.
    for (let burst = 0; burst < 5; burst++) {
      for (let i = 0; i < 200; i++) emitter.emit(envelope(app, `b${burst}-${i}`));
      await new Promise(resolve => setImmediate(resolve));
    }
    await waitFor(() => receivers[1].messages(app).length > 0, { what: 'lines of the dead router\'s app on r2' });
    expect(dropped).not.toContain('send_error');
    expect(dropped).toContain('router_refused');
  });

  it('re-sends a waited-for line (emit) to the new owner when its router refuses, instead of failing', async () => {
    const { receivers, targets } = await routers(2);
    const emitter = teardown.add(new UdpEmitter(targets, { maxDatagramBytes: 65507, refusedBackoffMs: 60_000 }), e => e.close());
    const app = Array.from({ length: 100 }, (_, i) => `app-${i}`).find(a => emitter.routerFor(a)?.id === 'r1') as string;
    await emitter.send(envelope(app, 'first'));
    await waitFor(() => receivers[0].messages(app).length === 1, { what: 'the first line on r1' });
    await receivers[0].close();
    for (let i = 0; i < 20; i++) await emitter.send(envelope(app, `line ${i}`));
    await waitFor(() => receivers[1].messages(app).length > 0, { what: 'lines on r2' });
    expect(emitter.routerFor(app)?.id).toBe('r2');
  });

  it('sends to the only router even while it refuses (there is nowhere better), counting what is refused', async () => {
    const { receivers, targets } = await routers(1);
    const dropped: string[] = [];
    const emitter = teardown.add(new UdpEmitter(targets, { maxDatagramBytes: 65507, onDropped: reason => dropped.push(reason) }), e => e.close());
    await receivers[0].close();
    for (let i = 0; i < 5; i++) {
      emitter.emit(envelope('app', `x${i}`));
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    expect(emitter.routerFor('app')?.id).toBe('r1');
    await waitFor(() => dropped.filter(r => r === 'router_refused').length >= 3, { what: 'refusals counted' });
  });

  it('counts lines with no router at all as no_router, and rejects send()', async () => {
    const dropped: string[] = [];
    const emitter = teardown.add(new UdpEmitter([], { maxDatagramBytes: 65507, onDropped: reason => dropped.push(reason) }), e => e.close());
    emitter.emit(envelope('app', 'x'));
    expect(dropped).toEqual(['no_router']);
    await expect(emitter.send(envelope('app', 'x'))).rejects.toThrow('no router to send to');
  });

  it('fails send() for a router whose name does not resolve, and works again once the set is fixed', async () => {
    const { receivers, targets } = await routers(1);
    const emitter = teardown.add(new UdpEmitter([{ host: 'no-such-host.invalid', port: 9, id: 'bad' }], { maxDatagramBytes: 65507 }), e => e.close());
    await expect(emitter.send(envelope('app', 'x'))).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);
    emitter.setRouters(targets);
    await emitter.send(envelope('app', 'fixed'));
    await waitFor(() => receivers[0].messages('app').length === 1, { what: 'the line after the fix' });
  });

  describe('batching (emit, batchBytes)', () => {
    const numbered = (n: number, pad = 120) => Array.from({ length: n }, (_, i) => envelope('app-b', `line ${i + 1} ${'x'.repeat(pad)}`));

    it.each([
      { what: 'unsigned', secret: undefined },
      { what: 'signed', secret: 'a-batch-secret-of-16+' },
    ])("puts one turn's lines for a router in datagrams of at most batchBytes, every line once and in order ($what)", async ({ secret }) => {
      const { receivers, targets } = await routers(1);
      const emitter = teardown.add(new UdpEmitter(targets, { maxDatagramBytes: 65507, batchBytes: 1400, secret }), e => e.close());
      const lines = numbered(300);
      for (const line of lines) emitter.emit(line); // one turn
      await waitFor(() => receivers[0].envelopes.length === 300, { what: 'every line' });
      expect(receivers[0].envelopes).toEqual(lines);
      expect(receivers[0].rejected).toEqual([]);
      expect(receivers[0].largestDatagram).toBeLessThanOrEqual(1400);
      // Packed: each datagram but the last is filled to within one line of 1,400 bytes.
      const sizes = lines.map(l => Buffer.byteLength(encodeEnvelopeJson(l)) + 1);
      const total = sizes.reduce((a, b) => a + b, 0);
      expect(receivers[0].datagrams).toBeLessThanOrEqual(Math.ceil(total / (1400 - 48 - Math.max(...sizes))));
      expect(receivers[0].datagrams).toBeLessThan(300 / 4);
    });

    it('sends a line longer than batchBytes alone, in order with the batches around it; with batchBytes 0, a datagram per line', async () => {
      const { receivers, targets } = await routers(2);
      const batching = teardown.add(new UdpEmitter([targets[0]], { maxDatagramBytes: 65507, batchBytes: 1400 }), e => e.close());
      const long = envelope('app-b', 'L'.repeat(5000));
      const lines = [...numbered(5), long, ...numbered(5)];
      for (const line of lines) batching.emit(line);
      await waitFor(() => receivers[0].envelopes.length === lines.length, { what: 'every line' });
      expect(receivers[0].envelopes).toEqual(lines);
      expect(receivers[0].datagrams).toBe(3);

      const single = teardown.add(new UdpEmitter([targets[1]], { maxDatagramBytes: 65507, batchBytes: 0 }), e => e.close());
      for (const line of numbered(20)) single.emit(line);
      await waitFor(() => receivers[1].envelopes.length === 20, { what: 'every line' });
      expect(receivers[1].datagrams).toBe(20);
    });

    it('counts the lines, not the datagrams, of a batch it cannot send', async () => {
      const dropped: [string, number][] = [];
      const emitter = teardown.add(
        new UdpEmitter([{ host: 'no-such-host.invalid', port: 9, id: 'r1' }], { maxDatagramBytes: 65507, batchBytes: 1400, onDropped: (reason, n) => dropped.push([reason, n]) }),
        e => e.close(),
      );
      for (const line of numbered(7, 10)) emitter.emit(line);
      await waitFor(() => dropped.reduce((n, [, k]) => n + k, 0) === 7, { what: 'the 7 lines counted as dropped' });
      expect(dropped.every(([reason]) => reason === 'send_error')).toBe(true);
    });
  });
});
