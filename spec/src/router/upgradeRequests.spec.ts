// /tail refuses browser origins that are not allowed (cross-site websocket hijacking): a page
// from elsewhere must not read an app's logs through the user's browser.
import WebSocket from 'ws';
import { createLogger } from '../../../src/logger';
import { Router, startRouter } from '../../../src/router/router';
import { metricValue } from '../../support/routerMetricValue';
import { rawHttp } from '../../support/httpGet';
import { routerConfig } from '../../support/routerConfig';

function connect(router: Router, origin?: string): Promise<{ status: number; body: string } | 'open'> {
  return new Promise(resolve => {
    const ws = new WebSocket(`ws://127.0.0.1:${router.httpAddress.port}/tail?app=a`, origin ? { origin } : {});
    ws.on('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => undefined);
  });
}

describe('router /tail origin check', () => {
  let router: Router;
  afterEach(() => router.close());

  it('refuses a browser origin that is not allowed, with 403 and a reason, and counts it', async () => {
    router = await startRouter(routerConfig({ router: { tail: { allowedOrigins: ['https://logs.example.com'] } } }), createLogger('error', 'test'));
    const refused = await connect(router, 'https://evil.example');
    expect(refused).toMatchObject({ status: 403 });
    expect(JSON.parse((refused as { body: string }).body).error).toMatch(/origin "https:\/\/evil\.example" are not allowed/);
    expect(await connect(router, 'https://logs.example.com')).toBe('open');
    expect(await connect(router)).toBe('open'); // no Origin: not a browser
    expect(await metricValue(router, 'loggregator_http_refused_total', { reason: 'origin_not_allowed' })).toBe(1);
  });
});

describe('router: an upgrade to another protocol', () => {
  let router: Router;
  afterEach(() => router.close());

  it('is declined by answering in HTTP/1.1 (curl --http2, Java HttpClient offer h2c)', async () => {
    router = await startRouter(routerConfig(), createLogger('error', 'test'));
    const answer = await rawHttp(
      router.httpAddress,
      'GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('{"status":"ok"');
  });
});
