// Envelopes as RFC 5424 messages for drains, and their RFC 6587 octet-counted frames:
//
//   { appId: 'my-app', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT',
//     timestamp: '1795624927574444999', message: 'hello' }, hostname 'router-0'
//   → <14>1 2026-11-25T16:42:07.574444Z router-0 my-app [APP/0] - - hello
//   → "63 <14>1 2026-11-25T16:42:07.574444Z …"
//
// Exact strings first; then fast-check: our own decoder reads back every field that survives,
// and no input at all breaks the header; then a real syslog-ng (TCP and TLS) parses every
// frame of a set of nasty envelopes into exactly the fields we meant.
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect, Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import schema from '../../../config/envelope.schema.json';
import { Envelope, MAX_TIMESTAMP_NS } from '../../../src/envelope/envelope';
import { encodeSyslogMessage, octetCounted, syslogTimestamp } from '../../../src/envelope/rfc5424';
import { decodeSyslog } from '../../../src/envelope/syslogCodec';
import { ReceivedFrame, startSyslogReceiver, SyslogReceiver } from '../../support/syslogReceiver';
import { Teardown } from '../../support/teardown';

const HOST = 'router-0';

const envelope = (fields: Partial<Envelope> = {}): Envelope => ({
  appId: 'my-app',
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: '1795624927574444999',
  message: 'hello',
  ...fields,
});

/** The header fields of an encoded message: everything before MSG, split at its seven spaces. */
function header(encoded: string): { pri: string; timestamp: string; host: string; app: string; procId: string; rest: string } {
  const [priVersion, timestamp, host, app, procId, msgId, sd] = encoded.split(' ', 7);
  expect([msgId, sd]).toEqual(['-', '-']);
  expect(priVersion).toMatch(/^<(11|14)>1$/);
  const prefix = [priVersion, timestamp, host, app, procId, msgId, sd].join(' ') + ' ';
  expect(encoded.startsWith(prefix)).toBe(true);
  return { pri: priVersion, timestamp, host, app, procId, rest: encoded.slice(prefix.length) };
}

