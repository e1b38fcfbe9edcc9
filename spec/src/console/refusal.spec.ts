// A refused token or app, in words a reader can act on.
import { firehoseRefusalAdvice, refusalAdvice, refusalMessage } from '../../../src/console/refusal';

describe('refusals', () => {
  it('tells a reader with an unknown token to sign in again, and how', () => {
    const advice = refusalAdvice({ status: 401, message: 'unknown or expired token' }, 'my-app');
    expect(advice.title).toBe('Not signed in: the traffic controller refused this token (unknown or expired token)');
    expect(advice.advice).toMatch(/Sign in again with a valid token.*loggregator serve/);
    expect(advice.signInAgain).toBe(true);
  });

  it('tells a reader whose token may not read the app to pick another app or sign in with another token', () => {
    const advice = refusalAdvice({ status: 403, message: 'token may not read app "my-app"' }, 'my-app');
    expect(advice.title).toBe('This token may not read app my-app (token may not read app "my-app")');
    expect(advice.advice).toMatch(/Pick an app this token may read/);
  });

  it('tells a reader whose token may not read the firehose which tokens may, and what to do instead', () => {
    const advice = firehoseRefusalAdvice({ status: 403, message: 'token may not read the firehose (grant it "firehose" in data/tokens.json)' });
    expect(advice.title).toBe('This token may not read the firehose (token may not read the firehose (grant it "firehose" in data/tokens.json))');
    expect(advice.advice).toMatch(/needs a token allowed it: "\*" or "firehose" in the traffic controller.s tokens file.*Sign in with such a token, or pick an app this token may read/);
    expect(advice.signInAgain).toBe(true);
    // A 401 or anything else: as for an app.
    expect(firehoseRefusalAdvice({ status: 401, message: 'unknown or expired token' })).toEqual(refusalAdvice({ status: 401, message: 'unknown or expired token' }));
    expect(firehoseRefusalAdvice({ status: 503, message: 'down' }).signInAgain).toBe(false);
  });

  it('reads the JSON error of a refusal, or falls back to the status', () => {
    expect(refusalMessage('{"error":"unknown or expired token"}\n', '401 Unauthorized')).toBe('unknown or expired token');
    expect(refusalMessage('<html>', '502 Bad Gateway')).toBe('502 Bad Gateway');
    expect(refusalMessage('{"error":""}', '500')).toBe('500');
  });
});
