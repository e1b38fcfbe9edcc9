// Drains in a whole router: bindings from <dataDir>/bindings.json, lines in over UDP, frames out
// to real syslog-ng receivers.
//
//   bindings.json {"bindings":[{"app":"app-a","url":"syslog://127.0.0.1:A"}, {"app":"app-b",…}]}
//        │ watched
//   UDP ─┴─▶ router ──▶ syslog-ng A   only app-a's lines, every field exact, in order
//                  └──▶ syslog-ng B   only app-b's lines
//                  └──▶ dead drain    drops past its queue → "[LGR/router] drain syslog://…: N
//                                     messages dropped since …: connection refused" in app-a's
//                                     own stream (recent and its other drains), no credentials
//
// Invalid records are counted and skipped, a broken file keeps the last good set, removing a
// binding flushes and stops its writer while the others keep going, and a dead drain costs its
// own queue only.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { Envelope } from '../../../src/envelope/envelope';
import { Router, startRouter } from '../../../src/router/router';
import { DrainOverrides, captureLogger, expectedFrame, fields, sleep } from '../../support/drainWriterHarness';
import { httpGet, recent } from '../../support/httpGet';
import { routerConfig } from '../../support/routerConfig';
import { metricValue } from '../../support/routerMetricValue';
import { ReceivedFrame, SyslogReceiver, startSyslogReceiver } from '../../support/syslogReceiver';
import { Teardown } from '../../support/teardown';
import { UdpSender, envelope, lineNumber, numbered } from '../../support/udpSender';
// Dead drain ports outside the ephemeral range: a drain reconnecting to a dead ephemeral port on
// 127.0.0.1 can connect to itself, and another worker's listen(0) can take it.
import { fixedLoopbackPorts } from '../../support/fixedPorts';
import { waitFor } from '../../support/waitFor';

const HOST = 'router-spec-host';
const QUICK: DrainOverrides = {
  hostname: HOST,
  reconnect: { initialMs: 20, maxMs: 200 },
  flushSeconds: 1,
  noticeIntervalSeconds: 1,
  stallTimeoutMs: 500,
  connectTimeoutMs: 2000,
};

/** The frames of app lines (the router's own LGR notices left out). */
const appFrames = (frames: readonly ReceivedFrame[]) => frames.filter(f => f.procId !== '[LGR/router]');

