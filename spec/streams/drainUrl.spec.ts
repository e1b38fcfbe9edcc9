// parseDrainUrl / drainName: a binding's URL → where its drain writes, and how it is named
//
//   syslog://logs.example.com              → syslog      logs.example.com  514
//   syslog-tls://logs.example.com          → syslog-tls  logs.example.com  6514
//   https://logs.example.com/drain         → https       logs.example.com  443
//   syslog://[::1]:514                     → syslog      ::1               514
//   https://u:s@h:8443/p?token=t#f         → name https://h:8443 (path …)   (no userinfo, query, fragment; the path as a digest)
//   http://…  ftp://…                      → refused: unsupported scheme
//   syslog://:514  syslog:///  …:0         → refused: no host / port 0
//   "not a url"  ""  3,000 characters      → refused; drainName keeps no more than the scheme
import { MAX_DRAIN_URL_CHARS, drainName, parseDrainUrl, redactKey } from '../../streams/drainUrl';

/** The reason a URL is refused, failing the test if it is accepted. */
function refusal(raw: string): string {
  const result = parseDrainUrl(raw);
  if (result.ok) throw new Error(`expected ${raw} to be refused, got ${JSON.stringify(result.target)}`);
  return result.reason;
}

describe('parseDrainUrl', () => {
  it('gives syslog:// its default port, 514, written out in the canonical URL', () => {
    expect(parseDrainUrl('syslog://logs.example.com')).toEqual({
      ok: true,
      target: { scheme: 'syslog', url: 'syslog://logs.example.com:514', name: 'syslog://logs.example.com:514', host: 'logs.example.com', port: 514 },
    });
  });

  it('gives syslog-tls:// its default port, 6514, written out in the canonical URL', () => {
    expect(parseDrainUrl('syslog-tls://logs.example.com')).toEqual({
      ok: true,
      target: { scheme: 'syslog-tls', url: 'syslog-tls://logs.example.com:6514', name: 'syslog-tls://logs.example.com:6514', host: 'logs.example.com', port: 6514 },
    });
  });

  it('gives https:// its default port, 443, and keeps the path in the name', () => {
    expect(parseDrainUrl('https://logs.example.com/drain')).toEqual({
      ok: true,
      target: { scheme: 'https', url: 'https://logs.example.com/drain', name: 'https://logs.example.com (path 1bfe7fee)', host: 'logs.example.com', port: 443 },
    });
  });

  it('takes an explicit port for each scheme', () => {
    const ports = ['syslog://10.0.0.7:1514', 'syslog-tls://10.0.0.7:16514', 'https://10.0.0.7:8443/x'].map(u => {
      const r = parseDrainUrl(u);
      return r.ok ? [r.target.scheme, r.target.host, r.target.port] : r.reason;
    });
    expect(ports).toEqual([
      ['syslog', '10.0.0.7', 1514],
      ['syslog-tls', '10.0.0.7', 16514],
      ['https', '10.0.0.7', 8443],
    ]);
  });

  it('takes an IPv6 literal, giving the host without brackets (as net.connect wants it)', () => {
    expect(parseDrainUrl('syslog://[::1]:514')).toEqual({
      ok: true,
      target: { scheme: 'syslog', url: 'syslog://[::1]:514', name: 'syslog://[::1]:514', host: '::1', port: 514 },
    });
  });

  it('removes userinfo, query and fragment from the name, and keeps them in the url it connects to', () => {
    const raw = 'https://user:secret@logs.example.com:8443/drain/x?token=abc#f';
    const result = parseDrainUrl(raw);
    expect(result).toEqual({
      ok: true,
      target: { scheme: 'https', url: raw, name: 'https://logs.example.com:8443 (path b9d7f2c3)', host: 'logs.example.com', port: 8443 },
    });
    const name = result.ok ? result.target.name : '';
    for (const leak of ['secret', 'abc', 'user', 'token', '#f']) expect(name).not.toContain(leak);
  });

  it('removes userinfo from a syslog name too', () => {
    const result = parseDrainUrl('syslog-tls://user:secret@logs.example.com:6514');
    expect(result.ok && result.target.name).toBe('syslog-tls://logs.example.com:6514');
  });

  it('refuses plain http://, naming the schemes it takes', () => {
    expect(refusal('http://logs.example.com/drain')).toBe('url: unsupported scheme "http" (use syslog://, syslog-tls:// or https://)');
  });

  it('refuses ftp://', () => {
    expect(refusal('ftp://logs.example.com/drain')).toBe('url: unsupported scheme "ftp" (use syslog://, syslog-tls:// or https://)');
  });

  it('refuses a URL with a port but no host', () => {
    // WHATWG URL itself refuses an empty host followed by a port.
    expect(refusal('syslog://:514')).toBe('url: not a URL');
  });

  it('refuses a URL with no host at all', () => {
    expect(refusal('syslog:///')).toBe('url: missing host');
  });

  it('refuses port 0', () => {
    expect([refusal('syslog://logs.example.com:0'), refusal('https://logs.example.com:0/x')]).toEqual(['url: port 0', 'url: port 0']);
  });

  it('refuses garbage', () => {
    expect(refusal('not a url')).toBe('url: not a URL');
  });

  it('refuses the empty string as missing', () => {
    expect(refusal('')).toBe('url: missing');
  });

  it(`refuses a URL longer than ${MAX_DRAIN_URL_CHARS} characters before parsing it`, () => {
    const long = `syslog://logs.example.com:514/${'x'.repeat(3000 - 'syslog://logs.example.com:514/'.length)}`;
    expect(long).toHaveLength(3000);
    expect(refusal(long)).toBe('url: longer than 2048 characters');
  });

  it('takes a URL of exactly the longest length', () => {
    const prefix = 'https://logs.example.com/';
    expect(parseDrainUrl(prefix + 'x'.repeat(MAX_DRAIN_URL_CHARS - prefix.length)).ok).toBe(true);
  });
});

