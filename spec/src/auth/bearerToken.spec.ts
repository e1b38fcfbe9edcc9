// bearerToken: where a request's token is, and whether it is well formed.
//
//   Authorization: Bearer T          → token T
//   ?access_token=T (allowQuery)     → token T          (browsers cannot set websocket headers)
//   both, same T                     → token T
//   both, different / param twice    → malformed
//   another scheme, empty, bad chars, > 4096 chars → malformed (the message never quotes the token)
//   neither                          → none
import { IncomingHttpHeaders } from 'node:http';
import { bearerToken, redactAccessToken, TokenLookup } from '../../../src/auth/bearerToken';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl-_~+/==';
const OTHER = 'other-token-0123456789';

function lookup(authorization: string | undefined, query = '', allowQuery = true): TokenLookup {
  const headers: IncomingHttpHeaders = authorization === undefined ? {} : { authorization };
  return bearerToken(headers, new URL(`http://127.0.0.1/tail?app=my-app${query}`), { allowQuery });
}

/** A malformed lookup's message, checked not to contain the offending token. */
function malformedMessage(result: TokenLookup, secret: string): string {
  expect(result.kind).toBe('malformed');
  const message = (result as { message: string }).message;
  if (secret !== '') expect(message).not.toContain(secret);
  return message;
}

describe('bearerToken', () => {
  describe('the Authorization header', () => {
    it('yields the token of "Bearer TOKEN"', () => {
      expect(lookup(`Bearer ${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN });
    });

    it('takes the scheme in any case, and one space or more before the token', () => {
      expect(lookup(`bearer ${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN });
      expect(lookup(`BEARER    ${TOKEN}`)).toEqual({ kind: 'token', token: TOKEN });
    });

    it('is none when there is neither header nor parameter', () => {
      expect(lookup(undefined)).toEqual({ kind: 'none' });
    });

    it('refuses another scheme, naming the expected one and not the credentials', () => {
      const basic = Buffer.from('admin:hunter2').toString('base64');
      expect(malformedMessage(lookup(`Basic ${basic}`), basic)).toMatch(/Bearer/);
    });

    it('refuses a header that is only a token (no scheme), without quoting it', () => {
      expect(malformedMessage(lookup(TOKEN), TOKEN)).toMatch(/Bearer scheme/);
    });

    it('refuses an empty token', () => {
      expect(malformedMessage(lookup('Bearer'), '')).toMatch(/empty/);
      expect(malformedMessage(lookup('Bearer   '), '')).toMatch(/empty/);
    });

    it('refuses control characters, spaces and a tab inside the token', () => {
      for (const bad of ['abc\u0001def', 'abc\u007fdef', 'abc def', 'abc\ndef', 'abc"def']) {
        expect(malformedMessage(lookup(`Bearer ${bad}`), bad)).toMatch(/characters a bearer token cannot have/);
      }
      expect(malformedMessage(lookup(`Bearer\t${TOKEN}`), TOKEN)).toMatch(/characters a bearer token cannot have/);
    });

    it('refuses a token longer than 4096 characters, and takes one of exactly 4096', () => {
      const long = 'a'.repeat(5000);
      expect(malformedMessage(lookup(`Bearer ${long}`), long)).toMatch(/longer than 4096/);
      expect(lookup(`Bearer ${'a'.repeat(4096)}`)).toEqual({ kind: 'token', token: 'a'.repeat(4096) });
    });

    it('refuses "=" anywhere but at the end (b64token)', () => {
      expect(lookup('Bearer abc=def').kind).toBe('malformed');
      expect(lookup('Bearer abcdef==')).toEqual({ kind: 'token', token: 'abcdef==' });
    });
  });

  describe('the access_token query parameter', () => {
    const query = `&access_token=${encodeURIComponent(TOKEN)}`;

    it('yields the token when the query is allowed', () => {
      expect(lookup(undefined, query)).toEqual({ kind: 'token', token: TOKEN });
    });

    it('is refused (not ignored) where the query is not allowed', () => {
      expect(malformedMessage(lookup(undefined, query, false), TOKEN)).toMatch(/not accepted here.*Authorization: Bearer/);
      expect(lookup(`Bearer ${TOKEN}`, query, false).kind).toBe('malformed');
    });

    it('is ignored when absent even where it is not allowed', () => {
      expect(lookup(`Bearer ${TOKEN}`, '', false)).toEqual({ kind: 'token', token: TOKEN });
    });

    it('agrees with the header when both carry the same token', () => {
      expect(lookup(`Bearer ${TOKEN}`, query)).toEqual({ kind: 'token', token: TOKEN });
    });

    it('is malformed when header and parameter carry different tokens', () => {
      const message = malformedMessage(lookup(`Bearer ${OTHER}`, query), TOKEN);
      expect(message).not.toContain(OTHER);
      expect(message).toMatch(/different tokens/);
    });

    it('is malformed when given twice, even twice the same', () => {
      expect(malformedMessage(lookup(undefined, `${query}${query}`), TOKEN)).toMatch(/more than once/);
    });

    it('is malformed when empty', () => {
      expect(malformedMessage(lookup(undefined, '&access_token='), '')).toMatch(/empty/);
    });

    it('is malformed when too long or holding control characters', () => {
      const long = 'b'.repeat(5000);
      expect(malformedMessage(lookup(undefined, `&access_token=${long}`), long)).toMatch(/longer than 4096/);
      expect(malformedMessage(lookup(undefined, '&access_token=abc%01def'), 'abc\u0001def')).toMatch(/cannot have/);
    });

    it('hints that "+" must be percent-encoded when a raw "+" arrived as a space', () => {
      expect(malformedMessage(lookup(undefined, '&access_token=abc+def'), 'abc def')).toMatch(/%2B/);
    });

    it('is found under a percent-encoded name, as URLSearchParams reads it', () => {
      expect(lookup(undefined, '&access%5Ftoken=abc')).toEqual({ kind: 'token', token: 'abc' });
    });
  });
});

describe('redactAccessToken', () => {
  it('replaces the value of access_token and leaves the rest as it was', () => {
    expect(redactAccessToken(`/tail?app=my-app&access_token=${TOKEN}&recent=true`)).toBe('/tail?app=my-app&access_token=REDACTED&recent=true');
    expect(redactAccessToken(`http://tc.example.com:8080/recent?access_token=${TOKEN}`)).toBe('http://tc.example.com:8080/recent?access_token=REDACTED');
  });

  it('redacts every occurrence, in any case, percent-encoded names too', () => {
    const redacted = redactAccessToken(`/tail?access_token=${TOKEN}&ACCESS_TOKEN=${OTHER}&access%5Ftoken=${OTHER}&app=x`);
    expect(redacted).toBe('/tail?access_token=REDACTED&ACCESS_TOKEN=REDACTED&access%5Ftoken=REDACTED&app=x');
    expect(redacted).not.toContain(OTHER);
  });

  it('redacts a parameter without "=" and keeps a fragment', () => {
    expect(redactAccessToken('/tail?access_token#frag')).toBe('/tail?access_token=REDACTED#frag');
  });

  it('leaves URLs without the parameter unchanged', () => {
    for (const url of ['/tail', '/tail?app=my-app', '/tail?my_access_token=1&app=x', 'http://h/p?x=%zz']) {
      expect(redactAccessToken(url)).toBe(url);
    }
  });
});
