// A tail client that stops reading, on a router with maxQueuedLines 50:
//
//   UDP      0 1 2 … 2300 … 4000 ………………………… 4001 … 4020
//   fast     0 1 2 … 2300 … 4000                4001 … 4020     every line, never slowed
//   slow     0 … k  ‖ paused ‖ (resumes) k+1 … m, N(dropped d), m+d+1 … 4000, 4001 … 4020
//
// Once the kernel's socket buffers and the router's high-water mark are full, the slow client's
// lines wait in its own queue of 50 and the oldest are dropped. When it reads again it gets what
// was buffered, then a notice of exactly how many were dropped, placed where they were, then the
// rest. Ingest and every other client carry on as if it were not there.
import { Envelope } from '../../../src/envelope/envelope';
import { recent } from '../../support/httpGet';
import { metricValue } from '../../support/routerMetricValue';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(40_000);

const NOTICE = /^dropped (\d+) messages since (\S+): consumer too slow$/;

/**
 * Checks a client's stream: lines in increasing order, and wherever lines are missing, a notice
 * right before the next line that says exactly how many. Returns the notices' dropped counts.
 */
function checkGapsAreAnnounced(received: Envelope[]): number[] {
  const counts: number[] = [];
  let previous = -1;
  let announced = 0;
  for (const e of received) {
    if (e.sourceType === 'LGR') {
      expect(e).toMatchObject({ appId: 'app-a', messageType: 'ERR', sourceInstance: 'router' });
      const match = NOTICE.exec(e.message);
      expect(match).not.toBeNull();
      expect(Number.isNaN(Date.parse(match![2]))).toBe(false);
      expect(announced).toBe(0); // one notice per gap
      announced = Number(match![1]);
      counts.push(announced);
      continue;
    }
    const n = lineNumber(e.message);
    expect({ after: previous, missing: n - previous - 1 }).toEqual({ after: previous, missing: announced });
    previous = n;
    announced = 0;
  }
  return counts;
}

describe('router tail: a client that stops reading', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('loses its oldest lines, is told how many once it reads again, and slows neither ingest nor other clients', async () => {
    const router = await teardown.router({
      router: { recent: { linesPerApp: 100 }, tail: { maxQueuedLines: 50, keepaliveSeconds: 60 } },
    });
    const slow = await teardown.tail(router, 'app=app-a');
    const fast = await teardown.tail(router, 'app=app-a');
    const otherApp = await teardown.tail(router, 'app=app-b');
    slow.ws.pause(); // the socket is no longer read: the kernel buffers fill, then the router's queue

    const sender = teardown.sender(router);
    const pad = ' ' + 'x'.repeat(2000);
    const slowDrops = () => metricValue(router, 'loggregator_dropped_total', { reason: 'tail_slow_consumer' });
    let sent = 0;
    let sentB = 0;
    const sendBatch = async (count: number): Promise<void> => {
      await sender.sendEnvelopes(numbered('app-a', count, sent, pad));
      sent += count;
      await sender.sendEnvelopes(numbered('app-b', 1, sentB));
      sentB += 1;
      // The fast client keeps up with every batch while the slow one is stuck.
      await waitFor(() => fast.received.length >= sent, { what: `the fast client to receive ${sent} lines`, timeoutMs: 10_000 });
    };

    // How much the kernel absorbs depends on the machine: send until drops begin (bounded), then more.
    while (sent < 15_000 && (await slowDrops()) === 0) await sendBatch(500);
    expect(await slowDrops()).toBeGreaterThan(0);
    for (let k = 0; k < 2; k++) await sendBatch(500);
    const droppedWhilePaused = await slowDrops();
    expect(droppedWhilePaused).toBeGreaterThan(500);

    // Meanwhile: ingest counted everything, /recent is current, other clients got every line.
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(sent + sentB);
    const latest = await recent(router.httpAddress, 'app=app-a&limit=3');
    expect(latest.map(e => lineNumber(e.message))).toEqual([sent - 3, sent - 2, sent - 1]);
    expect(fast.received.map(e => lineNumber(e.message))).toEqual(Array.from({ length: sent }, (_, k) => k));
    expect(fast.notices).toEqual([]);
    await waitFor(() => otherApp.received.length >= sentB, { what: 'the other app\'s client to receive its lines' });
    expect(otherApp.received.map(e => e.message)).toEqual(Array.from({ length: sentB }, (_, k) => `app-b ${k}`));
    expect(slow.received.length).toBeLessThan(sent - droppedWhilePaused + 1);

    // The slow client reads again: it gets the notice, then whatever comes later.
    slow.ws.resume();
    await waitFor(() => slow.notices.length > 0 && lineNumber(slow.received[slow.received.length - 1].message) === sent - 1, {
      what: 'the slow client to catch up to the last line sent',
      timeoutMs: 10_000,
    });
    const later = sent;
    await sender.sendEnvelopes(numbered('app-a', 20, sent, pad));
    sent += 20;
    await waitFor(() => slow.received.length > 0 && lineNumber(slow.received[slow.received.length - 1].message) === sent - 1, {
      what: 'the slow client to receive the lines sent after it resumed',
    });

    const counts = checkGapsAreAnnounced(slow.received);
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.every(n => n > 0)).toBe(true);
    const announced = counts.reduce((a, b) => a + b, 0);
    expect(slow.lines.length + announced).toBe(sent);
    expect(slow.lines.slice(-20).map(e => lineNumber(e.message))).toEqual(Array.from({ length: 20 }, (_, k) => later + k));
    // Every drop counted is a drop announced, and the other clients lost nothing.
    expect(await slowDrops()).toBe(announced);
    await waitFor(() => fast.received.length >= sent, { what: 'the fast client to receive the later lines' });
    expect(fast.notices).toEqual([]);
    expect(slow.malformed).toEqual([]);
  });

  it('tears down a stuck client\'s session when it disconnects, without disturbing the others', async () => {
    const router = await teardown.router({ router: { tail: { maxQueuedLines: 50, keepaliveSeconds: 60 } } });
    const stuck: TailClient = await teardown.tail(router, 'app=app-a');
    const reader = await teardown.tail(router, 'app=app-a');
    stuck.ws.pause();
    const sender = teardown.sender(router);
    const pad = ' ' + 'y'.repeat(2000);
    await sender.sendEnvelopes(numbered('app-a', 500, 0, pad));
    await waitFor(() => reader.received.length >= 500, { what: 'the reader to receive 500 lines' });

    stuck.terminate();
    await stuck.closed;
    await waitFor(async () => (await metricValue(router, 'loggregator_tail_clients')) === 1, { what: 'the stuck client to be gone' });
    await sender.sendEnvelopes(numbered('app-a', 100, 500));
    await waitFor(() => reader.received.length >= 600, { what: 'the reader to receive 600 lines' });
    expect(reader.received.map(e => lineNumber(e.message))).toEqual(Array.from({ length: 600 }, (_, k) => k));
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(600);
  });
});
