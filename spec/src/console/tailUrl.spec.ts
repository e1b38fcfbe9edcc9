// The only requests of the page with the token in their URL: the websockets (no headers in a browser).
import { firehoseUrl, tailUrl } from '../../../src/console/tailUrl';

describe('tailUrl', () => {
  it('opens the tail of the app, recent lines first, on the host that served the page', () => {
    expect(tailUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, 'my-app', 'a+b/c=')).toBe('ws://127.0.0.1:8080/tail?app=my-app&recent=true&access_token=a%2Bb%2Fc%3D');
    expect(tailUrl({ protocol: 'https:', host: 'logs.example' }, 'my-app', 't')).toBe('wss://logs.example/tail?app=my-app&recent=true&access_token=t');
  });

  it('opens the firehose as a consumer of the subscription, on the host that served the page', () => {
    expect(firehoseUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, 'console-00ff.1', 'a+b/c=')).toBe('ws://127.0.0.1:8080/firehose?subscription=console-00ff.1&access_token=a%2Bb%2Fc%3D');
    expect(firehoseUrl({ protocol: 'https:', host: 'logs.example' }, 's', 't')).toBe('wss://logs.example/firehose?subscription=s&access_token=t');
  });
});
