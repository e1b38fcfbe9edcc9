// httpsDrainWriter: one https:// drain, as Heroku's HTTPS drains, against a local HTTPS server
// with a self-signed certificate (trusted through ctx.tlsCa).
//
//   line$ ──▶ writer ──POST application/logplex-1──▶ https server (answers as scripted)
//               │      Logplex-Msg-Count: frames in the body
//               │      Logplex-Frame-Id:  one per batch, the same for every retry of it
//               └──▶ DropReport { count, reason }
//
// Batches hold at most batchLines frames, every line is delivered once and in order; 5xx, 429
// (after Retry-After), a timeout retry the same batch; a 4xx drops it for good, counted as
// rejected and told; stop$ posts a partial batch at once.
import { encodeSyslogMessage } from '../../../src/envelope/rfc5424';
import { httpsDrainWriter } from '../../../src/drain/httpsDrainWriter';
import { Envelope } from '../../../src/envelope/envelope';
import { DRAIN_HOST, DrainOverrides, sleep, startWriter } from '../../support/drainWriterHarness';
import { HttpsReceiver } from '../../support/httpsReceiver';
import { SelfSignedCert, makeSelfSignedCert } from '../../support/selfSignedCert';
import { Teardown } from '../../support/teardown';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

function lines(appId: string, count: number, from = 0): Envelope[] {
  return range(from, from + count).map(k =>
    envelope(appId, `${appId} ${k} ${k % 5 === 0 ? 'żółć 🚀 "q"' : 'text'}`, { messageType: k % 2 === 0 ? 'OUT' : 'ERR', sourceInstance: String(k % 3) }),
  );
}

/** The RFC 5424 message a line must arrive as (the body's frames, without their MSG-LEN). */
const message = (e: Envelope) => encodeSyslogMessage(e, DRAIN_HOST);

