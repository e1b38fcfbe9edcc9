// parseStoreEntry / bindingIdOf: one binding store record → one binding, or why not
//
//   key                value                                   result
//   my-app/0123abcd    {"url":"syslog://127.0.0.1:514"}        binding  "my-app <bindingIdOf(url)>"
//   -app/0123abcd      …                                       invalid  key: …
//   my-app/0123abcd    not JSON | [] | null | {} | {"url":1}    invalid  value: …
//   my-app/0123abcd    {"url":"http://u:secret@h/"}            invalid  url: … (http://h)      never the secret
//
//   bindingIdOf(url) = first 16 hex digits of sha256(url)
import { createHash } from 'node:crypto';
import { MAX_BINDING_VALUE_CHARS, StoreEntry, bindingIdOf, bindingKey, parseStoreEntry } from '../../streams/binding';

const value = (url: unknown) => JSON.stringify({ url });
const good = value('syslog://127.0.0.1:514');

/** Why a record is not a binding, failing the test if it is one. */
function reason(entry: StoreEntry): string {
  const result = parseStoreEntry(entry);
  if (result.ok) throw new Error(`expected ${entry.key} to be invalid, got ${JSON.stringify(result.binding)}`);
  expect(result.key).toBe(entry.key);
  return result.reason;
}

