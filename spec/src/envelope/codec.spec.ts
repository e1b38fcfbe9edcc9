// The envelope codec: one definition of a valid envelope for every edge.
//
//   decodeDatagram(bytes, { maxBytes, secret? })
//     size > maxBytes ─▶ oversized
//     secret set:  no "s1:<43 chars>\n" prefix ─▶ unsigned;  HMAC mismatch ─▶ bad_signature
//     body not UTF-8 ─▶ invalid_utf8;  not JSON ─▶ not_json;  not the schema ─▶ invalid_envelope
//     otherwise ─▶ { ok: true, envelope } with the six fields only (unknown fields ignored)
//
// Examples for each reason, then fast-check properties: decode(encode(e)) = e for any valid e
// (signed and unsigned), and no input whatever makes a decoder throw.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import schema from '../../../config/envelope.schema.json';
import {
  Decoded,
  RejectReason,
  datagramOverhead,
  decodeDatagram,
  decodeDatagramBatch,
  decodeEnvelopeJson,
  encodeDatagram,
  encodeDatagramBatch,
  encodeEnvelopeJson,
  isValidAppId,
} from '../../../src/envelope/codec';
import { Envelope, MAX_TIMESTAMP_NS, MessageType } from '../../../src/envelope/envelope';

const REASONS: RejectReason[] = ['oversized', 'invalid_utf8', 'not_json', 'invalid_envelope', 'unsigned', 'bad_signature', 'bad_syslog'];
const FIELDS = ['appId', 'sourceType', 'sourceInstance', 'messageType', 'timestamp', 'message'];
const MAX = 65_507;

const valid: Envelope = {
  appId: '5f0c3b1e-9a7d-4c1f-8f0e-2b6d1a9c7e43',
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: '1700000000123456789',
  message: 'GET /health 200 ✓',
};

/** JSON text of `valid` with some fields replaced (undefined: removed). */
function jsonWith(changes: Record<string, unknown>): string {
  const value: Record<string, unknown> = { ...valid, ...changes };
  for (const k of Object.keys(changes)) if (changes[k] === undefined) delete value[k];
  return JSON.stringify(value);
}

function expectRejected(decoded: Decoded, reason: RejectReason, detail?: RegExp): void {
  expect(decoded).toEqual({ ok: false, reason, detail: expect.any(String) });
  if (detail && !decoded.ok) expect(decoded.detail).toMatch(detail);
}

function signedBy(secret: string, body: Buffer): Buffer {
  const signature = createHmac('sha256', secret).update(body).digest('base64url');
  return Buffer.concat([Buffer.from(`s1:${signature}\n`, 'latin1'), body]);
}

