// The one request of the page with the token in its URL: the websocket (no headers in a browser).
import { tailUrl } from '../../../src/console/tailUrl';

describe('tailUrl', () => {
  it('opens the tail of the app, recent lines first, on the host that served the page', () => {
    expect(tailUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, 'my-app', 'a+b/c=')).toBe('ws://127.0.0.1:8080/tail?app=my-app&recent=true&access_token=a%2Bb%2Fc%3D');
    expect(tailUrl({ protocol: 'https:', host: 'logs.example' }, 'my-app', 't')).toBe('wss://logs.example/tail?app=my-app&recent=true&access_token=t');
  });
});
