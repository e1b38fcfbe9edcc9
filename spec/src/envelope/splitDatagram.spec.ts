// splitDatagram: what a multi-worker router's reader does to a datagram before handing its
// envelopes to the workers that own their apps, undecoded. Its promise: a worker decoding the
// parts (decodeEnvelopeLines of their texts joined by "\n") gets exactly what a single router
// gets from the whole datagram (decodeDatagramBatch), and each part names the app its envelope has.
//
//   datagram ─▶ size, signature, UTF-8 (one rejection for the whole) ─▶ syslog: decoded here
//            └▶ JSON texts split at "\n" ─▶ [{ appId (read without parsing when canonical), text }]
import fc from 'fast-check';
import schema from '../../../config/envelope.schema.json';
import {
  Decoded,
  DatagramPart,
  decodeDatagramBatch,
  decodeEnvelopeLines,
  encodeDatagram,
  encodeDatagramBatch,
  encodeEnvelopeJson,
  splitDatagram,
} from '../../../src/envelope/codec';
import { Envelope, MessageType } from '../../../src/envelope/envelope';

const MAX = 65_507;
const props = schema.properties;
const base: Envelope = { appId: 'app-1', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: '1700000000000000000', message: 'hello' };

function parts(datagram: Buffer, secret?: string): DatagramPart[] {
  const split = splitDatagram(datagram, { maxBytes: MAX, secret, nowNs: () => '1700000000000000000' });
  if (!Array.isArray(split)) throw new Error(`rejected: ${JSON.stringify(split)}`);
  return split;
}

/** What the worker makes of the parts, as it receives them. */
function workerDecodes(split: DatagramPart[]): Decoded[] {
  return decodeEnvelopeLines(split.map(p => p.text.toString('utf8')).join('\n'));
}

describe('splitDatagram', () => {
  it('reads the app id of a canonical envelope without parsing it, and passes its bytes as they are', () => {
    const datagram = encodeDatagram(base);
    const [part, ...rest] = parts(datagram);
    expect(rest).toEqual([]);
    expect(part.appId).toBe('app-1');
    expect(part.text.equals(datagram)).toBe(true);
  });

  it('reads the app id of an envelope in another field order by parsing it', () => {
    const text = JSON.stringify({ message: 'm', appId: 'other-app', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: '1' });
    expect(parts(Buffer.from(text)).map(p => p.appId)).toEqual(['other-app']);
  });

  it('reads an app id with an escape in it as JSON does (the worker then rejects it)', () => {
    const text = '{"appId":"a\\"b","sourceType":"APP"}';
    expect(parts(Buffer.from(text)).map(p => p.appId)).toEqual(['a"b']);
    expect(workerDecodes(parts(Buffer.from(text)))).toMatchObject([{ ok: false, reason: 'invalid_envelope' }]);
  });

  it('names no app for a part that is not JSON or has no string app id; the worker counts it', () => {
    const split = parts(Buffer.from('not json\n{"appId":5}\n' + encodeEnvelopeJson(base)));
    expect(split.map(p => p.appId)).toEqual([undefined, undefined, 'app-1']);
    expect(workerDecodes(split).map(d => (d.ok ? 'ok' : d.reason))).toEqual(['not_json', 'invalid_envelope', 'ok']);
  });

  it('splits a batch into one part per envelope, in order, skipping blank parts', () => {
    const a = { ...base, appId: 'app-a' };
    const b = { ...base, appId: 'app-b' };
    const datagram = Buffer.from([encodeEnvelopeJson(a), '', encodeEnvelopeJson(b) + '\r', ''].join('\n'));
    expect(parts(datagram).map(p => p.appId)).toEqual(['app-a', 'app-b']);
  });

  it('rejects for the whole datagram what a single router rejects for the whole of it', () => {
    const opts = { maxBytes: 100, secret: 'sixteen-chars-secret' };
    expect(splitDatagram(Buffer.alloc(101, 0x7b), opts)).toMatchObject({ ok: false, reason: 'oversized' });
    expect(splitDatagram(encodeDatagram(base), { ...opts, maxBytes: MAX })).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(splitDatagram(encodeDatagram(base, 'another-secret-16ch'), { ...opts, maxBytes: MAX })).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(splitDatagram(Buffer.from([0x7b, 0xff, 0x7d]), { maxBytes: MAX })).toMatchObject({ ok: false, reason: 'invalid_utf8' });
    expect(splitDatagram(Buffer.from(' \r\n'), { maxBytes: MAX })).toMatchObject({ ok: false, reason: 'not_json' });
    expect(splitDatagram(Buffer.alloc(0), { maxBytes: MAX })).toMatchObject({ ok: false, reason: 'not_json' });
  });

  it('verifies a signed batch once and passes on its envelopes without the signature', () => {
    const secret = 'sixteen-chars-secret';
    const datagram = encodeDatagramBatch([encodeEnvelopeJson(base), encodeEnvelopeJson({ ...base, appId: 'app-2' })], secret);
    const split = parts(datagram, secret);
    expect(split.map(p => p.appId)).toEqual(['app-1', 'app-2']);
    expect(workerDecodes(split)).toEqual([{ ok: true, envelope: base }, { ok: true, envelope: { ...base, appId: 'app-2' } }]);
  });

  it('decodes a syslog message itself (its receive time is the reader\'s) and passes a canonical envelope', () => {
    const split = parts(Buffer.from('<14>1 2026-12-04T10:00:00.000001Z host my-app [APP/0] - - hi there'));
    expect(split.map(p => p.appId)).toEqual(['my-app']);
    expect(workerDecodes(split)).toMatchObject([{ ok: true, envelope: { appId: 'my-app', message: 'hi there' } }]);
    expect(splitDatagram(Buffer.from('<14>garbage'), { maxBytes: MAX })).toMatchObject({ ok: false, reason: 'bad_syslog' });
  });
});

