// The traffic controller serves the web console (dist/console, built by `npm run build`) from
// its own origin, with a Content-Security-Policy that allows no inline script:
//
//   GET /                    ──▶ index.html       CSP, nosniff, no framing
//   GET /console/console.js  ──▶ the bundle       ETag ──▶ 304 when unchanged
//   GET /console/nope, POST / ──▶ 404, 405        counted
//   ws /tail with Origin: the TC's own host:port ──▶ accepted; any other origin ──▶ 403
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Refusal, sendRefusal } from '../../../src/http/refusal';
import { WebConsole } from '../../../src/trafficController/webConsole';
import { Teardown } from '../../support/teardown';
import { newToken, routerInfo, startTc } from '../../support/trafficControllerHarness';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };

describe('the web console served by the traffic controller', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('serves the page at / with a CSP that allows script and style only from its origin, and nothing inline', async () => {
    const tc = await startTc(teardown, { tokens });
    const page = await tc.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    // Every script of the page is a file of its own origin.
    const scripts = [...page.body.matchAll(/<script\b[^>]*>/g)].map(m => m[0]);
    expect(scripts).toEqual(['<script defer src="/console/console.js">']);
    expect(page.body).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(page.body).not.toMatch(/\sstyle=|<style/);
  });

  it('serves the bundle and its style sheet with their types, revalidated by ETag', async () => {
    const tc = await startTc(teardown, { tokens });
    const script = await tc.get('/console/console.js');
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(script.body.length).toBeGreaterThan(1000);
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = script.headers.get('etag') as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await tc.get('/console/console.js', { headers: { 'If-None-Match': etag } });
    expect([again.status, again.body]).toEqual([304, '']);
    const style = await tc.get('/console/console.css');
    expect([style.status, style.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
  });

  it('refuses a file it does not have and a method other than GET, counted', async () => {
    const tc = await startTc(teardown, { tokens });
    const missing = await tc.get('/console/../package.json');
    expect(missing.status).toBe(404); // fetch normalises the path: /package.json, not a console path
    const unknown = await tc.get('/console/secrets.js');
    expect([unknown.status, JSON.parse(unknown.body)]).toEqual([404, { error: 'no such file of the web console: "secrets.js"' }]);
    const dotted = await tc.get('/console/%2e%2e%2fpackage.json');
    expect(dotted.status).toBe(404);
    const post = await tc.get('/', { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'not_found' })).toBe(3);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'method_not_allowed' })).toBe(1);
  });

  it("lets the page's own websocket in (Origin is the traffic controller's host:port) and no other origin", async () => {
    const router = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', router)], tokens });
    const own = `http://127.0.0.1:${tc.address.port}`;
    const client = await tc.tail('app=app-a', ADMIN, { Origin: own });
    expect(client.isClosed).toBe(false);
    for (const origin of ['http://evil.example', `http://127.0.0.1:${tc.address.port + 1}`, `ftp://127.0.0.1:${tc.address.port}`, 'null']) {
      const refused = await tc.refusedUpgrade('/tail?app=app-a', { Origin: origin, Authorization: `Bearer ${ADMIN}` });
      expect([origin, refused.status]).toEqual([origin, 403]);
      expect(JSON.parse(refused.body).error).toMatch(/trafficController\.tail\.allowedOrigins/);
    }
    // The page's origin must name the host the request was sent to.
    const rebound = await tc.refusedUpgrade('/tail?app=app-a', { Origin: own, Host: 'elsewhere.example', Authorization: `Bearer ${ADMIN}` });
    expect(rebound.status).toBe(403);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'origin_not_allowed' })).toBe(5);
  });

  it('says the console is not built when its files are missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'lgr-console-'));
    const console = new WebConsole({ dir: empty, refuse: (res, refusal: Refusal) => sendRefusal(res, refusal) });
    const server = teardown.add(
      createServer((req, res) => console.answers(req, res) || res.writeHead(418).end()),
      s => new Promise(resolve => s.close(resolve)),
    );
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/the web console is not built here: run `npm run build`/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