describe('drainName', () => {
  it('names a URL by scheme, host and port, and an https path by the first 8 hex digits of its SHA-256 only', () => {
    expect([drainName('syslog://h.example.com:514/ignored?q#f'), drainName('https://h.example.com/a/b?q#f'), drainName('https://h.example.com/?q')]).toEqual([
      'syslog://h.example.com:514',
      'https://h.example.com (path 662b7b62)', // sha256('/a/b') = 662b7b62…
      'https://h.example.com',
    ]);
  });

  it('never shows a token carried in an https path, and keeps two paths on one host apart', () => {
    const token = 'a1b2c3d4-e5f6-4711-8899-0123456789ab';
    const one = drainName(`https://logs-01.example.com/bulk/${token}/tag/app/`);
    const other = drainName('https://logs-01.example.com/bulk/another-account/tag/app/');
    expect(one).not.toContain(token);
    expect(one).toMatch(/^https:\/\/logs-01\.example\.com \(path [0-9a-f]{8}\)$/);
    expect(one).not.toBe(other);
  });

  it('keeps only the scheme of an unparseable value', () => {
    expect(drainName('syslog://user:s3cr3t-tok@[::1')).toBe('syslog:(unparseable)');
  });

  it('keeps nothing of an unparseable value without a scheme', () => {
    expect([drainName('not a url token=s3cr3t-tok'), drainName('')]).toEqual(['(unparseable)', '(unparseable)']);
  });

  it('never shows a token carried by an unparseable value', () => {
    const token = 's3cr3t-tok';
    const values = [
      `syslog://user:${token}@[::1`,
      `syslog://${token}@:514`,
      `https://logs.example.com:99999/?token=${token}`,
      `syslog-tls://logs example.com/${token}`,
      `${token}@logs.example.com:514`,
      `token=${token}`,
      `https://[${token}]/`,
    ];
    const names = values.map(drainName);
    expect(names.filter(n => n.includes(token))).toEqual([]);
    expect(names).toEqual([
      'syslog:(unparseable)',
      'syslog:(unparseable)',
      'https:(unparseable)',
      'syslog-tls:(unparseable)',
      '(unparseable)',
      '(unparseable)',
      'https:(unparseable)',
    ]);
  });
});

// redactKey: a store key as it may be logged. A key is <app>/<binding id>, but a hand-edited
// bindings.json with "app" and "url" swapped makes a drain URL (userinfo, token and all) the key.
describe('redactKey', () => {
  it('cuts userinfo from a key that holds a URL (fields swapped in bindings.json)', () => {
    const shown = redactKey('syslog-tls://user:S3CRET@logs.example.com/4c9a');
    expect(shown).toBe('syslog-tls://logs.example.com/4c9a');
    expect(shown).not.toContain('S3CRET');
    expect(shown).not.toContain('user:');
  });

  it('cuts a user name alone, and every userinfo in the key (all up to the last @: over-cutting is safe)', () => {
    const shown = redactKey('https://tok3n@a.example.com/x/syslog://u:S3CRET@b.example.com');
    expect(shown).toBe('https://b.example.com');
    expect(shown).not.toMatch(/tok3n|S3CRET|u:/);
  });

  it.each([
    ['an @ in the password', 'syslog://user:p@ss@h/x', 'syslog://h/x'],
    ['a / in the password', 'syslog://user:S3/CRET@h/x', 'syslog://h/x'],
    ['a space in the password', 'syslog://user:S3 CRET@h/x', 'syslog://h/x'],
    ['no scheme', 'user:S3CRET@h/abc', 'h/abc'],
  ])('cuts userinfo with %s', (_what, key, shown) => {
    expect(redactKey(key)).toBe(shown);
  });

  it('cuts a query and everything after it', () => {
    const shown = redactKey('app/x?token=abc');
    expect(shown).toBe('app/x');
    expect(shown).not.toContain('abc');
    expect(redactKey('syslog://u:S3CRET@h.example.com:514/?token=abc&x=1/0123abcd')).toBe('syslog://h.example.com:514/');
  });

  it('cuts a fragment and everything after it', () => {
    expect(redactKey('app/x#abc')).toBe('app/x');
  });

  it('cuts a query that runs over several lines', () => {
    expect(redactKey('app/x?token=abc\nsecond-line-S3CRET')).toBe('app/x');
  });

  it('bounds the length: a long key is cut to 200 characters and an ellipsis', () => {
    const long = `my-app/${'a'.repeat(1000)}`;
    const shown = redactKey(long);
    expect(shown.length).toBeLessThanOrEqual(201);
    expect(shown).toBe(`${long.slice(0, 200)}…`);
    expect(redactKey('x'.repeat(200))).toBe('x'.repeat(200));
  });

  it('leaves an ordinary key, and a file item\'s position, as it is', () => {
    expect(redactKey('my-app/0123abcd')).toBe('my-app/0123abcd');
    expect(redactKey('app-a/4c9a1f0e2b3d5a6c')).toBe('app-a/4c9a1f0e2b3d5a6c');
    expect(redactKey('bindings[3]')).toBe('bindings[3]');
    expect(redactKey('')).toBe('');
  });
});
