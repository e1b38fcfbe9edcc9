import fc from 'fast-check';
import { decodeDatagram, encodeDatagram } from '../../../src/envelope/codec';
import { Envelope } from '../../../src/envelope/envelope';
import { splitMessage } from '../../../src/envelope/splitMessage';

const base: Envelope = {
  appId: 'app-1',
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: '1700000000000000000',
  message: '',
};

describe('splitMessage', () => {
  it('leaves a message that fits alone', () => {
    const e = { ...base, message: 'short' };
    expect(splitMessage(e, 1024)).toEqual([e]);
  });

  it('splits a long message into datagrams that fit, losing nothing', () => {
    const e = { ...base, message: 'x'.repeat(5000) };
    const parts = splitMessage(e, 1024);
    expect(parts.length).toBeGreaterThan(4);
    expect(parts.map(p => p.message).join('')).toBe(e.message);
    for (const p of parts) expect(encodeDatagram(p).length).toBeLessThanOrEqual(1024);
  });

  it('fits any text, escapes and astral characters included, signed or not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3000 }), fc.boolean(), fc.integer({ min: 600, max: 2000 }), (message, signed, max) => {
        const secret = signed ? 'a-shared-secret-16' : undefined;
        const parts = splitMessage({ ...base, message }, max, secret);
        expect(parts.map(p => p.message).join('')).toBe(message);
        for (const p of parts) {
          const datagram = encodeDatagram(p, secret);
          expect(datagram.length).toBeLessThanOrEqual(max);
          expect(decodeDatagram(datagram, { maxBytes: max, secret })).toEqual({ ok: true, envelope: p });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never cuts a surrogate pair', () => {
    const parts = splitMessage({ ...base, message: '😀'.repeat(400) }, 700);
    for (const p of parts) expect(p.message).toMatch(/^(\u{1F600})+$/u);
  });
});
