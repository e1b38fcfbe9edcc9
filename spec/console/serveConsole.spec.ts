// End to end as the README tells it: `loggregator serve` prints the console's address with this
// machine's admin token in the fragment; opened in Chromium it signs in, lists the app that has
// lines, and shows them. The screenshot it leaves (.tmp/console-spec/serve-console.png) is the
// one in the README.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsFromMs } from '../../src/envelope/envelope';
import { HeadlessChromium } from '../support/chromium';
import { Child } from '../support/childProcess';
import { ConsolePage } from '../support/consolePage';
import { UdpSender, envelope } from '../support/udpSender';

jest.setTimeout(180_000);

const CLI = 'dist/src/cli/main.js';

/** Seconds of a small web shop's log, its rate rising and falling, ending with the second before `endMs`. */
function shopLog(endMs: number, seconds: number) {
  const lines = [];
  const paths = ['/products', '/cart', '/products/42', '/checkout', '/search?q=lamp'];
  const nowMs = endMs - 1000;
  for (let second = seconds - 1; second >= 0; second--) {
    const perSecond = Math.round(6 + 5 * Math.sin(second / 6) + (second % 17 === 3 ? 12 : 0));
    for (let k = 0; k < perSecond; k++) {
      const at = nowMs - second * 1000 - 999 + Math.floor((k * 1000) / perSecond);
      const path = paths[(second + k) % paths.length];
      const ms = 4 + ((second * 7 + k * 13) % 40);
      const timestamp = nsFromMs(at);
      lines.push(envelope('shop-web', `shop.example.com - "GET ${path} HTTP/1.1" 200 ${ms * 37} ${ms} ms`, { sourceType: 'RTR', sourceInstance: '0', timestamp }));
      lines.push(envelope('shop-web', `GET ${path} 200 in ${ms} ms`, { sourceInstance: String(k % 2), timestamp }));
      if ((second % 9 === 4 || second === 0) && k === 0) {
        lines.push(envelope('shop-web', 'payment gateway timed out after 5000 ms; retrying (attempt 2 of 3)', { sourceInstance: '1', messageType: 'ERR', timestamp }));
      }
    }
  }
  return lines;
}

describe('the console of `loggregator serve`', () => {
  let serve: Child | undefined;
  let chromium: HeadlessChromium | undefined;

  afterAll(async () => {
    await chromium?.close();
    serve?.kill();
  });

  it('is printed with the admin token in the fragment, signs in, lists the app, and shows its lines', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lgr-console-serve-'));
    serve = Child.start('node', [CLI, 'serve'], {
      LOGGREGATOR_ROUTER_UDP_PORT: '0',
      LOGGREGATOR_ROUTER_HTTP_PORT: '0',
      LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
      LOGGREGATOR_ROUTER_RECENT_LINES_PER_APP: '1000',
      LOGGREGATOR_DATA_DIR: dataDir,
    });
    const printed = await serve.waitFor(/^web console: (http:\/\/127\.0\.0\.1:\d+\/)#token=([A-Za-z0-9_-]+)$/m, 50_000);
    const [, base] = printed;
    const listening = await serve.waitFor(/^\{.*"message":"router listening".*$/m);
    const udp = (JSON.parse(listening[0]) as { udp: string }).udp;
    // The log names the console, never the token.
    await serve.waitFor(/"message":"web console"/);
    expect(serve.stderr).not.toContain(printed[2]);

    const [host, port] = udp.split(':');
    const sender = new UdpSender({ address: host, port: Number(port), family: 'IPv4' });
    try {
      // The last minute but the seconds it takes to open the page; those come live.
      const lines = shopLog(Date.now() - 3000, 57);
      await sender.sendEnvelopes(lines);

      chromium = await HeadlessChromium.launch();
      const context = await chromium.newContext();
      const page = await ConsolePage.open(context, printed[0].replace('web console: ', ''));
      const app = page.page.locator('.apps .app', { hasText: 'shop-web' });
      await app.waitFor({ timeout: 30_000 });
      expect(page.page.url()).toBe(base);
      await app.click();
      // The minute before (loopback UDP may have dropped a few of a burst: not counted here).
      await page.page.locator('.counts', { hasText: /^[1-9][\d,]* shown/ }).waitFor({ timeout: 30_000 });
      // Then lines as they happen, second by second.
      for (let k = 0; k < 3; k++) {
        const live = shopLog(Date.now() + 1000, 1);
        await sender.sendEnvelopes(live);
        await page.page.locator('.row', { hasText: live[live.length - 1].message }).last().waitFor({ timeout: 30_000 });
        await new Promise(resolve => setTimeout(resolve, 1000));
      }
      expect(await page.page.locator('.row.err').count()).toBeGreaterThan(0);
      // The rate of the last whole second, and the sparkline of the minute. Lines keep coming
      // while it is read, because a loaded host may take more than a second to get here and the
      // last whole second would then be a quiet one.
      const rate = page.page.locator('.rate', { hasText: /^[1-9]\d* lines\/s$/ });
      const rateDeadline = Date.now() + 30_000;
      while (!(await rate.isVisible())) {
        if (Date.now() > rateDeadline) throw new Error(`no rate shown in 30 s: ${await page.page.locator('.rate').textContent()}`);
        await sender.sendEnvelopes(shopLog(Date.now() + 1000, 1));
        await new Promise(resolve => setTimeout(resolve, 250));
      }
      await page.page.locator('.row.err').last().click();
      await page.page.locator('.details', { hasText: 'payment gateway timed out' }).waitFor();
      await page.screenshot('serve-console.png');
      expect(await page.cspViolations()).toEqual([]);
      expect(page.errors).toEqual([]);
    } finally {
      await sender.close();
    }
    expect(await serve.stop('SIGTERM')).toBe(0);
  });
});