const envelopeArb: fc.Arbitrary<Envelope> = fc.record({
  appId: fc.stringMatching(new RegExp(props.appId.pattern)),
  sourceType: fc.stringMatching(new RegExp(props.sourceType.pattern)),
  sourceInstance: fc.stringMatching(new RegExp(props.sourceInstance.pattern)),
  messageType: fc.constantFrom(...(props.messageType.enum as MessageType[])),
  timestamp: fc.bigInt({ min: 0n, max: 9223372036854775807n }).map(String),
  message: fc.string({ unit: 'grapheme', maxLength: 80 }),
});

describe('splitDatagram properties (fast-check)', () => {
  it('the worker decodes the parts to exactly what decodeDatagramBatch makes of the datagram, and each part names its envelope\'s app', () => {
    // Valid batches, mangled ones (bytes changed), and arbitrary bytes.
    const datagram = fc.oneof(
      fc.array(envelopeArb, { minLength: 1, maxLength: 6 }).map(es => encodeDatagramBatch(es.map(encodeEnvelopeJson))),
      fc
        .tuple(fc.array(envelopeArb, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }))
        .map(([es, edits]) => {
          const b = Buffer.from(encodeDatagramBatch(es.map(encodeEnvelopeJson)));
          for (const [at, byte] of edits) b[at % b.length] = byte;
          return b;
        }),
      fc.uint8Array({ maxLength: 300 }).map(a => Buffer.from(a)),
    );
    fc.assert(
      fc.property(datagram, d => {
        const opts = { maxBytes: MAX, nowNs: () => '1700000000000000000' };
        const whole = decodeDatagramBatch(d, opts);
        const split = splitDatagram(d, opts);
        if (!Array.isArray(split)) {
          expect([split]).toEqual(whole);
          return;
        }
        const decoded = workerDecodes(split);
        expect(decoded).toEqual(whole);
        // A part's app is its envelope's, for every envelope that decodes.
        split.forEach((part, i) => {
          if (decoded[i]?.ok) expect(part.appId).toBe((decoded[i] as { envelope: Envelope }).envelope.appId);
        });
      }),
      { numRuns: 1000 },
    );
  });
});
