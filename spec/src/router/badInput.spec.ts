// Bad input at every edge of a router, with good traffic interleaved around it:
//
//   UDP   good 0, junk, good 1, junk, junk, good 2, …   ──▶ junk counted by reason, good delivered in full
//   HTTP  /recent?app=%ZZ, ?limit=-1, "GARBAGE\r\n", …  ──▶ 400 with a reason, server still serving
//
// Nothing crashes the router, stops ingest, or costs a good line.
import { routerApiHeaders, routerApiToken } from '../../../src/auth/routerApiToken';
import { randomBytes } from 'node:crypto';
import { datagramOverhead, encodeDatagram, encodeDatagramBatch, encodeEnvelopeJson } from '../../../src/envelope/codec';
import { Envelope } from '../../../src/envelope/envelope';
import { Router } from '../../../src/router/router';
import { httpGet, rawHttp, recent } from '../../support/httpGet';
import { datagramsSeen, metricValue, rejectedByReason } from '../../support/routerMetricValue';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { envelope, lineNumber, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const MAX_DATAGRAM = 1024;
const SECRET = 'sixteen-chars-secret!';
const NO_REJECTIONS = { oversized: 0, invalid_utf8: 0, not_json: 0, invalid_envelope: 0, unsigned: 0, bad_signature: 0, bad_syslog: 0 };

/** good[0], bad[0..k], good[1], bad[..], … : every bad datagram sits between two good ones. */
function interleave(good: Buffer[], bad: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const perGap = Math.ceil(bad.length / Math.max(1, good.length - 1));
  let b = 0;
  good.forEach(g => {
    out.push(g);
    for (let k = 0; k < perGap && b < bad.length; k++) out.push(bad[b++]);
  });
  while (b < bad.length) out.push(bad[b++]);
  return out;
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

/** JSON text of any value shaped like an envelope (valid or not). */
const jsonOf = (value: unknown): string => JSON.stringify(value);

describe('router under bad input', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  /** Sends `bad` interleaved with `goodCount` numbered lines; checks the good ones arrive in full. */
  async function sendAmidGoodTraffic(router: Router, bad: Buffer[], goodCount = 50, secret?: string): Promise<TailClient> {
    // With a secret the router's API wants the routers' API token too.
    const headers = routerApiHeaders(secret === undefined ? undefined : routerApiToken(secret));
    const client = await teardown.tail(router, 'app=app-good', { headers });
    const good = numbered('app-good', goodCount);
    const sender = teardown.sender(router);
    const total = await sender.send(interleave(good.map(e => encodeDatagram(e, secret)), bad));
    await waitFor(async () => (await datagramsSeen(router)) === total, { what: `all ${total} datagrams accounted for` });
    await waitFor(() => client.received.length >= goodCount, { what: `${goodCount} good lines at the tail client` });
    expect(client.received).toEqual(good);
    expect(await recent(router.httpAddress, 'app=app-good', headers)).toEqual(good.slice(-100));
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(goodCount);
    return client;
  }

  it('rejects thousands of random datagrams and delivers the good lines around them', async () => {
    const router = await teardown.router({ router: { udp: { maxDatagramBytes: MAX_DATAGRAM } } });
    const bad = Array.from({ length: 2000 }, (_, k) => randomBytes(1 + ((k * 7919) % MAX_DATAGRAM)));
    await sendAmidGoodTraffic(router, bad, 200);
    // Mostly invalid UTF-8 or not JSON; a lone digit or two is JSON, but not an envelope; a
    // first byte "<" makes it (bad) syslog.
    const rejected = await rejectedByReason(router);
    expect(rejected.not_json + rejected.invalid_utf8 + rejected.invalid_envelope + rejected.bad_syslog).toBe(2000);
    expect(rejected.invalid_utf8).toBeGreaterThan(1000);
    expect({ ...rejected, not_json: 0, invalid_utf8: 0, invalid_envelope: 0, bad_syslog: 0 }).toEqual(NO_REJECTIONS);
  });

  it('counts each kind of bad datagram under its own reason', async () => {
    const router = await teardown.router({ router: { udp: { maxDatagramBytes: MAX_DATAGRAM } } });
    const valid = envelope('app-bad', 'a valid line');
    const text = encodeEnvelopeJson(valid);
    const without = (field: keyof Envelope) => {
      const copy: Record<string, unknown> = { ...valid };
      delete copy[field];
      return json(copy);
    };
    const withBytes = (bytes: number[]) =>
      Buffer.concat([Buffer.from(text.slice(0, text.length - 2), 'utf8'), Buffer.from(bytes), Buffer.from('"}', 'utf8')]);

    const notJson = [
      Buffer.alloc(0),
      Buffer.from(text.slice(0, 1)),
      Buffer.from(text.slice(0, 10)),
      Buffer.from(text.slice(0, text.length / 2)),
      Buffer.from(text.slice(0, -1)),
      Buffer.from(text + 'trailing'),
      Buffer.from('{' + '\0'.repeat(100)),
      Buffer.from('{"appId":"app-bad",}'),
      Buffer.from("{'appId':'app-bad'}"),
    ];
    const invalidUtf8 = [
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      Buffer.from([0xff, 0xfe, 0xfd, 0xfc, 0x00, 0x01]),
      withBytes([0xc3, 0x28]), // a lead byte without its continuation
      withBytes([0xc0, 0xaf]), // an overlong "/"
      withBytes([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8
      withBytes([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
      Buffer.concat([Buffer.from(text.slice(0, -2)), Buffer.from([0xe2, 0x82])]), // cut mid-character
    ];
    const invalidEnvelope = [
      ...(['appId', 'sourceType', 'sourceInstance', 'messageType', 'timestamp', 'message'] as const).map(without),
      json({ ...valid, appId: 42 }),
      json({ ...valid, appId: '' }),
      json({ ...valid, appId: 'has space' }),
      json({ ...valid, appId: '-leading-dash' }),
      json({ ...valid, appId: 'a'.repeat(49) }),
      json({ ...valid, sourceType: null }),
      json({ ...valid, sourceInstance: '' }),
      json({ ...valid, messageType: 'INFO' }),
      json({ ...valid, messageType: 'out' }),
      json({ ...valid, timestamp: 1700000000000000000 }),
      json({ ...valid, timestamp: '-1' }),
      json({ ...valid, timestamp: '01' }),
      json({ ...valid, timestamp: '1e18' }),
      json({ ...valid, timestamp: '9223372036854775808' }), // one past a 64-bit ns clock
      json({ ...valid, timestamp: '99999999999999999999' }),
      json({ ...valid, message: 123 }),
      json({ ...valid, message: { text: 'nested' } }),
      json({ ...valid, message: null }),
      json([valid]),
      json(null),
      json(42),
      json('a string'),
      json(true),
      json({}),
    ];
    const oversized = [
      Buffer.alloc(MAX_DATAGRAM + 1, 0x7b),
      encodeDatagram(envelope('app-bad', 'm'.repeat(MAX_DATAGRAM))),
      randomBytes(4096),
      randomBytes(65507), // the largest a UDP datagram can be
    ];
    // Exactly at the limit is fine.
    const fits = envelope('app-good', 'fits exactly ');
    const atLimit = { ...fits, message: fits.message + 'f'.repeat(MAX_DATAGRAM - datagramOverhead(fits) - fits.message.length) };
    expect(encodeDatagram(atLimit).length).toBe(MAX_DATAGRAM);

    const bad = [...notJson, ...invalidUtf8, ...invalidEnvelope, ...oversized];
    const client = await sendAmidGoodTraffic(router, bad, 40);

    expect(await rejectedByReason(router)).toEqual({
      ...NO_REJECTIONS,
      not_json: notJson.length,
      invalid_utf8: invalidUtf8.length,
      invalid_envelope: invalidEnvelope.length,
      oversized: oversized.length,
    });
    // Nothing of the bad app got through, not even partly.
    expect(await recent(router.httpAddress, 'app=app-bad')).toEqual([]);

    await teardown.sender(router).send([encodeDatagram(atLimit)]);
    await waitFor(() => client.received.length === 41, { what: 'the datagram of exactly maxDatagramBytes' });
    expect(client.received[40]).toEqual(atLimit);
  });

  it('takes batches (several envelopes per datagram): each bad envelope rejected on its own, its neighbours delivered in order; a tampered signed batch rejected whole', async () => {
    const router = await teardown.router({ sharedSecret: SECRET });
    const headers = routerApiHeaders(routerApiToken(SECRET));
    const client = await teardown.tail(router, 'app=app-good', { headers });
    const good = numbered('app-good', 9);
    const json = good.map(encodeEnvelopeJson);
    const tampered = Buffer.from(encodeDatagramBatch([encodeEnvelopeJson(envelope('app-good', 'forged 1')), encodeEnvelopeJson(envelope('app-good', 'forged 2'))], SECRET));
    tampered[tampered.length - 3] ^= 0x01;
    await teardown.sender(router).send([
      encodeDatagramBatch([json[0], '{"appId": "app-good"', json[1], json[2]], SECRET),
      tampered,
      encodeDatagramBatch([json[3], jsonOf({ ...envelope('app-good', 'x'), messageType: 'LOG' }), json[4], '', json[5]], SECRET),
      encodeDatagramBatch(json.slice(6), SECRET),
    ]);
    await waitFor(() => client.received.length >= 9, { what: 'the 9 good lines at the tail client' });
    expect(client.received).toEqual(good);
    expect(await recent(router.httpAddress, 'app=app-good', headers)).toEqual(good);
    expect(await rejectedByReason(router)).toEqual({ ...NO_REJECTIONS, not_json: 1, invalid_envelope: 1, bad_signature: 1 });
    expect(await metricValue(router, 'loggregator_ingested_total')).toBe(9);
  });

  it('with a shared secret, rejects unsigned and badly signed datagrams and delivers well-signed ones', async () => {
    const router = await teardown.router({ sharedSecret: SECRET });
    const line = envelope('app-bad', 'pretending');
    const signed = encodeDatagram(line, SECRET);
    const body = signed.subarray(signed.indexOf(0x0a) + 1);
    const tampered = Buffer.from(signed);
    tampered[tampered.length - 3] ^= 0x01; // one bit of the message flipped after signing

    const unsigned = [
      encodeDatagram(line),
      Buffer.from('s1:short\n' + encodeEnvelopeJson(line)), // not the signed framing at all
      Buffer.concat([Buffer.from('s1:' + 'A'.repeat(43) + ' '), body]), // no newline after the signature
      Buffer.alloc(0),
      randomBytes(200).fill(0x20, 0, 1), // leading space: never the signed framing
    ];
    const badSignature = [
      encodeDatagram(line, 'another-secret-of-16+'),
      encodeDatagram(line, SECRET.slice(0, -1) + '?'),
      tampered,
      Buffer.concat([Buffer.from('s1:' + 'A'.repeat(43) + '\n'), body]),
      Buffer.concat([Buffer.from('s1:' + '!'.repeat(43) + '\n'), body]), // not base64url
      Buffer.concat([Buffer.from('s1:' + '\n'.repeat(44)), body]),
    ];
    await sendAmidGoodTraffic(router, [...unsigned, ...badSignature], 30, SECRET);
    expect(await rejectedByReason(router)).toEqual({ ...NO_REJECTIONS, unsigned: unsigned.length, bad_signature: badSignature.length });
    expect(await recent(router.httpAddress, 'app=app-bad', routerApiHeaders(routerApiToken(SECRET)))).toEqual([]);
  });

  it('refuses bad /recent queries with 400 and a JSON reason, and still answers good ones', async () => {
    const router = await teardown.router({ router: { recent: { linesPerApp: 100 } } });
    const sender = teardown.sender(router);
    const good = numbered('app-good', 10);
    await sender.sendEnvelopes(good);
    await waitFor(async () => (await metricValue(router, 'loggregator_ingested_total')) === 10, { what: '10 lines ingested' });

    const badQueries = [
      '/recent',
      '/recent?',
      '/recent?app=',
      '/recent?app',
      '/recent?app=a&app=b',
      '/recent?app=app-good&app=app-good',
      '/recent?app=%ZZ',
      '/recent?app=%00',
      '/recent?app=%F0%9F%9A%80',
      '/recent?app=..%2F..%2Fetc',
      '/recent?app=app-good&limit=-1',
      '/recent?app=app-good&limit=abc',
      '/recent?app=app-good&limit=0',
      '/recent?app=app-good&limit=101',
      '/recent?app=app-good&limit=1.5',
      '/recent?app=app-good&limit=1e2',
      '/recent?app=app-good&limit=',
      '/recent?app=app-good&limit=99999999999999999999',
      '/recent?app=' + 'a'.repeat(49),
      '/recent?app=' + 'a'.repeat(8000),
    ];
    for (const path of badQueries) {
      const answer = await httpGet(router.httpAddress, path);
      expect({ path: path.slice(0, 60), status: answer.status, type: answer.headers['content-type'] }).toEqual({
        path: path.slice(0, 60),
        status: 400,
        type: 'application/json',
      });
      const { error } = JSON.parse(answer.body) as { error: string };
      expect(typeof error).toBe('string');
      expect(answer.body.length).toBeLessThan(400); // the offending value is quoted, not echoed whole
    }
    expect(await metricValue(router, 'loggregator_http_refused_total', { reason: 'bad_request' })).toBe(badQueries.length);

    expect(await recent(router.httpAddress, 'app=' + 'a'.repeat(48))).toEqual([]);
    expect(await recent(router.httpAddress, 'app=app-good&limit=100')).toEqual(good);
    expect(await recent(router.httpAddress, 'app=app-good&unknown=1&limit=2')).toEqual(good.slice(-2));
  });

  it('answers malformed HTTP requests on a raw socket with 400 and keeps serving', async () => {
    const router = await teardown.router();
    const client = await teardown.tail(router, 'app=app-good');
    const sender = teardown.sender(router);
    const malformed: (string | Buffer)[] = [
      'GARBAGE\r\n\r\n',
      'GET\r\n\r\n',
      'GET /recent?app=a HTTP/9.9\r\nHost: x\r\n\r\n',
      'get /health HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /recent?app=a HTTP/1.1 extra\r\nHost: x\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'a'.repeat(20_000) + '\r\n\r\n',
      'GET //%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', // a URL that cannot be parsed
      'GET /health HTTP/1.1\r\n\r\n', // HTTP/1.1 without Host
      'GET /tail?app=a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: not-a-key\r\n\r\n',
      'GET //%ZZ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      Buffer.concat([randomBytes(512), Buffer.from('\r\n\r\n')]),
      Buffer.concat([Buffer.from('GET /'), randomBytes(64), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]),
    ];
    let k = 0;
    for (const request of malformed) {
      const answer = await rawHttp(router.httpAddress, request);
      expect({ request: request.toString('latin1').slice(0, 40), status: answer.slice(0, 12) }).toEqual({
        request: request.toString('latin1').slice(0, 40),
        // Headers over Node's limit get the status that says so; every other case is a 400.
        status: request.includes('X-Big: ') ? 'HTTP/1.1 431' : 'HTTP/1.1 400',
      });
      // Between every two bad requests: the server answers, and a line goes through.
      expect((await httpGet(router.httpAddress, '/health')).status).toBe(200);
      await sender.sendEnvelopes([envelope('app-good', `app-good ${k++}`)]);
    }
    await waitFor(() => client.received.length === malformed.length, { what: 'a line after each bad request' });
    expect(client.received.map(e => lineNumber(e.message))).toEqual(malformed.map((_, n) => n));
    expect(client.isClosed).toBe(false);
  });
});