describe('decodeDatagram', () => {
  describe('oversized', () => {
    it('rejects a datagram one byte over the limit, and says both sizes', () => {
      const datagram = encodeDatagram(valid);
      expectRejected(decodeDatagram(datagram, { maxBytes: datagram.length - 1 }), 'oversized', new RegExp(`${datagram.length}.*${datagram.length - 1}`));
    });

    it('accepts a datagram of exactly the limit', () => {
      const datagram = encodeDatagram(valid);
      expect(decodeDatagram(datagram, { maxBytes: datagram.length })).toEqual({ ok: true, envelope: valid });
    });

    it('rejects an oversized datagram before looking at its signature', () => {
      const datagram = encodeDatagram(valid, 'wrong secret');
      expectRejected(decodeDatagram(datagram, { maxBytes: 10, secret: 'secret' }), 'oversized');
    });
  });

  describe('invalid_utf8', () => {
    const around = (bad: number[]): Buffer =>
      Buffer.concat([Buffer.from(jsonWith({ message: 'XX' }).split('XX')[0]), Buffer.from(bad), Buffer.from('"}')]);

    it.each([
      ['an invalid continuation byte (C3 28)', [0xc3, 0x28]],
      ['an encoded UTF-16 surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
      ['an overlong encoding of "/" (C0 AF)', [0xc0, 0xaf]],
      ['a lone continuation byte (80)', [0x80]],
      ['a sequence cut short (E2 82)', [0xe2, 0x82]],
      ['a byte that never occurs in UTF-8 (FF)', [0xff]],
    ])('rejects %s', (_what, bad) => {
      expectRejected(decodeDatagram(around(bad), { maxBytes: MAX }), 'invalid_utf8');
    });

    it('rejects invalid UTF-8 in a correctly signed datagram too', () => {
      const datagram = signedBy('secret', around([0xc3, 0x28]));
      expectRejected(decodeDatagram(datagram, { maxBytes: MAX, secret: 'secret' }), 'invalid_utf8');
    });
  });

  describe('not_json', () => {
    it.each([
      ['truncated JSON', encodeEnvelopeJson(valid).slice(0, -7)],
      ['an empty datagram', ''],
      ['plain text', 'hello world'],
      ['two documents', encodeEnvelopeJson(valid) + encodeEnvelopeJson(valid)],
    ])('rejects %s', (_what, text) => {
      expectRejected(decodeDatagram(Buffer.from(text), { maxBytes: MAX }), 'not_json');
    });
  });

  describe('invalid_envelope', () => {
    it.each([
      ['timestamp as a JSON number', { timestamp: 1700000000123456789 }, /timestamp/],
      ['appId as a number', { appId: 42 }, /appId/],
      ['message as null', { message: null }, /message/],
      ['an unknown messageType', { messageType: 'DEBUG' }, /messageType/],
      ['a missing message', { message: undefined }, /message/],
      ['a missing appId', { appId: undefined }, /appId/],
      ['a missing timestamp', { timestamp: undefined }, /timestamp/],
      ['an empty appId', { appId: '' }, /appId/],
      ['an appId starting with "-"', { appId: '-app' }, /appId/],
      ['an appId of 49 characters', { appId: 'a'.repeat(49) }, /appId/],
      ['an appId with a space', { appId: 'my app' }, /appId/],
      ['an appId with a trailing newline', { appId: 'app\n' }, /appId/],
      ['an appId with non-ASCII letters', { appId: 'äpp' }, /appId/],
      ['an empty sourceInstance', { sourceInstance: '' }, /sourceInstance/],
      ['a sourceType of 33 characters', { sourceType: 'A'.repeat(33) }, /sourceType/],
      ['a negative timestamp', { timestamp: '-1' }, /timestamp/],
      ['a timestamp with a leading zero', { timestamp: '01' }, /timestamp/],
      ['a timestamp of 20 digits', { timestamp: '10000000000000000000' }, /timestamp/],
      ['a timestamp one past the largest int64', { timestamp: '9223372036854775808' }, /64-bit/],
      ['a 19-digit timestamp beyond int64', { timestamp: '9999999999999999999' }, /64-bit/],
      ['a message of 65537 characters', { message: 'x'.repeat(65_537) }, /message/],
    ])('rejects %s', (_what, changes, detail) => {
      expectRejected(decodeDatagram(Buffer.from(jsonWith(changes)), { maxBytes: 200_000 }), 'invalid_envelope', detail);
    });

    it.each([['null'], ['[]'], ['"a string"'], ['42'], ['true']])('rejects the JSON value %s', text => {
      expectRejected(decodeDatagram(Buffer.from(text), { maxBytes: MAX }), 'invalid_envelope');
    });

    it('accepts the largest int64 timestamp, zero, and a message of exactly 65536 characters', () => {
      for (const changes of [{ timestamp: MAX_TIMESTAMP_NS.toString() }, { timestamp: '0' }, { message: 'x'.repeat(65_536) }]) {
        const decoded = decodeDatagram(Buffer.from(jsonWith(changes)), { maxBytes: 200_000 });
        expect(decoded).toEqual({ ok: true, envelope: { ...valid, ...changes } });
      }
    });
  });

  describe('signatures', () => {
    const secret = 'correct horse battery staple';

    it('rejects an unsigned datagram when a secret is set', () => {
      expectRejected(decodeDatagram(encodeDatagram(valid), { maxBytes: MAX, secret }), 'unsigned');
    });

    it('rejects a datagram whose signature prefix is malformed as unsigned', () => {
      const signed = encodeDatagram(valid, secret);
      const noNewline = Buffer.from(signed);
      noNewline[46] = 0x20;
      expectRejected(decodeDatagram(noNewline, { maxBytes: MAX, secret }), 'unsigned');
      expectRejected(decodeDatagram(Buffer.concat([Buffer.from('s2'), signed.subarray(2)]), { maxBytes: MAX, secret }), 'unsigned');
    });

    it('rejects a signed datagram whose body was tampered with', () => {
      const datagram = encodeDatagram(valid, secret);
      const tampered = Buffer.from(datagram);
      tampered[datagram.indexOf('200', 47)] = 0x35; // the status in the message: 200 -> 500
      expect(decodeDatagram(tampered.subarray(47), { maxBytes: MAX }).ok).toBe(true); // still a valid body
      expectRejected(decodeDatagram(tampered, { maxBytes: MAX, secret }), 'bad_signature');
    });

    it('rejects a datagram signed with another secret', () => {
      expectRejected(decodeDatagram(encodeDatagram(valid, 'another secret'), { maxBytes: MAX, secret }), 'bad_signature');
    });

    it('rejects a datagram whose signature was altered', () => {
      const datagram = Buffer.from(encodeDatagram(valid, secret));
      datagram[10] = datagram[10] === 0x41 ? 0x42 : 0x41;
      expectRejected(decodeDatagram(datagram, { maxBytes: MAX, secret }), 'bad_signature');
    });

    it('round-trips a signed datagram: "s1:" + 43 signature characters + newline + the JSON', () => {
      const datagram = encodeDatagram(valid, secret);
      expect(datagram.subarray(0, 3).toString()).toBe('s1:');
      expect(datagram[46]).toBe(0x0a);
      expect(datagram.subarray(47).toString()).toBe(encodeEnvelopeJson(valid));
      expect(decodeDatagram(datagram, { maxBytes: MAX, secret })).toEqual({ ok: true, envelope: valid });
    });

    it('lets a receiver without a secret read a signed datagram', () => {
      expect(decodeDatagram(encodeDatagram(valid, secret), { maxBytes: MAX })).toEqual({ ok: true, envelope: valid });
    });
  });

  it('ignores unknown fields and keeps exactly the six envelope fields', () => {
    const text = jsonWith({ zone: 'z1', appId: valid.appId, extra: { nested: [1, 2] } });
    const decoded = decodeDatagram(Buffer.from(text), { maxBytes: MAX });
    expect(decoded).toEqual({ ok: true, envelope: valid });
    if (decoded.ok) expect(Object.keys(decoded.envelope).sort()).toEqual([...FIELDS].sort());
  });
});

// A batch: several envelopes' JSON in one datagram, separated by "\n" (an agent's sends).
//   good \n {bad \n good2     → [good, not_json, good2]     each envelope on its own
//   signed batch, one bit off  → [bad_signature]             the datagram as a whole
describe('decodeDatagramBatch', () => {
  const two: Envelope = { ...valid, message: 'second' };
  const opts = { maxBytes: MAX };

  it('decodes every envelope of a batch, in order; one envelope alone as decodeDatagram does', () => {
    const batch = encodeDatagramBatch([encodeEnvelopeJson(valid), encodeEnvelopeJson(two)]);
    expect(decodeDatagramBatch(batch, opts)).toEqual([
      { ok: true, envelope: valid },
      { ok: true, envelope: two },
    ]);
    expect(encodeDatagramBatch([encodeEnvelopeJson(valid)], 'k')).toEqual(encodeDatagram(valid, 'k'));
    expect(decodeDatagramBatch(encodeDatagram(valid), opts)).toEqual([{ ok: true, envelope: valid }]);
  });

  it('rejects a bad envelope on its own and delivers its neighbours', () => {
    const batch = Buffer.from([encodeEnvelopeJson(valid), '{"appId": "x"', jsonWith({ messageType: 'LOG' }), encodeEnvelopeJson(two)].join('\n'));
    const decoded = decodeDatagramBatch(batch, opts);
    expect(decoded.map(d => (d.ok ? d.envelope.message : d.reason))).toEqual([valid.message, 'not_json', 'invalid_envelope', 'second']);
  });

  it('skips blank parts (a trailing newline, CRLF line ends), and rejects a datagram of nothing but them', () => {
    const batch = Buffer.from(`${encodeEnvelopeJson(valid)}\r\n\r\n${encodeEnvelopeJson(two)}\n`);
    expect(decodeDatagramBatch(batch, opts)).toEqual([
      { ok: true, envelope: valid },
      { ok: true, envelope: two },
    ]);
    const blank = decodeDatagramBatch(Buffer.from('\n \r\n'), opts);
    expect(blank).toHaveLength(1);
    expectRejected(blank[0], 'not_json');
  });

  it('rejects a whole batch once for its size, its signature or its UTF-8', () => {
    const texts = [encodeEnvelopeJson(valid), encodeEnvelopeJson(two)];
    const signed = Buffer.from(encodeDatagramBatch(texts, 'a-secret'));
    expect(decodeDatagramBatch(signed, { maxBytes: MAX, secret: 'a-secret' })).toHaveLength(2);
    signed[signed.length - 3] ^= 0x01;
    expect(decodeDatagramBatch(signed, { maxBytes: MAX, secret: 'a-secret' }).map(d => !d.ok && d.reason)).toEqual(['bad_signature']);
    expect(decodeDatagramBatch(encodeDatagramBatch(texts), { maxBytes: MAX, secret: 'a-secret' }).map(d => !d.ok && d.reason)).toEqual(['unsigned']);
    expect(decodeDatagramBatch(encodeDatagramBatch(texts), { maxBytes: 100 }).map(d => !d.ok && d.reason)).toEqual(['oversized']);
    const broken = Buffer.concat([Buffer.from(texts[0] + '\n'), Buffer.from([0xff, 0xfe]), Buffer.from('\n' + texts[1])]);
    expect(decodeDatagramBatch(broken, opts).map(d => !d.ok && d.reason)).toEqual(['invalid_utf8']);
  });
});

describe('encodeEnvelopeJson', () => {
  it('writes the six fields in a fixed order, and nothing else', () => {
    const withExtra = { ...valid, extra: 'x' } as Envelope;
    expect(Object.keys(JSON.parse(encodeEnvelopeJson(withExtra)))).toEqual(FIELDS);
  });
});

describe('datagramOverhead', () => {
  it('is what a datagram adds around an ASCII message, signed or not', () => {
    for (const secret of [undefined, 's3cret']) {
      expect(datagramOverhead(valid, secret) + 'plain words'.length).toBe(
        encodeDatagram({ ...valid, message: 'plain words' }, secret).length,
      );
    }
  });
});

// ---- properties ---------------------------------------------------------------------------

const props = schema.properties;
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c));
const envelopeArb: fc.Arbitrary<Envelope> = fc.record({
  appId: fc.stringMatching(new RegExp(props.appId.pattern)),
  sourceType: fc.stringMatching(new RegExp(props.sourceType.pattern)),
  sourceInstance: fc.stringMatching(new RegExp(props.sourceInstance.pattern)),
  messageType: fc.constantFrom(...(props.messageType.enum as MessageType[])),
  timestamp: fc
    .oneof(fc.constantFrom(0n, MAX_TIMESTAMP_NS, 1_000_000_000_000_000_000n), fc.bigInt({ min: 0n, max: MAX_TIMESTAMP_NS }))
    .map(String),
  message: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    fc.string({ unit: utf16Unit, maxLength: 100 }), // lone surrogates too
  ),
});

