// Real headless Chromium for the web console's specs: Debian's `chromium` (ensurePeers.sh installs
// it), driven by playwright-core, with the flags a CI machine without a display or a sandbox needs
// and none of the browser's own calls home. Launched as a server so that its PID is known: a
// watchdog kills it if the test process dies, and close() ends it by that PID if it lingers.
import { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, BrowserServer, chromium } from 'playwright-core';
import { PROJECT_ROOT } from './childProcess';
import { watchdogForPid } from './peerProcess';
import type { Teardown } from './teardown';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Where the console specs leave their screenshots for review (gitignored). */
export const SPEC_OUTPUT_DIR = join(PROJECT_ROOT, '.tmp', 'console-spec');

export class HeadlessChromium {
  private constructor(
    private readonly server: BrowserServer,
    readonly browser: Browser,
    private readonly watch: ChildProcess,
  ) {}

  static async launch(): Promise<HeadlessChromium> {
    const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
    const pid = server.process().pid as number;
    const watch = watchdogForPid('chromium', pid, undefined);
    try {
      return new HeadlessChromium(server, await chromium.connect(server.wsEndpoint()), watch);
    } catch (err) {
      await server.close().catch(() => undefined);
      throw err;
    }
  }

  /** A context of its own (sessionStorage, downloads) with a laptop-sized window. */
  newContext(): Promise<BrowserContext> {
    return this.browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.server.close().catch(() => undefined);
    const pid = this.server.process().pid;
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL'); // still there after close: by its PID
    } catch {
      // gone, as it should be
    }
    this.watch.kill();
  }
}

/** A spec file's browser, from {@link browserPerTest}. */
export interface SpecBrowser {
  /** The current test's context. */
  readonly context: BrowserContext;
  /** Another context for the current test (a second visitor), closed with the test's teardown. */
  newContext(): Promise<BrowserContext>;
}

/**
 * Registers, in the calling describe, one Chromium for the spec file and a fresh context for each
 * test (its own sessionStorage and downloads), closed after the test, before `teardown` closes
 * what the test started.
 */
export function browserPerTest(teardown: Teardown): SpecBrowser {
  let chromium: HeadlessChromium | undefined;
  let context: BrowserContext | undefined;
  const launched = () => {
    if (!chromium) throw new Error('Chromium is not launched: use the browser inside a test');
    return chromium;
  };
  beforeAll(async () => {
    chromium = await HeadlessChromium.launch();
  });
  afterAll(() => chromium?.close());
  beforeEach(async () => {
    context = await launched().newContext();
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await teardown.run();
  });
  return {
    get context() {
      if (!context) throw new Error('no browser context: use it inside a test');
      return context;
    },
    newContext: async () => teardown.add(await launched().newContext(), other => other.close()),
  };
}

export function specOutputPath(name: string): string {
  mkdirSync(SPEC_OUTPUT_DIR, { recursive: true });
  return join(SPEC_OUTPUT_DIR, name);
}
