// `/#app=ID&token=TOKEN` signs in and opens ID, `/#firehose&token=TOKEN` the firehose; the token
// may hold characters a URL encodes.
import { fragmentSubject, parseSignInFragment, signInFragment } from '../../../src/console/signInFragment';

describe('the sign-in fragment', () => {
  it('reads the app and the token, in either order, either alone', () => {
    expect(parseSignInFragment('#app=my-app&token=abc.def')).toEqual({ app: 'my-app', token: 'abc.def' });
    expect(parseSignInFragment('#token=abc&app=my-app')).toEqual({ app: 'my-app', token: 'abc' });
    expect(parseSignInFragment('#token=abc')).toEqual({ token: 'abc' });
    expect(parseSignInFragment('')).toEqual({});
    expect(parseSignInFragment('#app=&token=&x=1&=2&broken=%E0')).toEqual({});
  });

  it('keeps a "+" of a token as it is (URLSearchParams would read a space) and decodes what was encoded', () => {
    expect(parseSignInFragment('#token=a+b/c%3D')).toEqual({ token: 'a+b/c=' });
    expect(parseSignInFragment(signInFragment('x+y/z==', { kind: 'app', app: 'app.1' }))).toEqual({ app: 'app.1', token: 'x+y/z==' });
  });

  it('reads "firehose" (a part without a value) as opening the firehose; an app named opens the app', () => {
    expect(parseSignInFragment('#firehose&token=abc')).toEqual({ firehose: true, token: 'abc' });
    expect(parseSignInFragment('#token=abc&firehose')).toEqual({ firehose: true, token: 'abc' });
    expect(parseSignInFragment('#firehose=1&firehosex&token=abc')).toEqual({ token: 'abc' });
    expect(fragmentSubject(parseSignInFragment('#firehose&token=abc'))).toEqual({ kind: 'firehose' });
    expect(fragmentSubject(parseSignInFragment('#app=a&firehose'))).toEqual({ kind: 'app', app: 'a' });
    expect(fragmentSubject(parseSignInFragment('#token=abc'))).toBeUndefined();
    expect(signInFragment('x+y', { kind: 'firehose' })).toBe('#firehose&token=x%2By');
    expect(parseSignInFragment(signInFragment('x+y/z==', { kind: 'firehose' }))).toEqual({ firehose: true, token: 'x+y/z==' });
  });
});