describe('encodeSyslogMessage', () => {
  it('writes an OUT line with PRI 14 (user.info), PROCID [TYPE/INSTANCE], no MSGID, no STRUCTURED-DATA', () => {
    expect(encodeSyslogMessage(envelope(), HOST)).toBe('<14>1 2026-11-25T16:42:07.574444Z router-0 my-app [APP/0] - - hello');
  });

  it('writes an ERR line with PRI 11 (user.err)', () => {
    const e = envelope({ messageType: 'ERR', sourceType: 'RTR', sourceInstance: '1', message: 'upstream timed out' });
    expect(encodeSyslogMessage(e, HOST)).toBe('<11>1 2026-11-25T16:42:07.574444Z router-0 my-app [RTR/1] - - upstream timed out');
  });

  it('keeps a PROCID as Cloud Foundry wrote it, slashes included', () => {
    const e = envelope({ sourceType: 'APP/PROC/WEB', sourceInstance: '3' });
    expect(header(encodeSyslogMessage(e, HOST)).procId).toBe('[APP/PROC/WEB/3]');
  });

  it('writes the message as is: spaces, tabs, newlines, quotes, brackets, unicode, NUL and DEL', () => {
    const message = ' two  spaces\ttab\nnewline "q" [x] \\ é € 😀 \u0000\u007f ';
    expect(header(encodeSyslogMessage(envelope({ message }), HOST)).rest).toBe(message);
  });

  it('writes an empty message after the space that ends STRUCTURED-DATA', () => {
    expect(encodeSyslogMessage(envelope({ message: '' }), HOST)).toBe('<14>1 2026-11-25T16:42:07.574444Z router-0 my-app [APP/0] - - ');
  });

  it('writes no BOM, except before a message that starts with U+FEFF (a receiver strips one)', () => {
    expect(header(encodeSyslogMessage(envelope({ message: 'plain' }), HOST)).rest).toBe('plain');
    expect(header(encodeSyslogMessage(envelope({ message: '\ufeffbom' }), HOST)).rest).toBe('\ufeff\ufeffbom');
  });

  describe('header fields: PRINTUSASCII (33..126), "-" when empty, cut to the RFC 5424 limits', () => {
    it.each([
      ['a space', 'my app', 'my_app'],
      ['a tab and a newline', 'a\tb\nc', 'a_b_c'],
      ['NUL, DEL and C1 controls', '\u0000a\u007fb\u0085', '_a_b_'],
      ['non-ASCII letters', 'café-ü', 'caf_-_'],
      ['a surrogate pair, as one character', 'x😀y', 'x_y'],
      ['a lone surrogate', 'x\ud800y', 'x_y'],
      ['empty', '', '-'],
    ])('APP-NAME with %s', (_what, appId, expected) => {
      expect(header(encodeSyslogMessage(envelope({ appId }), HOST)).app).toBe(expected);
    });

    it('HOSTNAME likewise', () => {
      expect(header(encodeSyslogMessage(envelope(), 'my host\u00e9')).host).toBe('my_host_');
      expect(header(encodeSyslogMessage(envelope(), '')).host).toBe('-');
      // The hostname is cached between calls: a new one is not served the old answer.
      expect(header(encodeSyslogMessage(envelope(), 'other')).host).toBe('other');
    });

    it('PROCID parts likewise, each "-" when empty', () => {
      const e = envelope({ sourceType: 'A P', sourceInstance: '\u0001x\u00ff' });
      expect(header(encodeSyslogMessage(e, HOST)).procId).toBe('[A_P/_x_]');
      expect(header(encodeSyslogMessage(envelope({ sourceType: '', sourceInstance: '' }), HOST)).procId).toBe('[-/-]');
    });

    it('cuts APP-NAME to 48, HOSTNAME to 255, PROCID to 128 with its brackets', () => {
      const e = envelope({ appId: 'a'.repeat(49), sourceType: 'T'.repeat(100), sourceInstance: 'i'.repeat(100) });
      const h = header(encodeSyslogMessage(e, 'h'.repeat(300)));
      expect(h.app).toBe('a'.repeat(48));
      expect(h.host).toBe('h'.repeat(255));
      expect(h.procId).toBe('[' + 'T'.repeat(100) + '/' + 'i'.repeat(25) + ']');
      expect(h.procId).toHaveLength(128);
    });

    it('keeps fields of exactly the limit whole, and cuts replaced characters too', () => {
      const e = envelope({ appId: 'a'.repeat(48) });
      expect(header(encodeSyslogMessage(e, 'h'.repeat(255))).app).toBe('a'.repeat(48));
      expect(header(encodeSyslogMessage(e, 'h'.repeat(255))).host).toBe('h'.repeat(255));
      expect(header(encodeSyslogMessage(envelope({ appId: 'é'.repeat(60) }), HOST)).app).toBe('_'.repeat(48));
    });
  });
});