function interleave<T>(...lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(...lists.map(l => l.length)); i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/**
 * Sends in slices with a pause between them, so that no more lines arrive at once than a drain's
 * (small, in these specs) queue holds: a healthy drain writes what it holds every few ms.
 */
async function sendPaced(sender: UdpSender, envelopes: readonly Envelope[], slice = 25): Promise<void> {
  for (let i = 0; i < envelopes.length; i += slice) {
    await sender.sendEnvelopes(envelopes.slice(i, i + slice));
    await sleep(20);
  }
}

/** Replaces bindings.json at once (temporary file + rename), as the CLI does. */
async function writeBindings(dataDir: string, content: unknown[] | string): Promise<void> {
  const text = typeof content === 'string' ? content : JSON.stringify({ bindings: content }, null, 2);
  const temp = join(dataDir, `.bindings.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, text);
  await rename(temp, join(dataDir, 'bindings.json'));
}

/** Whether `word` appears in `text`, hex digests (binding ids, hashes) aside: they may hold any 3 hex letters. */
function mentions(text: string, word: string): boolean {
  return text.replace(/[0-9a-f]{8,}/g, '').includes(word);
}

const drains = (router: Router) => metricValue(router, 'loggregator_drains');

describe('router drains: bindings.json → syslog receivers', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  async function receiver(): Promise<SyslogReceiver> {
    return teardown.add(await startSyslogReceiver(), r => r.stop());
  }

  /** A router on loopback with the bindings file written before it starts (or none). */
  async function start(bindings: unknown[] | string | undefined, drainConfig: DrainOverrides = {}) {
    const config = routerConfig({ router: { drains: { ...QUICK, ...drainConfig, reconnect: { ...QUICK.reconnect, ...drainConfig.reconnect } } } });
    teardown.add(config.dataDir, dir => rm(dir, { recursive: true, force: true }));
    if (bindings !== undefined) await writeBindings(config.dataDir, bindings);
    const { logger, lines } = captureLogger('debug');
    const router = teardown.add(await startRouter(config, logger.child({ component: 'router' })), r => r.close());
    const sender = teardown.add(new UdpSender(router.udpAddress), s => s.close());
    return { router, sender, logs: lines, dataDir: config.dataDir };
  }

  it('sends each app\'s lines only to its own drain, every field exact and in order', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const { router, sender } = await start([
      { app: 'app-a', url: `syslog://127.0.0.1:${a.port}` },
      { app: 'app-b', url: `syslog://127.0.0.1:${b.port}` },
    ]);
    await waitFor(async () => (await drains(router)) === 2, { what: 'two drains running' });

    const linesA = numbered('app-a', 300).map((e, k) => (k % 4 === 0 ? { ...e, messageType: 'ERR' as const } : e));
    const linesB = numbered('app-b', 300).map((e, k) => (k % 5 === 0 ? { ...e, sourceType: 'RTR', sourceInstance: '1' } : e));
    const other = numbered('app-c', 100); // bound to nothing
    await sender.sendEnvelopes(interleave(linesA, linesB, other));

    const framesA = await a.waitForMessages(300, 15_000);
    const framesB = await b.waitForMessages(300, 15_000);
    await sleep(300); // anything that should not have come would have come by now
    expect(fields(await a.messages())).toEqual(linesA.map(e => expectedFrame(e, HOST)));
    expect(fields(await b.messages())).toEqual(linesB.map(e => expectedFrame(e, HOST)));
    expect(framesA.length + framesB.length).toBe(600);
    expect(await a.errors()).toEqual([]);
    expect(await b.errors()).toEqual([]);
    expect(await metricValue(router, 'loggregator_drain_sent_total', { app: 'app-a' })).toBe(300);
    expect(await metricValue(router, 'loggregator_drain_sent_total', { app: 'app-b' })).toBe(300);
  });

  it('counts and skips invalid records (bad scheme, no host, not an object, bad app id); the good one runs', async () => {
    const a = await receiver();
    const { router, sender, logs } = await start([
      { app: 'app-a', url: `syslog://127.0.0.1:${a.port}` },
      { app: 'app-a', url: 'ftp://127.0.0.1:21/logs' },
      { app: 'app-a', url: 'syslog:///no-host' },
      'not-an-object',
      { app: 'not a valid app id!', url: `syslog://127.0.0.1:${a.port}` },
    ]);
    await waitFor(async () => (await metricValue(router, 'loggregator_bindings_invalid_total')) >= 4, { what: '4 invalid bindings counted' });
    await waitFor(async () => (await drains(router)) === 1, { what: 'one drain running' });

    const sent = numbered('app-a', 100);
    await sender.sendEnvelopes(sent);
    expect(fields(await a.waitForMessages(100, 10_000))).toEqual(sent.map(e => expectedFrame(e, HOST)));
    expect(await metricValue(router, 'loggregator_bindings_invalid_total')).toBe(4);
    expect(await drains(router)).toBe(1);
    const ignored = logs.filter(line => line.includes('binding ignored'));
    expect(ignored.length).toBe(4);
    expect(ignored.join('\n')).toMatch(/unsupported scheme/);
    expect(ignored.join('\n')).toMatch(/missing host/);
  });

  it('keeps the last good bindings running when bindings.json is broken (not JSON), and counts the store error', async () => {
    const a = await receiver();
    const good = [{ app: 'app-a', url: `syslog://127.0.0.1:${a.port}` }];
    const { router, sender, dataDir } = await start(good);
    await waitFor(async () => (await drains(router)) === 1, { what: 'one drain running' });
    const before = numbered('app-a', 50);
    await sender.sendEnvelopes(before);
    await a.waitForMessages(50, 10_000);

    await writeBindings(dataDir, '{"bindings": [ this is not JSON');
    await waitFor(async () => (await metricValue(router, 'loggregator_binding_store_errors_total')) >= 1, {
      timeoutMs: 10_000,
      what: 'the store error counted',
    });
    const after = numbered('app-a', 50, 50);
    await sender.sendEnvelopes(after);
    expect(fields(await a.waitForMessages(100, 10_000))).toEqual([...before, ...after].map(e => expectedFrame(e, HOST)));
    expect(await drains(router)).toBe(1);
  });

  it('does not echo a broken bindings.json into its log (the file holds drain URLs with tokens)', async () => {
    const a = await receiver();
    const goodUrl = `syslog://127.0.0.1:${a.port}`;
    const { router, dataDir, logs } = await start([{ app: 'app-a', url: goodUrl }]);
    await waitFor(async () => (await drains(router)) === 1, { what: 'one drain running' });

    // A hand edit with a trailing comma, the commonest JSON mistake.
    const tokenUrl = 'syslog://user:secret@127.0.0.1:1/?token=abc';
    await writeBindings(dataDir, `{"bindings": [{"app": "app-a", "url": "${goodUrl}"}, {"app": "app-b", "url": "${tokenUrl}"},]}`);
    await waitFor(async () => (await metricValue(router, 'loggregator_binding_store_errors_total')) >= 1, {
      timeoutMs: 10_000,
      what: 'the store error counted',
    });
    expect(logs.join('\n')).toMatch(/bindings file unusable/);
    expect(logs.filter(line => mentions(line, 'secret') || mentions(line, 'abc'))).toEqual([]);
  });

  it('removing a binding flushes what its drain held and stops it; the other app\'s drain keeps going', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const bindingA = { app: 'app-a', url: `syslog://127.0.0.1:${a.port}` };
    const bindingB = { app: 'app-b', url: `syslog://127.0.0.1:${b.port}` };
    const { router, sender, dataDir } = await start([bindingA, bindingB]);
    await waitFor(async () => (await drains(router)) === 2, { what: 'two drains running' });

    const firstA = numbered('app-a', 100);
    const firstB = numbered('app-b', 100);
    await sender.sendEnvelopes(interleave(firstA, firstB));
    await writeBindings(dataDir, [bindingB]); // at once: app-a's drain may still hold lines
    await waitFor(async () => (await drains(router)) === 1, { timeoutMs: 10_000, what: 'app-a\'s drain to stop' });
    expect(fields(await a.waitForMessages(100, 10_000))).toEqual(firstA.map(e => expectedFrame(e, HOST)));

    const secondA = numbered('app-a', 100, 100);
    const secondB = numbered('app-b', 100, 100);
    await sender.sendEnvelopes(interleave(secondA, secondB));
    expect(fields(await b.waitForMessages(200, 10_000))).toEqual([...firstB, ...secondB].map(e => expectedFrame(e, HOST)));
    await sleep(300);
    expect((await a.messages()).length).toBe(100);
    expect(await metricValue(router, 'loggregator_drain_dropped_total', { app: 'app-a' })).toBe(0); // its series are gone with it
    expect(await metricValue(router, 'loggregator_drain_sent_total', { app: 'app-b' })).toBe(200);
  });

  it('tells the app about a dead drain\'s drops in its own stream, naming the drain without credentials; nothing anywhere shows them', async () => {
    const healthy = await receiver();
    const deadPort = (await fixedLoopbackPorts(1))[0];
    const { router, sender, logs } = await start(
      [
        { app: 'app-a', url: `syslog://user:secret@127.0.0.1:${deadPort}/?token=abc` },
        { app: 'app-a', url: `syslog://127.0.0.1:${healthy.port}` },
      ],
      { maxQueuedLines: 100 },
    );
    await waitFor(async () => (await drains(router)) === 2, { what: 'two drains running' });
    await waitFor(async () => (await metricValue(router, 'loggregator_drain_errors_total', { drain: `syslog://127.0.0.1:${deadPort}` })) >= 1, {
      what: 'the dead drain refused',
    });

    const sent = numbered('app-a', 300);
    await sendPaced(sender, sent);
    let notices: Envelope[] = [];
    await waitFor(async () => (notices = (await recent(router.httpAddress, 'app=app-a')).filter(e => e.sourceType === 'LGR')).length >= 1, {
      timeoutMs: 10_000,
      what: 'a drop notice in app-a\'s recent lines',
    });
    const [notice] = notices;
    expect(notice).toMatchObject({ appId: 'app-a', sourceType: 'LGR', sourceInstance: 'router', messageType: 'ERR' });
    const pattern = new RegExp(`^drain syslog://127\\.0\\.0\\.1:${deadPort}: (\\d{1,3}(?:,\\d{3})*) messages dropped since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z: connection refused$`);
    expect(notice.message).toMatch(pattern);
    const told = Number(pattern.exec(notice.message)![1].replace(/,/g, ''));
    expect(told).toBeGreaterThan(0);
    expect(told).toBeLessThanOrEqual(200);
    expect(await metricValue(router, 'loggregator_drain_dropped_total', { drain: `syslog://127.0.0.1:${deadPort}`, reason: 'queue_full' })).toBeGreaterThanOrEqual(200);

    // The notice is a line of the app's: its healthy drain gets it too, after every app line.
    let frames: ReceivedFrame[] = [];
    await waitFor(async () => ((frames = await healthy.messages()), appFrames(frames).length >= 300 && frames.some(f => f.procId === '[LGR/router]')), {
      timeoutMs: 10_000,
      what: 'the healthy drain to get 300 lines and the notice',
    });
    expect(fields(appFrames(frames))).toEqual(sent.map(e => expectedFrame(e, HOST)));
    expect(frames.find(f => f.procId === '[LGR/router]')).toMatchObject({ pri: 11, appName: 'app-a', message: notice.message });

    const everything = {
      recent: (await httpGet(router.httpAddress, '/recent?app=app-a')).body,
      log: logs.join('\n'),
      metrics: (await httpGet(router.httpAddress, '/metrics')).body,
      drained: frames.map(f => f.raw).join('\n'),
    };
    expect(everything.metrics).toContain(`drain="syslog://127.0.0.1:${deadPort}"`);
    for (const [where, text] of Object.entries(everything)) {
      const leaks = text.split('\n').filter(line => mentions(line, 'secret') || mentions(line, 'abc'));
      expect({ where, leaks }).toEqual({ where, leaks: [] });
    }
  });

  it('a dead drain and a drain that never reads do not hold back a healthy drain of the same app: it gets every line', async () => {
    const healthy = await receiver();
    const deadPort = (await fixedLoopbackPorts(1))[0];
    const stuck = new Set<Socket>();
    const blackhole: Server = createServer({ pauseOnConnect: true }, socket => {
      stuck.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>(resolve => blackhole.listen(0, '127.0.0.1', resolve));
    teardown.add(blackhole, server => {
      for (const s of stuck) s.destroy();
      return new Promise<void>(resolve => server.close(() => resolve()));
    });
    const { router, sender } = await start(
      [
        { app: 'app-a', url: `syslog://127.0.0.1:${deadPort}` },
        { app: 'app-a', url: `syslog://127.0.0.1:${(blackhole.address() as AddressInfo).port}` },
        { app: 'app-a', url: `syslog://127.0.0.1:${healthy.port}` },
      ],
      { maxQueuedLines: 200 },
    );
    await waitFor(async () => (await drains(router)) === 3, { what: 'three drains running' });

    const pad = ' ' + 'y'.repeat(4000);
    const sent = Array.from({ length: 1000 }, (_, k) => envelope('app-a', `app-a ${k}${pad}`));
    await sendPaced(sender, sent);
    let frames: ReceivedFrame[] = [];
    await waitFor(async () => ((frames = appFrames(await healthy.messages())), frames.length >= 1000), {
      timeoutMs: 20_000,
      what: 'the healthy drain to get 1000 lines',
    });
    expect(frames.map(f => lineNumber(f.message))).toEqual(sent.map(e => lineNumber(e.message)));
    expect(fields(frames)).toEqual(sent.map(e => expectedFrame(e, HOST)));
    expect(await metricValue(router, 'loggregator_drain_dropped_total', { drain: `syslog://127.0.0.1:${deadPort}` })).toBeGreaterThanOrEqual(800);
    expect(await metricValue(router, 'loggregator_drain_dropped_total', { drain: `syslog://127.0.0.1:${healthy.port}` })).toBe(0);
  });

  /** The LGR notices in the app's recent lines, oldest first. */
  const noticesIn = async (router: Router, app: string) => (await recent(router.httpAddress, `app=${app}`)).filter(e => e.sourceType === 'LGR');

  it('a dead drain tells of one burst\'s drops a bounded number of times once traffic stops: a notice never goes into a full queue', async () => {
    const deadPort = (await fixedLoopbackPorts(1))[0];
    const dead = `syslog://127.0.0.1:${deadPort}`;
    const { router, sender } = await start([{ app: 'app-a', url: dead }], { maxQueuedLines: 100, noticeIntervalSeconds: 1 });
    await waitFor(async () => (await drains(router)) === 1, { what: 'the drain running' });
    await waitFor(async () => (await metricValue(router, 'loggregator_drain_errors_total', { drain: dead })) >= 1, { what: 'the dead drain refused' });

    // One burst, three times the queue; then nothing more from the app.
    await sender.sendEnvelopes(numbered('app-a', 300));
    let first: Envelope[] = [];
    await waitFor(async () => (first = await noticesIn(router, 'app-a')).length >= 1, { timeoutMs: 10_000, what: 'a drop notice in app-a\'s recent lines' });
    const droppedAtFirst = await metricValue(router, 'loggregator_drain_dropped_total', { drain: dead });
    expect(droppedAtFirst).toBeGreaterThanOrEqual(200);
    expect(first[0].message).toMatch(new RegExp(`^drain ${dead.replace(/[.]/g, '\\.')}: \\d[\\d,]* messages dropped since `));

    // Without the fix each notice went into the dead drain's own full queue, dropped a line there
    // and so called for the next notice an interval later: one a second, for ever.
    await sleep(5_000);
    const after = await noticesIn(router, 'app-a');
    expect(after.length - first.length).toBeLessThanOrEqual(2);
    expect(after.every(n => n.message.startsWith(`drain ${dead}: `))).toBe(true);
    expect((await metricValue(router, 'loggregator_drain_dropped_total', { drain: dead })) - droppedAtFirst).toBeLessThanOrEqual(2);
  });

  it('two dead drains of one app do not keep each other telling: a notice is queued only where there is room', async () => {
    const [portA, portB] = await fixedLoopbackPorts(2);
    const deadA = `syslog://127.0.0.1:${portA}`;
    const deadB = `syslog://127.0.0.1:${portB}`;
    const { router, sender } = await start(
      [
        { app: 'app-a', url: deadA },
        { app: 'app-a', url: deadB },
      ],
      { maxQueuedLines: 100, noticeIntervalSeconds: 1 },
    );
    await waitFor(async () => (await drains(router)) === 2, { what: 'two drains running' });
    await sender.sendEnvelopes(numbered('app-a', 300));
    let first: Envelope[] = [];
    await waitFor(async () => (first = await noticesIn(router, 'app-a')).length >= 2, { timeoutMs: 10_000, what: 'both drains telling of drops' });
    // Each notice into the other's full queue would drop a line there and call for its next one.
    await sleep(5_000);
    expect((await noticesIn(router, 'app-a')).length - first.length).toBeLessThanOrEqual(2);
  });

  it('a dead drain\'s notice still reaches the app\'s other drains: a healthy drain of the same app gets it, as recent has it', async () => {
    const healthy = await receiver();
    const deadPort = (await fixedLoopbackPorts(1))[0];
    const dead = `syslog://127.0.0.1:${deadPort}`;
    const { router, sender } = await start(
      [
        { app: 'app-a', url: dead },
        { app: 'app-a', url: `syslog://127.0.0.1:${healthy.port}` },
      ],
      { maxQueuedLines: 100, noticeIntervalSeconds: 1 },
    );
    await waitFor(async () => (await drains(router)) === 2, { what: 'two drains running' });
    await waitFor(async () => (await metricValue(router, 'loggregator_drain_errors_total', { drain: dead })) >= 1, { what: 'the dead drain refused' });

    const sent = numbered('app-a', 300);
    await sendPaced(sender, sent);
    let notices: Envelope[] = [];
    await waitFor(async () => (notices = await noticesIn(router, 'app-a')).length >= 1, { timeoutMs: 10_000, what: 'a drop notice in app-a\'s recent lines' });
    const [notice] = notices;
    expect(notice.message.startsWith(`drain ${dead}: `)).toBe(true);

    let frames: ReceivedFrame[] = [];
    await waitFor(async () => ((frames = await healthy.messages()), appFrames(frames).length >= 300 && frames.some(f => f.message === notice.message)), {
      timeoutMs: 10_000,
      what: 'the healthy drain to get 300 lines and the dead drain\'s notice',
    });
    expect(fields(appFrames(frames))).toEqual(sent.map(e => expectedFrame(e, HOST)));
    expect(frames.find(f => f.message === notice.message)).toMatchObject({ procId: '[LGR/router]', pri: 11, appName: 'app-a' });
    // The healthy drain itself lost nothing, so no notice names it.
    expect(frames.filter(f => f.procId === '[LGR/router]' && !f.message.startsWith(`drain ${dead}: `))).toEqual([]);
    expect(await metricValue(router, 'loggregator_drain_dropped_total', { drain: `syslog://127.0.0.1:${healthy.port}` })).toBe(0);
  });

  it('logs a bindings.json item with "app" and "url" swapped without the credentials or token the URL carries', async () => {
    const a = await receiver();
    const { router, sender, logs } = await start([
      { app: 'syslog-tls://user:S3CRET@logs.example.com', url: 'my-app' },
      { app: 'app-x?token=T0KEN', url: `syslog://127.0.0.1:${a.port}` },
      { app: 'app-a', url: `syslog://127.0.0.1:${a.port}` },
    ]);
    await waitFor(async () => (await metricValue(router, 'loggregator_bindings_invalid_total')) >= 2, { what: '2 invalid bindings counted' });
    await waitFor(async () => (await drains(router)) === 1, { what: 'the good drain running' });
    await sender.sendEnvelopes(numbered('app-a', 10));
    await a.waitForMessages(10, 10_000);

    const ignored = logs.filter(line => line.includes('binding ignored'));
    expect(ignored).toHaveLength(2);
    const everything = { log: logs.join('\n'), metrics: (await httpGet(router.httpAddress, '/metrics')).body };
    for (const [where, text] of Object.entries(everything)) {
      const leaks = text.split('\n').filter(line => line.includes('S3CRET') || line.includes('T0KEN') || line.includes('user:'));
      expect({ where, leaks }).toEqual({ where, leaks: [] });
    }
    // The swapped item is still recognisable (host kept), just not its userinfo.
    expect(ignored.join('\n')).toContain('syslog-tls://logs.example.com/');
  });
});