/** A decoder answer is either a reason from the list with a detail, or a valid six-field envelope. */
function expectWellFormed(decoded: Decoded): void {
  if (!decoded.ok) {
    expect(REASONS).toContain(decoded.reason);
    expect(typeof decoded.detail).toBe('string');
    expect(decoded.detail.length).toBeGreaterThan(0);
    return;
  }
  const e = decoded.envelope;
  expect(Object.keys(e)).toEqual(FIELDS);
  expect(e.appId).toMatch(new RegExp(props.appId.pattern));
  expect(e.sourceType).toMatch(new RegExp(props.sourceType.pattern));
  expect(e.sourceInstance).toMatch(new RegExp(props.sourceInstance.pattern));
  expect(['OUT', 'ERR']).toContain(e.messageType);
  expect(e.timestamp).toMatch(new RegExp(props.timestamp.pattern));
  expect(BigInt(e.timestamp) <= MAX_TIMESTAMP_NS).toBe(true);
  expect(typeof e.message).toBe('string');
}

describe('codec properties (fast-check)', () => {
  it('decodeEnvelopeJson(encodeEnvelopeJson(e)) deep-equals e', () => {
    fc.assert(
      fc.property(envelopeArb, e => {
        expect(decodeEnvelopeJson(encodeEnvelopeJson(e))).toEqual({ ok: true, envelope: e });
      }),
      { numRuns: 300 },
    );
  });

  it('decodeDatagram(encodeDatagram(e)) deep-equals e, unsigned', () => {
    fc.assert(
      fc.property(envelopeArb, e => {
        expect(decodeDatagram(encodeDatagram(e), { maxBytes: MAX })).toEqual({ ok: true, envelope: e });
      }),
      { numRuns: 300 },
    );
  });

  it('decodeDatagram(encodeDatagram(e, secret)) deep-equals e, signed', () => {
    fc.assert(
      fc.property(envelopeArb, fc.string({ unit: 'binary', maxLength: 40 }), (e, secret) => {
        expect(decodeDatagram(encodeDatagram(e, secret), { maxBytes: MAX, secret })).toEqual({ ok: true, envelope: e });
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a signed datagram under any other secret', () => {
    fc.assert(
      fc.property(envelopeArb, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (e, a, b) => {
        fc.pre(a !== b);
        expectRejected(decodeDatagram(encodeDatagram(e, a), { maxBytes: MAX, secret: b }), 'bad_signature');
      }),
      { numRuns: 100 },
    );
  });

  it('decodeDatagramBatch(encodeDatagramBatch(es)) deep-equals es, signed or not', () => {
    fc.assert(
      fc.property(fc.array(envelopeArb, { minLength: 1, maxLength: 8 }), fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }), (es, secret) => {
        const batch = encodeDatagramBatch(es.map(encodeEnvelopeJson), secret);
        expect(decodeDatagramBatch(batch, { maxBytes: MAX * 8, secret })).toEqual(es.map(envelope => ({ ok: true, envelope })));
      }),
      { numRuns: 300 },
    );
  });

  it('decodeDatagramBatch never throws on arbitrary bytes, and every result is well formed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), (bytes, secret) => {
        const decoded = decodeDatagramBatch(Buffer.from(bytes), { maxBytes: 300, secret });
        expect(decoded.length).toBeGreaterThanOrEqual(1);
        decoded.forEach(expectWellFormed);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeDatagram never throws on arbitrary bytes, with or without a secret', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.option(fc.string({ maxLength: 10 }), { nil: undefined }), (bytes, secret) => {
        expectWellFormed(decodeDatagram(Buffer.from(bytes), { maxBytes: 300, secret }));
      }),
      { numRuns: 1000 },
    );
  });

  it('decodeDatagram never throws on bytes behind a signature-shaped prefix', () => {
    const prefix = fc
      .string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/!'.split('')), minLength: 43, maxLength: 43 })
      .map(sig => Buffer.from(`s1:${sig}\n`, 'latin1'));
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 200 }), fc.option(fc.constant('k'), { nil: undefined }), (head, body, secret) => {
        expectWellFormed(decodeDatagram(Buffer.concat([head, Buffer.from(body)]), { maxBytes: MAX, secret }));
      }),
      { numRuns: 500 },
    );
  });

  it('decodeDatagram gives a reason or a valid envelope for a valid datagram with bytes changed or cut', () => {
    const mutated = fc
      .tuple(envelopeArb, fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([e, signed, edits, cut]) => {
        const datagram = Buffer.from(encodeDatagram(e, signed ? 'k' : undefined));
        for (const [at, byte] of edits) if (datagram.length > 0) datagram[at % datagram.length] = byte;
        return { datagram: datagram.subarray(0, datagram.length - (cut % 4)), signed };
      });
    fc.assert(
      fc.property(mutated, ({ datagram, signed }) => {
        expectWellFormed(decodeDatagram(datagram, { maxBytes: MAX, secret: signed ? 'k' : undefined }));
      }),
      { numRuns: 500 },
    );
  });

  it('decodeEnvelopeJson never throws on arbitrary strings or JSON values', () => {
    const envelopeish = fc.dictionary(fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'extra'), fc.anything());
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: utf16Unit }),
      fc.json(),
      envelopeish.map(v => JSON.stringify(v)),
      fc.tuple(envelopeArb, fc.nat()).map(([e, cut]) => encodeEnvelopeJson(e).slice(0, -(cut % 30) - 1)),
    );
    fc.assert(
      fc.property(text, t => {
        expectWellFormed(decodeEnvelopeJson(t));
      }),
      { numRuns: 1000 },
    );
  });

  it('isValidAppId agrees with the decoder on what an appId may be', () => {
    const appId = fc.oneof(fc.stringMatching(new RegExp(props.appId.pattern)), fc.string({ maxLength: 60 }));
    fc.assert(
      fc.property(appId, id => {
        expect(isValidAppId(id)).toBe(decodeEnvelopeJson(jsonWith({ appId: id })).ok);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeEnvelopeJson with keepText', () => {
  it('keeps the text of an envelope in its shortest form (six fields in order, no whitespace, escape or repeated key), and only then', () => {
    const plain: Envelope = { ...valid, message: 'GET /health 200 ✓' };
    const canonical = encodeEnvelopeJson(plain);
    expect(decodeEnvelopeJson(canonical, true)).toEqual({ ok: true, envelope: plain, json: canonical });
    const { message, ...rest } = plain;
    const others = [
      canonical.replace('✓', '\\u2713'), // an escape: the same value, a longer text
      JSON.stringify({ message, ...rest }), // another order
      JSON.stringify({ ...plain, extra: 'x' }), // an unknown field
      ` ${canonical}\r`, // whitespace
      canonical.replace(/}$/, `,"message":${JSON.stringify(plain.message)}}`), // a repeated key
      canonical.replace('"message":"', '"message" :"'),
    ];
    for (const text of others) expect(decodeEnvelopeJson(text, true)).toEqual({ ok: true, envelope: plain });
    expect(decodeEnvelopeJson(canonical)).toEqual({ ok: true, envelope: plain });
  });

  it('never keeps a text longer than the canonical encoding, and keeps every canonical one without escapes (fast-check)', () => {
    fc.assert(
      fc.property(envelopeArb, e => {
        const text = encodeEnvelopeJson(e);
        const decoded = decodeEnvelopeJson(text, true);
        expect(decoded).toMatchObject({ ok: true, envelope: e });
        const kept = (decoded as { json?: string }).json;
        const escapes = text.length !== text.replace(/\\/g, '').length;
        expect(kept).toBe(escapes ? undefined : text);
      }),
      { numRuns: 300 },
    );
  });
});