describe('syslogTimestamp', () => {
  it.each([
    ['truncates ns to µs, never rounding up', '1795624927574444999', '2026-11-25T16:42:07.574444Z'],
    ['writes 6 fraction digits when they are zeros', '1795624927000000000', '2026-11-25T16:42:07.000000Z'],
    ['the epoch', '0', '1970-01-01T00:00:00.000000Z'],
    ['under a microsecond', '999', '1970-01-01T00:00:00.000000Z'],
    ['one microsecond', '1000', '1970-01-01T00:00:00.000001Z'],
    ['under a second', '123456789', '1970-01-01T00:00:00.123456Z'],
    ['the last µs of a day', '951782399999999999', '2000-02-28T23:59:59.999999Z'],
    ['the largest 64-bit ns clock', MAX_TIMESTAMP_NS.toString(), '2262-04-11T23:47:16.854775Z'],
    ['leading zeros', '0001000000', '1970-01-01T00:00:00.001000Z'],
  ])('%s: %s → %s', (_what, ns, expected) => {
    expect(syslogTimestamp(ns)).toBe(expected);
  });

  it('serves each second from its cache without mixing seconds up', () => {
    const seconds = ['1795624927', '1795624927', '1795624928', '1795624927', '1764000000'];
    expect(seconds.map((s, i) => syslogTimestamp(`${s}00000${i}000`))).toEqual([
      '2026-11-25T16:42:07.000000Z',
      '2026-11-25T16:42:07.000001Z',
      '2026-11-25T16:42:08.000002Z',
      '2026-11-25T16:42:07.000003Z',
      '2025-11-24T16:00:00.000004Z',
    ]);
  });

  it.each([
    ['before the epoch, towards the past', '-1', '1969-12-31T23:59:59.999999Z'],
    ['before year 0000: clamped', '-99999999999999999999999999', '0000-01-01T00:00:00.000000Z'],
    ['after year 9999: clamped', '999999999999999999999999', '9999-12-31T23:59:59.999999Z'],
    ['20 digits, still in range', '10000000000000000000', '2286-11-20T17:46:40.000000Z'],
  ])('handles an integer outside a 64-bit ns clock, %s', (_what, ns, expected) => {
    expect(syslogTimestamp(ns)).toBe(expected);
  });

  it.each(['', 'abc', '1.5', '+1', ' 1', '1e9', '0x10'])('writes the NILVALUE for %j, which is not an integer', ns => {
    expect(syslogTimestamp(ns)).toBe('-');
    expect(header(encodeSyslogMessage(envelope({ timestamp: ns }), HOST)).timestamp).toBe('-');
  });
});

describe('octetCounted', () => {
  const frame = (message: string) => octetCounted(message);

  it('prefixes the byte length and a space', () => {
    expect(frame('hello').toString('latin1')).toBe('5 hello');
    expect(frame('')).toEqual(Buffer.from('0 '));
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(frame('é')).toEqual(Buffer.from([0x32, 0x20, 0xc3, 0xa9]));
    expect(frame('€')).toEqual(Buffer.concat([Buffer.from('3 '), Buffer.from('€')]));
    expect(frame('😀x')).toEqual(Buffer.concat([Buffer.from('5 '), Buffer.from('😀x')]));
  });

  it('counts a lone surrogate as the 3 bytes of U+FFFD it is written as', () => {
    expect(frame('a\ud800b')).toEqual(Buffer.concat([Buffer.from('5 a'), Buffer.from([0xef, 0xbf, 0xbd]), Buffer.from('b')]));
  });

  it('frames a long multibyte message whole', () => {
    const message = 'a€😀'.repeat(20_000); // 60,000 characters, 160,000 bytes
    const bytes = frame(message);
    expect(bytes.subarray(0, 7).toString('latin1')).toBe('160000 ');
    expect(bytes.length).toBe(7 + 160_000);
    expect(bytes.subarray(7).toString('utf8')).toBe(message);
  });
});

// ---- properties ---------------------------------------------------------------------------

const props = schema.properties;
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c));
const anyText = (maxLength: number) =>
  fc.oneof(fc.string({ unit: 'binary', maxLength }), fc.string({ unit: utf16Unit, maxLength }), fc.string({ unit: 'grapheme-ascii', maxLength }));

/**
 * A valid envelope whose sourceInstance has no "/": "[APP/a/b]" is read back as APP/a and b
 * (split at the last "/"), the one field that cannot survive the trip for every valid value.
 */
const validEnvelope: fc.Arbitrary<Envelope> = fc.record({
  appId: fc.stringMatching(new RegExp(props.appId.pattern)),
  sourceType: fc.stringMatching(new RegExp(props.sourceType.pattern)),
  sourceInstance: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/),
  messageType: fc.constantFrom('OUT' as const, 'ERR' as const),
  timestamp: fc.oneof(fc.constantFrom(0n, 999n, 1000n, MAX_TIMESTAMP_NS), fc.bigInt({ min: 0n, max: MAX_TIMESTAMP_NS })).map(String),
  message: fc.oneof(anyText(300), fc.constantFrom('', '\ufeff', '\ufeff\ufeffx', 'a\r\n', '\n', ' x ')),
});

