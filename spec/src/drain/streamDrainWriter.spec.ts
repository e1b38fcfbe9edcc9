// streamDrainWriter: one syslog:// (TCP) or syslog-tls:// (TLS) drain, against real peers.
//
//   line$ ──▶ writer ──octet-counted RFC 5424──▶ syslog-ng (strict RFC 5424, TCP or TLS)
//     │         │                                 net.Server that refuses / closes / never reads
//   stop$ ──────┘──▶ DropReport { count, reason }   (and counters in its own registry)
//
// Every line arrives with exactly the fields meant, in order; a receiver that dies and comes
// back on the same port loses nothing (frames written shortly before the break are resent, so a
// few may come twice); a receiver that refuses, closes at once, stops reading, cannot be looked
// up or fails the TLS handshake costs the drain its own bounded queue, told as drop reports with
// the reason; unbinding flushes (or reports the rest after flushSeconds); unsubscribing leaves
// no socket open.
import { readFile } from 'node:fs/promises';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { streamDrainWriter } from '../../../src/drain/streamDrainWriter';
import { Envelope } from '../../../src/envelope/envelope';
import { DRAIN_HOST, WriterRun, expectedFrame, fields, sleep, startWriter } from '../../support/drainWriterHarness';
import { ReceivedFrame, startSyslogReceiver } from '../../support/syslogReceiver';
import { Teardown } from '../../support/teardown';
import { envelope, lineNumber, numbered } from '../../support/udpSender';
import { fixedLoopbackPorts } from '../../support/fixedPorts';
import { nextTurn, waitFor } from '../../support/waitFor';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

/** `count` envelopes of one app, numbered, OUT and ERR, several instances, some non-ASCII text. */
function lines(appId: string, count: number, from = 0): Envelope[] {
  return range(from, from + count).map(k =>
    envelope(appId, `${appId} ${k} ${k % 7 === 0 ? 'żółć 日本語 🚀 "quoted" \\ back' : 'plain text'}`, {
      messageType: k % 3 === 0 ? 'ERR' : 'OUT',
      sourceInstance: String(k % 4),
    }),
  );
}

/** Pushes in chunks, letting the event loop turn between them (as lines come from a socket). */
async function pushPaced(run: WriterRun, envelopes: readonly Envelope[], chunk = 100): Promise<void> {
  for (let i = 0; i < envelopes.length; i += chunk) {
    run.push(envelopes.slice(i, i + chunk));
    await sleep(5);
  }
}

/** A plain TCP peer that counts connections and hands each to `onSocket`; close() destroys them all. */
class TcpPeer {
  connections = 0;
  closed = 0;
  readonly sockets = new Set<Socket>();
  private constructor(readonly server: Server) {}

  static async start(onSocket: (socket: Socket) => void, opts: { pauseOnConnect?: boolean } = {}): Promise<TcpPeer> {
    let peer!: TcpPeer;
    const server = createServer({ pauseOnConnect: opts.pauseOnConnect ?? false }, socket => {
      peer.connections++;
      peer.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        peer.closed++;
        peer.sockets.delete(socket);
      });
      onSocket(socket);
    });
    peer = new TcpPeer(server);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }
}

