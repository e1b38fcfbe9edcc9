// The web console's firehose view in real headless Chromium, against a real router and traffic
// controller on loopback, lines of several apps sent over UDP:
//
//   UdpSender ──UDP──▶ router ──/firehose──▶ traffic controller ──ws /firehose?subscription=console-…──▶ Chromium
//   (app-a, app-b, app-c)                    (serves /, /apps; GET /firehose says why a token is refused) ◀──┘
//
// What an operator sees: every app's lines with their app ids, each app's in order; a filter that
// narrows to one app (by the app filter, or by the app id typed as text); a token that may read
// only an app refused in words; a reconnect that says honestly that nothing is replayed.
// Screenshots go to .tmp/console-spec/.
import { Envelope, nsFromMs } from '../../src/envelope/envelope';
import { Router } from '../../src/router/router';
import { SUBSCRIPTION_PATTERN } from '../../src/trafficController/firehoseSubscription';
import { browserPerTest } from '../support/chromium';
import { ConsolePage } from '../support/consolePage';
import { metricValue } from '../support/routerMetricValue';
import { Teardown } from '../support/teardown';
import { TcRun, ingested, newToken, routerInfo, startTc } from '../support/trafficControllerHarness';
import { UdpSender, envelope } from '../support/udpSender';
import { waitFor } from '../support/waitFor';

// Generous: the machine running them may be busy with other suites (no timing is asserted).
jest.setTimeout(120_000);

const ADMIN = newToken('admin');
const NOZZLE = newToken('nozzle');
const ONLY_A = newToken('only-a');
const tokens = { [ADMIN]: '*' as const, [NOZZLE]: 'firehose' as const, [ONLY_A]: ['app-a'] };
const APPS = ['app-a', 'app-b', 'app-c'];

/** A row of the log as the reader sees it: whose line, and what it says. */
interface ShownLine {
  readonly app: string;
  readonly message: string;
}

/** `count` lines per app, the apps interleaved; the messages do not name the app (so a text filter on the app id finds it by the id alone). */
function interleaved(count: number, from = 0, apps = APPS): Envelope[] {
  return Array.from({ length: count }, (_, k) => apps.map(app => envelope(app, `request ${from + k} of ${app.slice(-1).toUpperCase()}`))).flat();
}

/** Lines by app, in the order given. */
function byApp(lines: readonly ShownLine[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { app, message } of lines) (out[app] ??= []).push(message);
  return out;
}

const shown = (lines: readonly Envelope[]): ShownLine[] => lines.map(e => ({ app: e.appId, message: e.message }));