describe('httpsDrainWriter', () => {
  const teardown = new Teardown();
  let cert: SelfSignedCert;
  beforeAll(async () => {
    cert = await makeSelfSignedCert();
  });
  afterAll(() => cert?.remove());
  afterEach(() => teardown.run());

  async function setUp(config: DrainOverrides = {}, path = '/logs', userinfo = '') {
    const receiver = teardown.add(await HttpsReceiver.start(cert), r => r.close());
    const run = teardown.add(
      startWriter(httpsDrainWriter, { url: receiver.url(path, userinfo), appId: 'web-app', tlsCa: [cert.cert], config }),
      r => r.unsubscribe(),
    );
    return { receiver, run };
  }

  it('POSTs batches of at most batchLines: logplex-1, Msg-Count = frames, octet-counted body, every line once and in order, basic auth from the URL', async () => {
    const { receiver, run } = await setUp({ https: { batchLines: 100, flushMs: 50 } }, '/logs/drain?token=t0k', 'user:s3cr%40t');
    const sent = lines('web-app', 350);
    run.push(sent);

    await waitFor(() => receiver.delivered().length >= 350, { timeoutMs: 15_000, what: '350 frames delivered' });
    await waitFor(async () => (await run.metric('sent')) >= 350, { what: 'the writer to count the last answer' });
    expect(receiver.requests.map(r => r.malformed)).toEqual(receiver.requests.map(() => undefined));
    expect(receiver.delivered()).toEqual(sent.map(message));
    for (const r of receiver.requests) {
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/logs/drain?token=t0k');
      expect(r.headers['content-type']).toBe('application/logplex-1');
      expect(r.headers['logplex-msg-count']).toBe(String(r.frames.length));
      expect(r.headers['content-length']).toBe(String(r.body.length));
      expect(r.headers['logplex-frame-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from('user:s3cr@t').toString('base64')}`);
      expect(r.frames.length).toBeGreaterThan(0);
      expect(r.frames.length).toBeLessThanOrEqual(100);
    }
    expect(receiver.requests.length).toBeGreaterThanOrEqual(4);
    expect(new Set(receiver.requests.map(r => r.headers['logplex-frame-id'])).size).toBe(receiver.requests.length);
    expect(run.reports).toEqual([]);
    expect(await run.metric('sent')).toBe(350);
    expect(await run.metric('resent')).toBe(0);
    expect(await run.metric('errors')).toBe(0);
  });

  it('500, then 200: the same batch is posted again with the same Logplex-Frame-Id, and delivered once', async () => {
    const { receiver, run } = await setUp({ https: { batchLines: 10, flushMs: 20 } });
    receiver.answerNext({ status: 500 });
    const sent = lines('web-app', 10);
    run.push(sent);

    await waitFor(() => receiver.delivered().length >= 10, { timeoutMs: 10_000, what: 'the batch delivered' });
    await waitFor(async () => (await run.metric('resent')) >= 10, { what: 'the writer to count the answer' });
    const [failed, retried] = receiver.requests;
    expect(receiver.requests.map(r => r.answer)).toEqual([500, 200]);
    expect(retried.headers['logplex-frame-id']).toBe(failed.headers['logplex-frame-id']);
    expect(retried.body.equals(failed.body)).toBe(true);
    expect(receiver.delivered()).toEqual(sent.map(message));
    expect(run.reports).toEqual([]);
    expect({ sent: await run.metric('sent'), resent: await run.metric('resent'), errors: await run.metric('errors') }).toEqual({ sent: 0, resent: 10, errors: 1 });

    // The next batch is a new one.
    run.push(lines('web-app', 3, 10));
    await waitFor(() => receiver.delivered().length >= 13, { timeoutMs: 10_000, what: 'the next batch' });
    expect(receiver.requests[2].headers['logplex-frame-id']).not.toBe(failed.headers['logplex-frame-id']);
  });

  it('a batch that lost frames to overflow while waiting for its retry is not posted again under the old Logplex-Frame-Id', async () => {
    // A Frame-Id names one body: a receiver that did process the failed POST (a 500 from a proxy
    // behind it, an answer after the timeout) drops a retry with the same id as a duplicate, so
    // the frames that are new in it would be lost without anyone knowing.
    const { receiver, run } = await setUp({ maxQueuedLines: 100, https: { batchLines: 100, flushMs: 20 }, reconnect: { initialMs: 600, maxMs: 1000 } });
    receiver.answerNext({ status: 500 });
    const first = lines('web-app', 100);
    run.push(first);
    await waitFor(() => receiver.requests.length >= 1, { what: 'the first POST' });
    const more = lines('web-app', 5, 100);
    run.push(more); // while the batch waits for its retry: 105 in a queue of 100, the 5 oldest go

    await waitFor(() => receiver.delivered().length >= 100, { timeoutMs: 10_000, what: 'the retry delivered' });
    // One report of 5 (the new lines came before the failure was seen) or five of 1 (after).
    expect({ dropped: run.reportedDrops, reasons: [...new Set(run.reports.map(r => r.reason))] }).toEqual({ dropped: 5, reasons: ['HTTP 500'] });
    const [failed, retried] = receiver.requests;
    expect(retried.frames).toEqual([...first.slice(5), ...more].map(message));
    const sameBody = retried.body.equals(failed.body);
    const sameId = retried.headers['logplex-frame-id'] === failed.headers['logplex-frame-id'];
    expect({ sameBody, sameId }).toEqual({ sameBody: false, sameId: false });
  });

  it('429 with Retry-After: 1: retried (same Frame-Id) no sooner than a second later, within a cap that allows it', async () => {
    const { receiver, run } = await setUp({ https: { batchLines: 5, flushMs: 20 }, reconnect: { initialMs: 20, maxMs: 5000 } });
    receiver.answerNext({ status: 429, headers: { 'Retry-After': '1' } });
    const sent = lines('web-app', 5);
    run.push(sent);

    await waitFor(() => receiver.delivered().length >= 5, { timeoutMs: 10_000, what: 'the batch delivered' });
    const [refused, retried] = receiver.requests;
    expect(receiver.requests.map(r => r.answer)).toEqual([429, 200]);
    expect(retried.headers['logplex-frame-id']).toBe(refused.headers['logplex-frame-id']);
    expect(receiver.delivered()).toEqual(sent.map(message));
    // A lower bound only (a slow machine makes the gap longer, never shorter).
    expect(retried.atMs - refused.atMs).toBeGreaterThanOrEqual(900);
    expect(run.reports).toEqual([]);
  });

  it('400: the batch is dropped for good (not retried), counted as rejected, and the drop report says HTTP 400', async () => {
    const { receiver, run } = await setUp({ https: { batchLines: 10, flushMs: 20 } });
    receiver.answerNext({ status: 400 });
    const refused = lines('web-app', 10);
    run.push(refused);
    await waitFor(() => run.reports.length >= 1, { timeoutMs: 10_000, what: 'a drop report' });
    const next = lines('web-app', 4, 10);
    run.push(next);

    await waitFor(() => receiver.delivered().length >= 4, { timeoutMs: 10_000, what: 'the next batch delivered' });
    await waitFor(async () => (await run.metric('sent')) >= 4, { what: 'the writer to count the answer' });
    expect(receiver.requests.map(r => r.answer)).toEqual([400, 200]);
    expect(receiver.requests[0].frames).toEqual(refused.map(message));
    expect(receiver.delivered()).toEqual(next.map(message));
    expect(run.reports).toEqual([{ count: 10, reason: 'HTTP 400: batch refused' }]);
    expect(await run.metric('dropped', { reason: 'rejected' })).toBe(10);
    expect(await run.metric('dropped', { reason: 'queue_full' })).toBe(0);
    expect(await run.metric('sent')).toBe(4);
  });

  it('a server that never answers: the request times out (timeoutMs) and the same batch is retried, then delivered', async () => {
    const { receiver, run } = await setUp({ https: { batchLines: 10, flushMs: 20, timeoutMs: 300 } });
    receiver.answerNext('hang');
    const sent = lines('web-app', 7);
    run.push(sent);

    await waitFor(() => receiver.delivered().length >= 7, { timeoutMs: 10_000, what: 'the batch delivered after a timeout' });
    expect(receiver.requests.map(r => r.answer)).toEqual(['hang', 200]);
    expect(receiver.requests[1].headers['logplex-frame-id']).toBe(receiver.requests[0].headers['logplex-frame-id']);
    expect(receiver.delivered()).toEqual(sent.map(message));
    expect(await run.metric('errors')).toBe(1);
    expect(run.logs.some(line => line.includes('request timed out'))).toBe(true);
  });

  it('stop$ posts a partial batch at once (not after flushMs), then completes', async () => {
    const { receiver, run } = await setUp({ https: { batchLines: 1000, flushMs: 60_000 }, flushSeconds: 5 });
    const sent = lines('web-app', 3);
    run.push(sent);
    await sleep(300);
    expect(receiver.requests).toEqual([]); // a partial batch waits for flushMs (a minute)

    run.stop();
    await waitFor(() => run.completed, { timeoutMs: 10_000, what: 'the writer to complete' });
    expect(receiver.requests.length).toBe(1);
    expect(receiver.delivered()).toEqual(sent.map(message));
    expect(run.reports).toEqual([]);
  });

  it('stop$ while the server never answers: completes after flushSeconds and reports the batch as not flushed', async () => {
    const { receiver, run } = await setUp({ flushSeconds: 1, https: { batchLines: 10, flushMs: 20, timeoutMs: 30_000 } });
    receiver.answerNext('hang');
    run.push(lines('web-app', 6));
    await waitFor(() => receiver.requests.length >= 1, { what: 'the POST' });
    run.stop();

    await waitFor(() => run.completed, { timeoutMs: 10_000, what: 'the writer to complete' });
    expect(run.reports).toEqual([{ count: 6, reason: expect.stringMatching(/^not flushed in 1 s after unbind/) }]);
    expect(await run.metric('dropped', { reason: 'unbound' })).toBe(6);
    expect(receiver.requests.length).toBe(1);
  });
});