describe('parseStoreEntry', () => {
  it('refuses a value that was not valid UTF-8 (decoded bytes become U+FFFD), instead of running a repaired URL', () => {
    const bytes = Buffer.concat([Buffer.from('{"url":"syslog://h'), Buffer.from([0xff]), Buffer.from('.example.com:514"}')]);
    const result = parseStoreEntry({ key: 'my-app/0123abcd', value: bytes.toString() });
    expect(result).toEqual({ ok: false, key: 'my-app/0123abcd', reason: 'value: not valid UTF-8' });
  });

  it('turns a valid record into a binding keyed by app and a digest of the URL (never the URL: it may hold a token)', () => {
    expect(parseStoreEntry({ key: 'my-app/0123abcd', value: good })).toEqual({
      ok: true,
      binding: {
        key: `my-app ${createHash('sha256').update('syslog://127.0.0.1:514').digest('hex').slice(0, 16)}`,
        appId: 'my-app',
        drain: { scheme: 'syslog', url: 'syslog://127.0.0.1:514', name: 'syslog://127.0.0.1:514', host: '127.0.0.1', port: 514 },
      },
    });
  });

  it('keys a binding with bindingKey(appId, url)', () => {
    const result = parseStoreEntry({ key: 'my-app/0123abcd', value: good });
    expect(result.ok && result.binding.key).toBe(bindingKey('my-app', 'syslog://127.0.0.1:514'));
  });

  it('takes app and binding ids at their longest', () => {
    const appId = 'a'.repeat(48);
    const result = parseStoreEntry({ key: `${appId}/${'b'.repeat(64)}`, value: good });
    expect(result.ok && result.binding.appId).toBe(appId);
  });

  it('refuses an empty app id', () => {
    expect(reason({ key: '/0123abcd', value: good })).toMatch(/^key: .*valid app id/);
  });

  it('refuses an app id of 49 characters', () => {
    expect(reason({ key: `${'a'.repeat(49)}/0123abcd`, value: good })).toMatch(/^key: .*valid app id/);
  });

  it('refuses an app id starting with "-"', () => {
    expect(reason({ key: '-app/0123abcd', value: good })).toMatch(/^key: .*valid app id/);
  });

  it('refuses a key with a "/" past the app id (the binding id cannot hold one)', () => {
    expect(reason({ key: 'my/app/0123abcd', value: good })).toBe('key: binding id must be 1-64 of A-Z a-z 0-9 . _ -');
  });

  it('refuses a key without a binding id', () => {
    expect([reason({ key: 'my-app', value: good }), reason({ key: 'my-app/', value: good })]).toEqual([
      'key: binding id must be 1-64 of A-Z a-z 0-9 . _ -',
      'key: binding id must be 1-64 of A-Z a-z 0-9 . _ -',
    ]);
  });

  it('refuses a binding id with characters outside A-Z a-z 0-9 . _ -', () => {
    const reasons = ['0123 abcd', '0123:abcd', 'ab%2F', 'é'].map(id => reason({ key: `my-app/${id}`, value: good }));
    expect(new Set(reasons)).toEqual(new Set(['key: binding id must be 1-64 of A-Z a-z 0-9 . _ -']));
  });

  it('refuses a binding id of 65 characters', () => {
    expect(reason({ key: `my-app/${'b'.repeat(65)}`, value: good })).toBe('key: binding id must be 1-64 of A-Z a-z 0-9 . _ -');
  });

  it('refuses a value that is not JSON', () => {
    expect(reason({ key: 'my-app/0123abcd', value: 'syslog://127.0.0.1:514' })).toBe('value: not JSON (expected {"url": "syslog://host:port"})');
  });

  it('refuses a JSON array, null, a string, and an object without a url', () => {
    const reasons = ['["syslog://127.0.0.1:514"]', 'null', '"syslog://127.0.0.1:514"', '{}', '{"uri":"syslog://127.0.0.1:514"}'].map(v =>
      reason({ key: 'my-app/0123abcd', value: v }),
    );
    expect(reasons).toEqual(Array(5).fill('value: expected a JSON object with a "url" string'));
  });

  it('refuses a url that is not a string', () => {
    const reasons = [1, null, ['syslog://127.0.0.1:514'], { href: 'syslog://127.0.0.1:514' }].map(u => reason({ key: 'my-app/0123abcd', value: value(u) }));
    expect(reasons).toEqual(Array(4).fill('value: expected a JSON object with a "url" string'));
  });

  it('refuses a url with a scheme it cannot drain to, naming the URL without its secrets', () => {
    expect(reason({ key: 'my-app/0123abcd', value: value('http://user:secret@logs.example.com/drain?token=abc') })).toBe(
      'url: unsupported scheme "http" (use syslog://, syslog-tls:// or https://) (http://logs.example.com)',
    );
  });

  it('never shows the secret of a refused url', () => {
    const urls = [
      'ftp://user:secret@logs.example.com/?token=secret',
      'syslog://user:secret@:514',
      'syslog://user:secret@logs.example.com:0',
      `https://user:secret@logs.example.com/${'x'.repeat(2100)}?token=secret`,
      'not a url, secret',
    ];
    const reasons = urls.map(u => reason({ key: 'my-app/0123abcd', value: value(u) }));
    expect(reasons.map(r => r.slice(0, r.indexOf(' ')))).toEqual(Array(5).fill('url:'));
    expect(reasons.filter(r => r.includes('secret'))).toEqual([]);
  });

  it(`refuses a value longer than ${MAX_BINDING_VALUE_CHARS} characters before parsing it`, () => {
    const padded = JSON.stringify({ url: 'syslog://127.0.0.1:514', pad: 'x'.repeat(MAX_BINDING_VALUE_CHARS) });
    expect(reason({ key: 'my-app/0123abcd', value: padded })).toBe('value: longer than 4096 characters');
  });

  it('ignores other fields of the value', () => {
    expect(parseStoreEntry({ key: 'my-app/0123abcd', value: JSON.stringify({ url: 'syslog://127.0.0.1:514', note: 'x' }) }).ok).toBe(true);
  });

  it('gives one key to one syslog drain whether or not its default port is written', () => {
    const keys = ['syslog://logs.example.com', 'syslog://logs.example.com:514'].map(url => {
      const result = parseStoreEntry({ key: `my-app/${bindingIdOf(url)}`, value: value(url) });
      return result.ok ? result.binding.key : result.reason;
    });
    // Both connect to logs.example.com:514: two keys would run two writers and deliver every line twice.
    expect(keys[0]).toBe(keys[1]);
  });

  it('gives one key to one https drain whether or not its default port is written', () => {
    const keys = ['https://logs.example.com/drain', 'https://logs.example.com:443/drain', 'https://LOGS.example.com/drain'].map(url => {
      const result = parseStoreEntry({ key: `my-app/${bindingIdOf(url)}`, value: value(url) });
      return result.ok ? result.binding.key : result.reason;
    });
    expect(keys).toEqual(Array(3).fill(`my-app ${bindingIdOf('https://logs.example.com/drain')}`));
  });
});

describe('bindingIdOf', () => {
  it('is the first 16 hex digits of the sha256 of the canonical URL', () => {
    const url = 'syslog://127.0.0.1:514';
    expect(bindingIdOf(url)).toBe(createHash('sha256').update(url).digest('hex').slice(0, 16));
    expect(bindingIdOf('syslog://127.0.0.1')).toBe(bindingIdOf(url));
    expect(bindingIdOf(url)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is deterministic', () => {
    expect(bindingIdOf('syslog-tls://logs.example.com:6514')).toBe(bindingIdOf('syslog-tls://logs.example.com:6514'));
  });

  it('differs for different URLs', () => {
    const urls = ['syslog://127.0.0.1:514', 'syslog://127.0.0.1:515', 'syslog-tls://127.0.0.1:514', 'https://logs.example.com/a', 'https://logs.example.com/b'];
    expect(new Set(urls.map(bindingIdOf)).size).toBe(urls.length);
  });

  it('is a valid binding id for a store key', () => {
    const url = 'https://logs.example.com/drain';
    expect(parseStoreEntry({ key: `my-app/${bindingIdOf(url)}`, value: value(url) }).ok).toBe(true);
  });
});
