// The web console in a real browser tab, as a reader sees it: what the log shows, the status,
// the buttons; and what the page requested (to check that no HTTP request carries the token) and
// any Content-Security-Policy violation or page error.
import { BrowserContext, Page } from 'playwright-core';
import { Envelope } from '../../src/envelope/envelope';
import { specOutputPath } from './chromium';
import { waitFor } from './waitFor';

/** What the functions run in the page use of it (the specs are typed without the DOM's types). */
interface InPage {
  cspViolations: string[];
  readonly document: { addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string }) => void): void };
}

export class ConsolePage {
  /** URLs of the HTTP requests the page made. */
  readonly requests: string[] = [];
  /** URLs of the websockets it opened. */
  readonly websockets: string[] = [];
  /** Uncaught errors and console errors of the page. */
  readonly errors: string[] = [];

  private constructor(readonly page: Page) {
    page.on('request', r => this.requests.push(r.url()));
    page.on('websocket', ws => this.websockets.push(ws.url()));
    page.on('pageerror', e => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', m => m.type() === 'error' && this.errors.push(`console: ${m.text()}`));
  }

  /** Opens `base` + `fragment` (e.g. `#app=a&token=t`) in a new tab of the context. */
  static async open(context: BrowserContext, base: string, fragment = ''): Promise<ConsolePage> {
    const page = await context.newPage();
    // Before any script of the page: every CSP violation is recorded where the spec can read it.
    await page.addInitScript(() => {
      const w = globalThis as unknown as InPage;
      w.cspViolations = [];
      w.document.addEventListener('securitypolicyviolation', e => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const console = new ConsolePage(page);
    await page.goto(base + fragment);
    return console;
  }

  /** The messages of the rows in sight, top to bottom (the console's own notes left out). */
  messages(): Promise<string[]> {
    return this.page.$$eval('.log-rows .row:not(.note) .message', els => els.map(e => e.textContent ?? ''));
  }

  /** The console's own notes in sight (disconnected, live again). */
  notes(): Promise<string[]> {
    return this.page.$$eval('.log-rows .row.note .message', els => els.map(e => e.textContent ?? ''));
  }

  async waitForMessages(expected: string[], what = `${expected.length} lines shown`): Promise<void> {
    let last: string[] = [];
    await waitFor(
      async () => {
        last = await this.messages();
        return JSON.stringify(last) === JSON.stringify(expected);
      },
      { what, timeoutMs: 30_000, intervalMs: 50 },
    ).catch(err => {
      throw new Error(`${(err as Error).message}\nshown: ${JSON.stringify(last)}\nexpected: ${JSON.stringify(expected)}`);
    });
  }

  status(): Promise<string> {
    return this.page.locator('[role=status]').innerText();
  }

  async waitForStatus(pattern: RegExp): Promise<void> {
    await this.page.locator('[role=status]', { hasText: pattern }).waitFor({ timeout: 30_000 });
  }

  /** Clicks "Download NDJSON" and reads the file the page made: the lines shown. */
  async download(): Promise<Envelope[]> {
    const [download] = await Promise.all([this.page.waitForEvent('download'), this.page.click('button.download')]);
    // The browser runs as a server: the file is read through playwright, not from its disk.
    const chunks: Buffer[] = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text === '' ? [] : text.trimEnd().split('\n').map(line => JSON.parse(line) as Envelope);
  }

  cspViolations(): Promise<string[]> {
    return this.page.evaluate(() => (globalThis as unknown as InPage).cspViolations);
  }

  async screenshot(name: string): Promise<string> {
    const path = specOutputPath(name);
    await this.page.screenshot({ path });
    return path;
  }
}