/** What crosses the wire: UTF-8 bytes (a lone surrogate becomes U+FFFD). */
const overTheWire = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

describe('properties (fast-check)', () => {
  it('our decoder reads back every field: the timestamp to the µs, the message but its trailing CR/LF/NUL', () => {
    fc.assert(
      fc.property(validEnvelope, anyText(300), (e, hostname) => {
        const decoded = decodeSyslog(overTheWire(encodeSyslogMessage(e, hostname)), '1');
        expect(decoded).toEqual({
          ok: true,
          envelope: {
            ...e,
            timestamp: ((BigInt(e.timestamp) / 1000n) * 1000n).toString(),
            message: overTheWire(e.message).replace(/[\r\n\u0000]+$/, ''),
          },
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('no envelope and hostname whatever break the header: seven fields of PRINTUSASCII within their limits', () => {
    const anyEnvelope = fc.record({
      appId: anyText(60),
      sourceType: anyText(80),
      sourceInstance: anyText(80),
      messageType: fc.constantFrom('OUT' as const, 'ERR' as const),
      timestamp: fc.oneof(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String), anyText(25)),
      message: anyText(50),
    });
    fc.assert(
      fc.property(anyEnvelope, anyText(300), (e, hostname) => {
        const encoded = encodeSyslogMessage(e, hostname);
        const h = header(encoded);
        expect(h.rest).toBe(e.message.charCodeAt(0) === 0xfeff ? '\ufeff' + e.message : e.message);
        expect(h.timestamp).toMatch(/^(-|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)$/);
        for (const [field, max] of [[h.host, 255], [h.app, 48], [h.procId, 128]] as const) {
          expect(field).toMatch(/^[\x21-\x7e]+$/);
          expect(field.length).toBeLessThanOrEqual(max);
        }
        expect(h.procId).toMatch(/^\[.+\/.+\]$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('the octet count is the byte length of what follows the space', () => {
    fc.assert(
      fc.property(anyText(500), message => {
        const bytes = octetCounted(message);
        const space = bytes.indexOf(0x20);
        expect(Number(bytes.subarray(0, space).toString('latin1'))).toBe(bytes.length - space - 1);
        expect(bytes.subarray(space + 1).toString('utf8')).toBe(overTheWire(message));
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- a real receiver: syslog-ng ------------------------------------------------------------

/** Envelopes a receiver could choke on, if the encoder or the framing were wrong. */
const NASTY: readonly Envelope[] = [
  envelope({ message: 'plain line' }),
  envelope({ messageType: 'ERR', sourceType: 'RTR', sourceInstance: '1', message: 'stderr line' }),
  envelope({ message: 'two  spaces, a\ttab, and a\nnewline\r\ninside' }),
  envelope({ message: '  leading and trailing spaces  ' }),
  envelope({ message: '' }),
  envelope({ message: 'unicode: é € 😀 中文 \u200b' }),
  envelope({ message: '\ufeffstarts with a BOM of its own' }),
  envelope({ message: 'controls \u0000 NUL \u0001 SOH \u001b[31m DEL \u007f' }),
  envelope({ message: '12 <14>1 2026-01-01T00:00:00Z looks like a frame - - [sd x="y"]' }),
  envelope({ message: 'a€😀'.repeat(21_845) + 'x' }), // 65,536 characters, 174,761 bytes
  envelope({ sourceInstance: 'in\tstance\n\u0007', message: 'control characters in sourceInstance' }),
  envelope({ appId: 'é app', sourceType: 'A P P', message: 'non-ASCII and spaces in appId and sourceType' }),
  envelope({ appId: 'a'.repeat(48), sourceType: 'T'.repeat(32), sourceInstance: 'i'.repeat(64), message: 'the longest valid fields' }),
  envelope({ appId: 'b'.repeat(60), sourceType: 'T'.repeat(100), sourceInstance: 'j'.repeat(100), message: 'fields beyond the limits' }),
  envelope({ timestamp: '0', message: 'the epoch' }),
  envelope({ timestamp: MAX_TIMESTAMP_NS.toString(), message: 'the end of a 64-bit ns clock' }),
];
const LONG_HOST = 'h'.repeat(250) + '.host';

/** What syslog-ng should report for an envelope: our header fields, its ISO timestamp form. */
function expectedFrame(e: Envelope, hostname: string): Omit<ReceivedFrame, 'raw'> {
  const encoded = encodeSyslogMessage(e, hostname);
  const h = header(encoded);
  return {
    pri: e.messageType === 'ERR' ? 11 : 14,
    timestamp: h.timestamp.replace(/Z$/, '+00:00'),
    host: h.host,
    appName: h.app,
    procId: h.procId,
    msgId: '',
    sdata: '',
    message: e.message,
  };
}

async function sendFrames(socket: Socket | TLSSocket, envelopes: readonly Envelope[], hostname: string): Promise<void> {
  for (const e of envelopes) socket.write(octetCounted(encodeSyslogMessage(e, hostname)));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.end(resolve);
  });
}

async function expectParsedExactly(receiver: SyslogReceiver, envelopes: readonly Envelope[], hostname: string): Promise<void> {
  const frames = await receiver.waitForMessages(envelopes.length);
  expect(await receiver.errors()).toEqual([]);
  expect(frames.map(({ raw: _raw, ...fields }) => fields)).toEqual(envelopes.map(e => expectedFrame(e, hostname)));
  // The raw frame is the encoded message byte for byte (syslog-ng keeps no trailing newline; these have none).
  expect(frames.map(f => f.raw)).toEqual(envelopes.map(e => encodeSyslogMessage(e, hostname)));
}

describe('syslog-ng parses every frame into the fields we meant', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('over TCP with octet counting, one connection, in order', async () => {
    const receiver = teardown.add(await startSyslogReceiver(), r => r.stop());
    const socket = tcpConnect(receiver.port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    await sendFrames(socket, NASTY, LONG_HOST);
    await expectParsedExactly(receiver, NASTY, LONG_HOST);
  });

  it('over TLS (RFC 5425), verifying the receiver as "localhost" against its certificate', async () => {
    const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
    const ca = await readFile(receiver.caFile!);
    const socket = tlsConnect({ host: '127.0.0.1', port: receiver.port, ca, servername: 'localhost' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    expect(socket.authorized).toBe(true);
    const some = NASTY.filter((_e, i) => i % 3 === 0 || NASTY[i].message.length > 1000);
    await sendFrames(socket, some, HOST);
    await expectParsedExactly(receiver, some, HOST);
  });

  it('over TLS, a client that does not trust the certificate is refused the handshake', async () => {
    const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
    const socket = tlsConnect({ host: '127.0.0.1', port: receiver.port, servername: 'localhost' });
    const failure = await new Promise<Error>((resolve, reject) => socket.once('error', resolve).once('secureConnect', () => reject(new Error('handshake succeeded'))));
    socket.destroy();
    expect((failure as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('reports a frame that is not RFC 5424 in errors(), so a broken encoder would show', async () => {
    const receiver = teardown.add(await startSyslogReceiver(), r => r.stop());
    const socket = tcpConnect(receiver.port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const bad = '<14>1 not-a-timestamp host app [APP/0] - - x';
    socket.write(`${bad.length} ${bad}`);
    socket.write(octetCounted(encodeSyslogMessage(envelope(), HOST)));
    await new Promise<void>(resolve => socket.end(resolve));
    const frames = await receiver.waitForMessages(1);
    expect(frames.map(f => f.message)).toEqual(['hello']);
    expect(await receiver.errors()).toEqual([expect.stringContaining('Error processing log message: <14>1')]);
  });
});