describe('streamDrainWriter', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  const writer = (opts: Parameters<typeof startWriter>[1]) => teardown.add(startWriter(streamDrainWriter, opts), r => r.unsubscribe());

  describe('delivery to syslog-ng', () => {
    it('over TCP: 2,000 lines parsed with every field exact, in order, none twice, nothing dropped', async () => {
      const receiver = teardown.add(await startSyslogReceiver(), r => r.stop());
      const run = writer({ url: `syslog://127.0.0.1:${receiver.port}`, appId: 'tcp-app' });
      const sent = lines('tcp-app', 2000);
      run.push(sent);

      const frames = await receiver.waitForMessages(sent.length, 20_000);
      expect(await receiver.errors()).toEqual([]);
      expect(fields(frames)).toEqual(sent.map(e => expectedFrame(e, DRAIN_HOST)));
      expect(run.reports).toEqual([]);
      expect(await run.metric('sent')).toBe(2000);
      expect(await run.metric('resent')).toBe(0);
      expect(await run.metric('dropped')).toBe(0);
      expect(await run.metric('errors')).toBe(0);
      expect(run.completed).toBe(false);
    });

    it('over TLS, trusting the receiver\'s certificate (ctx.tlsCa) as "localhost": parsed exactly', async () => {
      const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
      const ca = await readFile(receiver.caFile!, 'utf8');
      const run = writer({ url: `syslog-tls://localhost:${receiver.port}`, appId: 'tls-app', tlsCa: [ca] });
      const sent = lines('tls-app', 300);
      run.push(sent);

      const frames = await receiver.waitForMessages(sent.length, 15_000);
      expect(await receiver.errors()).toEqual([]);
      expect(fields(frames)).toEqual(sent.map(e => expectedFrame(e, DRAIN_HOST)));
      expect(run.reports).toEqual([]);
      expect(await run.metric('errors')).toBe(0);
    });

    it('over TLS without the CA: the handshake fails, nothing arrives, it keeps retrying and says "TLS handshake failed"', async () => {
      const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
      const run = writer({ url: `syslog-tls://localhost:${receiver.port}`, appId: 'tls-app', config: { maxQueuedLines: 100 } });
      run.push(lines('tls-app', 5));
      await waitFor(async () => (await run.metric('errors')) >= 3, { timeoutMs: 10_000, what: 'three failed handshakes' });

      run.push(lines('tls-app', 110, 5)); // 115 into a queue of 100: the 15 oldest go
      await waitFor(() => run.reportedDrops >= 15, { what: '15 drops reported' });
      expect(run.reportedDrops).toBe(15);
      expect(new Set(run.reports.map(r => r.reason))).toEqual(new Set(['TLS handshake failed: DEPTH_ZERO_SELF_SIGNED_CERT']));
      expect(await run.metric('dropped', { reason: 'queue_full' })).toBe(15);
      expect(run.logs.some(line => line.includes('TLS handshake failed'))).toBe(true);

      const errorsBefore = await run.metric('errors');
      await waitFor(async () => (await run.metric('errors')) >= errorsBefore + 2, { timeoutMs: 10_000, what: 'two more attempts' });
      expect(await receiver.messages()).toEqual([]);
      expect(await run.metric('sent')).toBe(0);
      expect(run.completed).toBe(false);
    });

    it('over TLS with insecureSkipVerify and no CA: delivered', async () => {
      const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
      const run = writer({ url: `syslog-tls://localhost:${receiver.port}`, appId: 'tls-app', config: { tls: { insecureSkipVerify: true } } });
      const sent = lines('tls-app', 100);
      run.push(sent);

      const frames = await receiver.waitForMessages(sent.length, 15_000);
      expect(fields(frames)).toEqual(sent.map(e => expectedFrame(e, DRAIN_HOST)));
      expect(await run.metric('errors')).toBe(0);
    });
  });

  it('a healthy drain fed a few dozen lines per event-loop turn drops none, though the turns together bring more than its queue holds', async () => {
    // Lines come from UDP a few dozen per turn; a drain that can write them must not lose any
    // because it waited to gather more (its queue is the bound for a drain that is slow or down).
    const receiver = teardown.add(await startSyslogReceiver(), r => r.stop());
    const run = writer({ url: `syslog://127.0.0.1:${receiver.port}`, appId: 'burst-app', config: { maxQueuedLines: 100 } });
    await waitFor(() => run.logs.some(line => line.includes('drain connected')), { what: 'the writer to connect' });
    const sent = lines('burst-app', 1200);
    for (let i = 0; i < sent.length; i += 60) {
      run.push(sent.slice(i, i + 60));
      await nextTurn();
    }

    await waitFor(async () => (await run.metric('sent')) + run.reportedDrops >= 1200, { timeoutMs: 10_000, what: 'every line written or dropped' });
    expect({ reports: run.reports.length, dropped: run.reportedDrops, reasons: [...new Set(run.reports.map(r => r.reason))] }).toEqual({ reports: 0, dropped: 0, reasons: [] });
    expect(fields(await receiver.waitForMessages(1200, 10_000))).toEqual(sent.map(e => expectedFrame(e, DRAIN_HOST)));
  });

  describe('a receiver that goes away and comes back', () => {
    it.each(['SIGTERM', 'SIGKILL'] as const)(
      'syslog-ng ended by PID (%s) mid-stream and restarted on the same port: every line arrives at least once, first arrivals in order',
      async signal => {
        const N = 2000;
        // A port outside the ephemeral range: while syslog-ng is down, no other socket can be
        // given it (and the writer, reconnecting, cannot connect to itself on it).
        const receiver = teardown.add(await startSyslogReceiver({ port: (await fixedLoopbackPorts(1))[0] }), r => r.stop());
        const run = writer({ url: `syslog://127.0.0.1:${receiver.port}`, appId: 'kill-app', config: { resendWindowMs: 5000 } });
        const sent = numbered('kill-app', N);

        await pushPaced(run, sent.slice(0, 800));
        await receiver.waitForMessages(400, 10_000);
        receiver.kill(signal);
        await pushPaced(run, sent.slice(800, 1400));
        await waitFor(async () => (await run.metric('errors')) >= 1, { what: 'the writer to notice the receiver went away' });
        await receiver.restart();
        await pushPaced(run, sent.slice(1400));

        let frames: ReceivedFrame[] = [];
        const missing = () => {
          const seen = new Set(frames.map(f => lineNumber(f.message)));
          return range(0, N).filter(k => !seen.has(k));
        };
        await waitFor(async () => ((frames = await receiver.messages()), missing().length === 0), {
          timeoutMs: 20_000,
          what: `all ${N} lines at the receiver`,
        }).catch(() => undefined);
        expect(missing()).toEqual([]);

        const numbers = frames.map(f => lineNumber(f.message));
        const duplicates = numbers.length - new Set(numbers).size;
        const firstArrivals = numbers.filter((n, i) => numbers.indexOf(n) === i);
        console.log(`streamDrainWriter ${signal}: ${N} lines, ${numbers.length} frames received, ${duplicates} duplicates, resent ${await run.metric('resent')}`);
        expect(firstArrivals).toEqual(range(0, N));
        // Every frame, first copy or resent, is the line as sent.
        const byNumber = new Map(sent.map(e => [lineNumber(e.message), expectedFrame(e, DRAIN_HOST)]));
        expect(fields(frames)).toEqual(numbers.map(n => byNumber.get(n)));
        expect(await receiver.errors()).toEqual([]);
        expect(run.reports).toEqual([]);
      },
    );

    it('counts each line as sent once and every rewrite as resent, also when reconnecting took several refused attempts', async () => {
      const receiver = teardown.add(await startSyslogReceiver({ port: (await fixedLoopbackPorts(1))[0] }), r => r.stop()); // restarted on it: see above
      const run = writer({ url: `syslog://127.0.0.1:${receiver.port}`, appId: 'count-app', config: { resendWindowMs: 10_000 } });
      const sent = numbered('count-app', 100);
      run.push(sent);
      await receiver.waitForMessages(100, 10_000);
      receiver.kill('SIGKILL');
      // The break, then at least two refused attempts while syslog-ng is down.
      await waitFor(async () => (await run.metric('errors')) >= 3, { timeoutMs: 10_000, what: 'three failures' });
      await receiver.restart();

      // All 100 were written within the resend window, so all 100 are written again.
      const frames = await receiver.waitForMessages(200, 10_000);
      expect(frames.map(f => lineNumber(f.message))).toEqual([...range(0, 100), ...range(0, 100)]);
      expect({ sent: await run.metric('sent'), resent: await run.metric('resent') }).toEqual({ sent: 100, resent: 100 });
    });

    it('refused at start (no listener): lines wait, and all arrive once syslog-ng starts on that port', async () => {
      // Nothing listens on it until syslog-ng starts: outside the ephemeral range, so nothing else
      // is given it meanwhile and the writer's reconnects cannot connect to themselves.
      const port = (await fixedLoopbackPorts(1))[0];
      const run = writer({ url: `syslog://127.0.0.1:${port}`, appId: 'late-app' });
      const sent = lines('late-app', 300);
      run.push(sent);
      await waitFor(async () => (await run.metric('errors')) >= 3, { timeoutMs: 10_000, what: 'three refused connections' });

      const receiver = teardown.add(await startSyslogReceiver({ port }), r => r.stop());
      const frames = await receiver.waitForMessages(sent.length, 15_000);
      expect(fields(frames)).toEqual(sent.map(e => expectedFrame(e, DRAIN_HOST)));
      expect(run.reports).toEqual([]);
      expect(await run.metric('sent')).toBe(300);
      expect(await run.metric('resent')).toBe(0);
    });
  });

  describe('the default queue', () => {
    it('absorbs a burst of 10,000 lines of 1.5 KB while the drain is down, and delivers every one', async () => {
      const port = (await fixedLoopbackPorts(1))[0]; // down until syslog-ng starts on it: see above
      // Default queue bounds (20,000 lines, 16 MiB); only the backoff is quick.
      const run = writer({ url: `syslog://127.0.0.1:${port}`, appId: 'burst-app' });
      expect(run.config.maxQueuedLines).toBe(20_000);
      const pad = 'x'.repeat(1480);
      const sent = range(0, 10_000).map(n => envelope('burst-app', `burst-app ${n} ${pad}`));
      for (let k = 0; k < sent.length; k += 500) run.push(sent.slice(k, k + 500));
      await waitFor(async () => (await run.metric('errors')) >= 1, { timeoutMs: 10_000, what: 'a refused connection' });

      const receiver = teardown.add(await startSyslogReceiver({ port }), r => r.stop());
      const frames = await receiver.waitForMessages(sent.length, 30_000);
      expect(frames.map(f => f.message)).toEqual(sent.map(e => e.message));
      expect(run.reports).toEqual([]);
      expect(await run.metric('dropped')).toBe(0);
    });
  });

  describe('a receiver that misbehaves costs the drain its own queue, told with the reason', () => {
    it('accepts but never reads: oldest dropped, "receiver stopped reading" after stallTimeoutMs, reconnects; reports add up to the metric', async () => {
      const peer = teardown.add(await TcpPeer.start(() => undefined, { pauseOnConnect: true }), p => p.close());
      const run = writer({ url: `syslog://127.0.0.1:${peer.port}`, appId: 'stall-app', config: { maxQueuedLines: 100, stallTimeoutMs: 500 } });
      const big = 'x'.repeat(8 * 1024);
      // Enough 8 KiB lines to fill the kernel's buffers of a connection and stall it, a few times over.
      let k = 0;
      for (let i = 0; i < 600 && !(peer.connections >= 2 && run.reports.some(r => r.reason === 'receiver stopped reading')); i++) {
        run.push(range(k, k + 20).map(n => envelope('stall-app', `stall-app ${n} ${big}`)));
        k += 20;
        await sleep(20);
      }
      expect(peer.connections).toBeGreaterThanOrEqual(2);
      expect(run.reports.map(r => r.reason)).toContain('receiver stopped reading');
      for (const reason of new Set(run.reports.map(r => r.reason))) expect(['receiver stopped reading', 'drain too slow']).toContain(reason);
      await nextTurn();
      expect(run.reportedDrops).toBeGreaterThan(0);
      expect(await run.metric('dropped', { reason: 'queue_full' })).toBe(run.reportedDrops);
      expect(await run.metric('dropped')).toBe(run.reportedDrops);
      expect(await run.metric('errors')).toBeGreaterThanOrEqual(1);
      expect(run.completed).toBe(false);
    });

    it('closes every connection at once: reconnects back off (a count far below a tight loop\'s)', async () => {
      const peer = teardown.add(await TcpPeer.start(socket => socket.destroy()), p => p.close());
      const run = writer({ url: `syslog://127.0.0.1:${peer.port}`, appId: 'closing-app', config: { reconnect: { initialMs: 20, maxMs: 200 } } });
      run.push(lines('closing-app', 10));
      await waitFor(() => peer.connections >= 3, { timeoutMs: 10_000, what: 'three connections' });
      const from = peer.connections;
      await sleep(1500); // a window of 1.5 s: doubling from 20 ms capped at 200 ms allows about 10 attempts
      const attempts = peer.connections - from;
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(attempts).toBeLessThanOrEqual(40); // a tight loop makes hundreds to thousands
      expect(await run.metric('errors')).toBeGreaterThanOrEqual(peer.connections - 1);
      expect(run.completed).toBe(false);
    });

    it('a TLS peer that accepts but never answers the handshake: "connect timed out" after connectTimeoutMs, and it tries again', async () => {
      const peer = teardown.add(await TcpPeer.start(socket => socket.resume()), p => p.close());
      const run = writer({ url: `syslog-tls://localhost:${peer.port}`, appId: 'hang-app', config: { connectTimeoutMs: 300, maxQueuedLines: 100 } });
      await waitFor(async () => (await run.metric('errors')) >= 2, { timeoutMs: 10_000, what: 'two timed-out handshakes' });
      run.push(lines('hang-app', 105));
      expect(run.reports).toEqual(Array.from({ length: 5 }, () => ({ count: 1, reason: 'connect timed out' })));
      expect(peer.connections).toBeGreaterThanOrEqual(2);
      expect(await run.metric('sent')).toBe(0);
    });

    it('a host name that does not resolve: drops past a small queue are reported as "host name lookup failed"', async () => {
      const run = writer({ url: 'syslog://does-not-exist.invalid:514', appId: 'dns-app', config: { maxQueuedLines: 100 } });
      await waitFor(async () => (await run.metric('errors')) >= 1, { timeoutMs: 15_000, what: 'a failed lookup' });
      run.push(lines('dns-app', 115));
      expect(run.reportedDrops).toBe(15);
      expect(new Set(run.reports.map(r => r.reason))).toEqual(new Set(['host name lookup failed']));
      expect(await run.metric('dropped', { reason: 'queue_full' })).toBe(15);
      expect(await run.metric('sent')).toBe(0);
    });
  });

  describe('stop$ (unbind) and unsubscribe', () => {
    it('with a live receiver: flushes every queued line, then completes', async () => {
      const receiver = teardown.add(await startSyslogReceiver(), r => r.stop());
      const run = writer({ url: `syslog://127.0.0.1:${receiver.port}`, appId: 'flush-app', config: { flushSeconds: 10 } });
      const sent = lines('flush-app', 500);
      run.push(sent);
      run.stop();

      await waitFor(() => run.completed, { timeoutMs: 10_000, what: 'the writer to complete' });
      const frames = await receiver.waitForMessages(sent.length, 10_000);
      expect(fields(frames)).toEqual(sent.map(e => expectedFrame(e, DRAIN_HOST)));
      expect(run.reports).toEqual([]);
      expect(await run.metric('sent')).toBe(500);
      // Lines after stop$ are not taken.
      run.push(lines('flush-app', 1, 500));
      await sleep(200);
      expect((await receiver.messages()).length).toBe(500);
    });

    it('with nothing listening: completes after flushSeconds and reports the rest as not flushed', async () => {
      const port = (await fixedLoopbackPorts(1))[0]; // nothing listens on it: see above
      const run = writer({ url: `syslog://127.0.0.1:${port}`, appId: 'flush-app', config: { flushSeconds: 1 } });
      run.push(lines('flush-app', 10));
      await waitFor(async () => (await run.metric('errors')) >= 1, { what: 'a refused connection' });
      run.stop();

      await waitFor(() => run.completed, { timeoutMs: 10_000, what: 'the writer to complete' });
      expect(run.reports).toEqual([{ count: 10, reason: 'not flushed in 1 s after unbind (connection refused)' }]);
      expect(await run.metric('dropped', { reason: 'unbound' })).toBe(10);
      expect(await run.metric('dropped', { reason: 'queue_full' })).toBe(0);
    });

    it('unsubscribing closes its connection (the peer sees it close) and leaves no socket or timer behind', async () => {
      const peer = teardown.add(await TcpPeer.start(socket => socket.resume()), p => p.close());
      await sleep(50);
      const before = process.getActiveResourcesInfo();
      const run = startWriter(streamDrainWriter, { url: `syslog://127.0.0.1:${peer.port}`, appId: 'bye-app' });
      run.push(lines('bye-app', 10));
      await waitFor(() => peer.connections === 1, { what: 'a connection' });
      await waitFor(async () => (await run.metric('sent')) === 10, { what: '10 lines written' });
      run.unsubscribe();

      await waitFor(() => peer.closed === 1, { what: 'the peer to see the connection close' });
      await sleep(300); // past the writer's tick and any backoff it might (wrongly) have scheduled
      expect(peer.connections).toBe(1);
      const count = (list: string[], kind: string) => list.filter(r => r === kind).length;
      const after = process.getActiveResourcesInfo();
      expect(count(after, 'TCPSocketWrap')).toBe(count(before, 'TCPSocketWrap'));
      // At most as many: a timer of the harness's (a peer's, jest's) may have ended meanwhile.
      expect(count(after, 'Timeout')).toBeLessThanOrEqual(count(before, 'Timeout'));
      expect(run.completed).toBe(false);
    });
  });
});
