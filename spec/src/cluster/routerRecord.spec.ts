// A router's record in etcd: `<prefix><routerId>` → {"udp": "HOST:PORT", "http": "HOST:PORT"}.
// Parsed at the edge into a RouterInfo, or a short reason why not; never throws.
import { InvalidRouterRecordReason, MAX_ROUTER_RECORD_BYTES, encodeRouterRecord, isHostPort, parseRouterRecord } from '../../../src/cluster/routerRecord';

const value = (v: unknown) => JSON.stringify(v);
const good = { udp: '10.0.0.1:3456', http: '10.0.0.1:8082' };

describe('parseRouterRecord', () => {
  it('reads a record into the router it registers, the key being its id', () => {
    expect(parseRouterRecord('router-1', value(good))).toEqual({ id: 'router-1', ...good });
  });

  it.each([
    ['a host name', 'logs-1.example.com:3456'],
    ['an IPv6 address in brackets', '[2001:db8::1]:3456'],
    ['an IPv4-mapped IPv6 address', '[::ffff:10.0.0.1]:3456'],
    ['port 1', 'router:1'],
    ['port 65535', 'router:65535'],
  ])('takes %s', (_what, address) => {
    expect(parseRouterRecord('r', value({ udp: address, http: address }))).toEqual({ id: 'r', udp: address, http: address });
  });

  it('takes ids of every allowed character, up to 128 of them', () => {
    for (const id of ['a', 'Z9', 'host-1.example:3456', 'a_b', `r${'x'.repeat(127)}`]) {
      expect(parseRouterRecord(id, value(good))).toEqual({ id, ...good });
    }
  });

  it('ignores unknown extra fields, so a newer router can register more', () => {
    expect(parseRouterRecord('r', value({ ...good, zone: 'eu-1', weight: 3, tls: { port: 1 } }))).toEqual({ id: 'r', ...good });
  });

  it.each([
    ['not JSON', '{"udp": 10.0.0.1:3456', 'not JSON (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})'],
    ['empty', '', 'not JSON (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})'],
    ['a JSON string', value('10.0.0.1:3456'), 'not a JSON object (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})'],
    ['a JSON array', value([good]), 'not a JSON object (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})'],
    ['null', 'null', 'not a JSON object (expected {"udp": "HOST:PORT", "http": "HOST:PORT"})'],
    ['without udp', value({ http: good.http }), 'udp: missing'],
    ['without http', value({ udp: good.udp }), 'http: missing'],
    ['an empty object', '{}', 'udp: missing'],
    ['udp not a string', value({ ...good, udp: 3456 }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['udp without a port', value({ ...good, udp: '10.0.0.1' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['port 0', value({ ...good, udp: '10.0.0.1:0' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['port 65536', value({ ...good, http: '10.0.0.1:65536' }), 'http: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['port 99999', value({ ...good, http: '10.0.0.1:99999' }), 'http: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['a port with a leading zero', value({ ...good, udp: '10.0.0.1:03456' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['a negative port', value({ ...good, udp: '10.0.0.1:-1' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['IPv6 without brackets', value({ ...good, udp: '2001:db8::1:3456' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['a URL', value({ ...good, http: 'http://10.0.0.1:8082' }), 'http: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['a space in the host', value({ ...good, udp: 'my host:3456' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['a control character in the host', value({ ...good, udp: 'evil\u0000host:3456' }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
    ['an address of 301 characters', value({ ...good, udp: `${'h'.repeat(296)}:3456` }), 'udp: must be HOST:PORT (port 1-65535, an IPv6 host in brackets)'],
  ])('refuses a value that is %s', (_what, text, reason) => {
    expect(parseRouterRecord('r', text)).toMatchObject({ invalid: reason });
  });

  it(`refuses a value over ${MAX_ROUTER_RECORD_BYTES} bytes, counting UTF-8 bytes, not characters`, () => {
    const padded = (pad: string) => value({ ...good, pad });
    const fits = padded('x'.repeat(MAX_ROUTER_RECORD_BYTES - padded('').length));
    expect(Buffer.byteLength(fits)).toBe(MAX_ROUTER_RECORD_BYTES);
    expect(parseRouterRecord('r', fits)).toEqual({ id: 'r', ...good });
    expect(parseRouterRecord('r', padded('x'.repeat(MAX_ROUTER_RECORD_BYTES)))).toMatchObject({ invalid: `value: longer than ${MAX_ROUTER_RECORD_BYTES} bytes` });
    // 2,048 characters of é, 4,096 bytes: under the limit in characters, over it in bytes.
    expect(parseRouterRecord('r', padded('é'.repeat(2048)))).toMatchObject({ invalid: `value: longer than ${MAX_ROUTER_RECORD_BYTES} bytes` });
    expect(parseRouterRecord('r', 'x'.repeat(1_000_000))).toMatchObject({ invalid: `value: longer than ${MAX_ROUTER_RECORD_BYTES} bytes` });
  });

  it('refuses bytes that are not UTF-8 (decoded as U+FFFD), wherever they are', () => {
    const bytes = Buffer.concat([Buffer.from('{"udp":"10.0.0.1:3456","http":"10.0.0.1:8082","note":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(parseRouterRecord('r', bytes.toString())).toMatchObject({ invalid: 'value: not valid UTF-8' });
    const inAddress = Buffer.concat([Buffer.from('{"udp":"10.0.0.1:3456","http":"ho'), Buffer.from([0xff]), Buffer.from('st:8082"}')]);
    expect(parseRouterRecord('r', inAddress.toString())).toMatchObject({ invalid: 'value: not valid UTF-8' });
  });

  it.each([
    ['empty', ''],
    ['starting with a dash', '-router'],
    ['starting with a dot', '.router'],
    ['with a slash (a deeper key under the prefix)', 'router/extra'],
    ['with a space', 'my router'],
    ['of 129 characters', `r${'x'.repeat(128)}`],
    ['with a non-ASCII letter', 'routér'],
    ['with U+FFFD', 'router-\uFFFD'],
  ])('refuses a key (router id) %s', (_what, key) => {
    expect(parseRouterRecord(key, value(good))).toMatchObject({ invalid: 'key: router id must be 1-128 of A-Z a-z 0-9 . _ : -, first a letter or digit' });
  });

  it('reads a value of {"__proto__": …} as the plain object it is, not its prototype', () => {
    expect(parseRouterRecord('r', `{"__proto__": ${value(good)}}`)).toMatchObject({ invalid: 'udp: missing' });
  });
});

// The reason label of the invalid-router-record metrics, for every kind of invalid record.
describe('parseRouterRecord reason labels', () => {
  const GOOD = '{"udp": "10.0.0.1:3456", "http": "10.0.0.1:8082"}';
  const cases: [string, string, string, InvalidRouterRecordReason][] = [
    ['a bad id', 'bad id!', GOOD, 'bad_id'],
    ['a value over 4 KiB', 'r1', JSON.stringify({ udp: '10.0.0.1:3456', http: '10.0.0.1:8082', pad: 'x'.repeat(5000) }), 'too_large'],
    ['bytes that were not UTF-8', 'r1', '{"udp": "10.0.0.1:3456", "http": "\uFFFD:8082"}', 'invalid_utf8'],
    ['not JSON', 'r1', '{udp: 10.0.0.1:3456', 'not_json'],
    ['JSON but not an object', 'r1', '["10.0.0.1:3456"]', 'not_object'],
    ['no http address', 'r1', '{"udp": "10.0.0.1:3456"}', 'missing_address'],
    ['no udp address', 'r1', '{"http": "10.0.0.1:8082"}', 'missing_address'],
    ['a port out of range', 'r1', '{"udp": "10.0.0.1:3456", "http": "10.0.0.1:99999"}', 'bad_address'],
    ['an address that is not HOST:PORT', 'r1', '{"udp": "10.0.0.1", "http": "10.0.0.1:8082"}', 'bad_address'],
    ['an address that is not a string', 'r1', '{"udp": 3456, "http": "10.0.0.1:8082"}', 'bad_address'],
  ];
  it.each(cases.map(([what, key, value, label]) => ({ what, key, value, label })))('labels $what "$label"', ({ key, value, label }) => {
    expect(parseRouterRecord(key, value)).toMatchObject({ reason: label });
  });
});

describe('encodeRouterRecord', () => {
  it('writes the udp and http addresses as JSON, which parse back to the same router', () => {
    const info = { id: 'router-1', ...good };
    const text = encodeRouterRecord(info);
    expect(JSON.parse(text)).toEqual(good);
    expect(parseRouterRecord(info.id, text)).toEqual(info);
  });

  it('refuses a router without an HTTP address (the traffic controller needs it)', () => {
    expect(() => encodeRouterRecord({ id: 'router-1', udp: good.udp })).toThrow('router router-1: an etcd registration needs an HTTP address');
  });

  it('refuses what would not parse back, with the reason', () => {
    expect(() => encodeRouterRecord({ id: 'router-1', udp: '0.0.0.0:0', http: good.http })).toThrow('router "router-1" cannot be registered: udp: must be HOST:PORT');
    expect(() => encodeRouterRecord({ id: '-bad', ...good })).toThrow('router "-bad" cannot be registered: key: router id must be');
  });
});

describe('isHostPort', () => {
  it('says whether a text is HOST:PORT as a record holds it', () => {
    expect(['10.0.0.1:1', '[::1]:65535', 'a.example:80'].map(isHostPort)).toEqual([true, true, true]);
    expect(['10.0.0.1', '::1:80', '[::1]:0', 'a b:80', `${'h'.repeat(300)}:80`].map(isHostPort)).toEqual([false, false, false, false, false]);
  });

  it.each(['h@x:80', 'a/b:80', 'h?x:80', 'h#x:80', 'h%2f:80', 'h\\x:80'])('refuses a host that would change the URL built from it: %s', address => {
    expect(parseRouterRecord('r1', JSON.stringify({ udp: '127.0.0.1:1', http: address }))).toMatchObject({ invalid: expect.stringMatching(/^http: must be HOST:PORT/) });
  });
});
