import { isLoopbackUrl } from '../../../src/cli/addresses';

describe('isLoopbackUrl (where logs may send this machine\'s admin token)', () => {
  it.each(['http://127.0.0.1:8080', 'http://127.1.2.3', 'http://localhost:8080', 'http://[::1]:8080', 'https://127.0.0.1'])('%s is this machine', url => {
    expect(isLoopbackUrl(new URL(url))).toBe(true);
  });

  it.each(['http://10.0.0.5:8080', 'http://logs.example.com', 'http://127.0.0.1.example.com', 'http://[::2]:80', 'http://0.0.0.0:8080', 'http://localhost.evil.com'])(
    '%s is not',
    url => {
      expect(isLoopbackUrl(new URL(url))).toBe(false);
    },
  );
});
