// `/#app=ID&token=TOKEN` signs in and opens ID; the token may hold characters a URL encodes.
import { parseSignInFragment, signInFragment } from '../../../src/console/signInFragment';

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
    expect(parseSignInFragment(signInFragment('x+y/z==', 'app.1'))).toEqual({ app: 'app.1', token: 'x+y/z==' });
  });
});