describe('the web console in Chromium: the firehose view', () => {
  const teardown = new Teardown();
  const browser = browserPerTest(teardown);

  async function setUp(): Promise<{ router: Router; tc: TcRun; sender: UdpSender; base: string }> {
    const router = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', router)], tokens });
    return { router, tc, sender: teardown.sender(router), base: `http://127.0.0.1:${tc.address.port}/` };
  }

  /** The firehose keeps no history: lines count once the traffic controller's stream from the router is open. */
  async function firehoseStreamOpen(router: Router): Promise<void> {
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 1, { what: "the traffic controller's firehose stream at the router", timeoutMs: 30_000 });
  }

  /** Sends and waits until the router has ingested `total` lines in all. */
  async function send(router: Router, sender: UdpSender, lines: Envelope[], total: number): Promise<void> {
    await sender.sendEnvelopes(lines);
    await waitFor(async () => (await ingested(router)) === total, { what: `${total} lines ingested`, timeoutMs: 30_000 });
  }

  /** The apps' lines in sight, top to bottom (the console's notes and loggregator's own notices, appId "firehose", left out). */
  function appLines(page: ConsolePage): Promise<ShownLine[]> {
    return page.page.$$eval('.log-rows .row:not(.note):not(.notice)', rows =>
      rows.map(row => ({ app: row.querySelector('.line-app')?.textContent ?? '(no app column)', message: row.querySelector('.message')?.textContent ?? '' })),
    );
  }

  async function waitForAppLines(page: ConsolePage, expected: ShownLine[], what: string): Promise<void> {
    let last: ShownLine[] = [];
    await waitFor(
      async () => {
        last = await appLines(page);
        return JSON.stringify(byApp(last)) === JSON.stringify(byApp(expected)) && last.length === expected.length;
      },
      { what, timeoutMs: 30_000, intervalMs: 50 },
    ).catch(err => {
      throw new Error(`${(err as Error).message}\nshown: ${JSON.stringify(last)}\nexpected: ${JSON.stringify(expected)}`);
    });
  }

  it("shows every app's lines with their app ids, each app's in order, as a subscription of the tab's own, and puts the token in no HTTP request", async () => {
    const { router, sender, base } = await setUp();
    const page = await ConsolePage.open(browser.context, base, `#firehose&token=${ADMIN}`);
    await page.waitForStatus(/^live$/);
    // The fragment (with the token) is gone from the address bar.
    expect(page.page.url()).toBe(base);
    expect(await page.page.locator('h1').innerText()).toBe('Firehose (every app)');
    await firehoseStreamOpen(router);

    const lines = interleaved(10);
    lines.splice(7, 0, envelope('app-b', 'app-b cannot reach its database', { messageType: 'ERR', sourceInstance: '1' }));
    await send(router, sender, lines, lines.length);
    await waitForAppLines(page, shown(lines), `${lines.length} lines of three apps`);

    // Each app's lines in the order sent, and every row says whose it is.
    const seen = await appLines(page);
    expect(byApp(seen)).toEqual(byApp(shown(lines)));
    expect(Object.keys(byApp(seen)).sort()).toEqual(APPS);
    const err = page.page.locator('.row', { hasText: 'cannot reach its database' });
    expect(await err.getAttribute('class')).toBe('row err');
    expect(await err.locator('.line-app').innerText()).toBe('app-b');
    expect(await err.locator('.source').innerText()).toBe('[APP/1]');
    // What is shown, downloaded: the apps' lines as sent, each app's in order.
    const downloaded = (await page.download()).filter(e => e.appId !== 'firehose');
    expect(byApp(shown(downloaded))).toEqual(byApp(shown(lines)));
    expect(downloaded).toEqual(expect.arrayContaining(lines));
    expect(downloaded).toHaveLength(lines.length);

    // One websocket: the firehose, as a subscription of this tab's own (so it gets every line).
    const port = new URL(base).port;
    expect(page.websockets).toHaveLength(1);
    const ws = new URL(page.websockets[0]);
    expect(`${ws.protocol}//${ws.host}${ws.pathname}`).toBe(`ws://127.0.0.1:${port}/firehose`);
    expect(ws.searchParams.get('access_token')).toBe(ADMIN);
    expect(ws.searchParams.get('subscription')).toMatch(/^console-[0-9a-f]{16}\.1$/);
    expect(ws.searchParams.get('subscription')).toMatch(SUBSCRIPTION_PATTERN);
    const httpRequests = page.requests.filter(url => url.startsWith('http'));
    expect(httpRequests.length).toBeGreaterThan(0);
    expect(httpRequests.filter(url => url.includes(ADMIN) || url.includes('access_token'))).toEqual([]);
    expect(await page.cspViolations()).toEqual([]);
    expect(page.errors).toEqual([]);
    await page.screenshot('firehose.png');

    // Another tab gets every line too: its subscription is its own, not shared with the first.
    const other = await ConsolePage.open(browser.context, base, `#firehose&token=${NOZZLE}`);
    await other.waitForStatus(/^live$/);
    expect(new URL(other.websockets[0]).searchParams.get('subscription')).not.toBe(ws.searchParams.get('subscription'));
    const more = interleaved(5, 10);
    await send(router, sender, more, lines.length + more.length);
    await waitForAppLines(other, shown(more), 'every line at the second tab');
    await waitForAppLines(page, shown([...lines, ...more]), 'every line at the first tab still');
  });

  it('narrows to one app with the app filter or by the app id as text, for what is shown and what comes; the rate counts every app', async () => {
    const { router, sender, base } = await setUp();
    const page = await ConsolePage.open(browser.context, base, `#firehose&token=${ADMIN}`);
    await page.waitForStatus(/^live$/);
    await firehoseStreamOpen(router);
    const first = interleaved(4);
    await send(router, sender, first, first.length);
    await waitForAppLines(page, shown(first), 'the first lines of three apps');

    // The app filter offers the apps seen.
    const choices = () => page.page.$$eval('select.filter-app option', options => options.map(o => (o as unknown as { value: string }).value).join());
    await waitFor(async () => (await choices()) === ',app-a,app-b,app-c', { what: 'the apps seen offered', timeoutMs: 30_000, intervalMs: 100 });
    await page.page.selectOption('select.filter-app', 'app-b');
    const onlyB = first.filter(e => e.appId === 'app-b');
    await waitForAppLines(page, shown(onlyB), "app-b's lines only");
    // What comes is filtered too.
    const next = interleaved(2, 4);
    await send(router, sender, next, first.length + next.length);
    await waitForAppLines(page, shown([...onlyB, ...next.filter(e => e.appId === 'app-b')]), "app-b's new lines only");
    expect((await appLines(page)).every(l => l.app === 'app-b')).toBe(true);
    await page.page.selectOption('select.filter-app', '');
    await waitForAppLines(page, shown([...first, ...next]), 'every line again');

    // The text filter finds the app id (no message names the app).
    await page.page.fill('input.filter-text', 'APP-C');
    const onlyC = [...first, ...next].filter(e => e.appId === 'app-c');
    await waitForAppLines(page, shown(onlyC), "app-c's lines, found by its id");
    // And still the message: "of A" is in app-a's messages only.
    await page.page.fill('input.filter-text', 'of a');
    await waitForAppLines(page, shown([...first, ...next].filter(e => e.appId === 'app-a')), "app-a's lines, found by their message");
    await page.page.fill('input.filter-text', '');

    // The rate of the last whole second, over every app. Lines keep coming while it is read: a
    // loaded host may take more than a second to get here, and the last whole second would be quiet.
    const rate = page.page.locator('.rate', { hasText: /^[1-9]\d* lines\/s$/ });
    const deadline = Date.now() + 30_000;
    for (let k = 0; !(await rate.isVisible()); k++) {
      if (Date.now() > deadline) throw new Error(`no rate shown in 30 s: ${await page.page.locator('.rate').textContent()}`);
      await sender.sendEnvelopes(APPS.map(app => envelope(app, `tick ${k}`, { timestamp: nsFromMs(Date.now()) })));
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    expect(page.errors).toEqual([]);
  });

  it('refuses a token that may read only an app in words, offered from the app picker, and a bad token as for an app', async () => {
    const { base } = await setUp();
    const page = await ConsolePage.open(browser.context, base, `#token=${ONLY_A}`);
    const entry = page.page.locator('button.open-firehose', { hasText: 'Firehose (every app)' });
    await entry.waitFor({ timeout: 30_000 });
    await page.screenshot('firehose-picker.png');
    await entry.click();
    const refusal = page.page.locator('[role=alert]');
    await refusal.waitFor({ timeout: 30_000 });
    expect(await refusal.innerText()).toMatch(
      /^This token may not read the firehose \(token may not read the firehose \(grant it "firehose" in .*tokens\.json\)\)\s+The firehose \(every app.s lines\) needs a token allowed it: "\*" or "firehose" in the traffic controller.s tokens file/,
    );
    expect(await page.status()).toBe('refused');
    await page.screenshot('firehose-refused.png');
    // Learnt from GET /firehose with the token in the header, not the URL.
    expect(page.requests.filter(url => new URL(url).pathname === '/firehose')).toHaveLength(1);
    expect(page.requests.filter(url => url.includes(ONLY_A))).toEqual([]);
    // The way out: another app (this token's own), or another token.
    await page.page.click('text=Pick another app');
    await page.page.locator('#app-id').waitFor({ timeout: 30_000 });

    const unknown = await ConsolePage.open(await browser.newContext(), base, `#firehose&token=${newToken('unknown')}`);
    const why = unknown.page.locator('[role=alert]');
    await why.waitFor({ timeout: 30_000 });
    expect(await why.innerText()).toMatch(/^Not signed in: the traffic controller refused this token \(unknown or expired token\)\s+Sign in again with a valid token/);
    await unknown.page.click('text=Sign in with another token');
    await unknown.page.locator('#token').waitFor();
  });

  it('says when it is disconnected and that lines meanwhile are not replayed, and is live again as a new subscription', async () => {
    const { router, tc, sender, base } = await setUp();
    const port = tc.address.port;
    const page = await ConsolePage.open(browser.context, base, `#firehose&token=${ADMIN}`);
    await page.waitForStatus(/^live$/);
    await firehoseStreamOpen(router);
    const before = interleaved(3);
    await send(router, sender, before, before.length);
    await waitForAppLines(page, shown(before), 'the lines before');

    await tc.tc.close();
    await page.waitForStatus(/^disconnected: .*; lines meanwhile are not replayed$/);
    await waitFor(async () => (await metricValue(router, 'loggregator_router_firehose_clients')) === 0, { what: "the closed traffic controller's stream gone", timeoutMs: 30_000 });
    const meanwhile = interleaved(2, 3);
    await send(router, sender, meanwhile, before.length + meanwhile.length);
    const again = await startTc(teardown, { routers: [routerInfo('r1', router)], tokens, config: { http: { port } } });
    await page.waitForStatus(/^live again$/);
    await waitFor(async () => (await again.metric('loggregator_tc_firehose_consumers')) === 1, { what: 'the console a consumer again', timeoutMs: 30_000 });
    await firehoseStreamOpen(router);
    const after = interleaved(2, 5);
    await send(router, sender, after, before.length + meanwhile.length + after.length);
    // What was sent while it was away is not shown: the firehose keeps no history.
    await waitForAppLines(page, shown([...before, ...after]), 'the lines before and after, none of those meanwhile');
    const notes = await page.notes();
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^disconnected at \d\d:\d\d:\d\d\.\d{3}: connection closed \(1001 traffic controller shutting down\); reconnecting; lines meanwhile are not replayed$/);
    expect(notes[1]).toMatch(/^live again at \d\d:\d\d:\d\d\.\d{3}; lines sent while disconnected are not shown$/);
    // Each connection (attempts that failed too) a subscription of its own on the tab's id.
    const subscriptions = page.websockets.map(url => new URL(url).searchParams.get('subscription') ?? '');
    expect(subscriptions.length).toBeGreaterThanOrEqual(2);
    expect(subscriptions[0]).toMatch(/^console-[0-9a-f]{16}\.1$/);
    const id = subscriptions[0].replace(/\.1$/, '');
    const numbers = subscriptions.map(s => (s.startsWith(`${id}.`) ? Number(s.slice(id.length + 1)) : NaN));
    expect(numbers.every((n, k) => k === 0 || n > numbers[k - 1])).toBe(true);
    await page.screenshot('firehose-reconnected.png');
    // The browser logs each attempt made while the traffic controller was down as a console
    // error (connection refused, and the check's answer); the page itself threw nothing.
    expect(page.errors.filter(e => e.startsWith('pageerror'))).toEqual([]);
  });
});
