// FileBindingStore: <dataDir>/bindings.json, watched with chokidar (its directory), on real files.
//
//   file:      (none) ── written ── renamed over ── "not JSON" ── fixed ── deleted
//   events():  s{} ───── s{A} ───── s{A,B} ──────── (onUnusable) ─ s{C} ─── s{}
//
// A file that cannot be used changes nothing (no event: the last good set stays in effect) and
// is reported through onUnusable, naming the file. bind/unbind rewrite the file atomically
// (temporary file + rename), mode 0600.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subscription } from 'rxjs';
import { formatBindingsFile } from '../../../src/bindings/bindingsFile';
import { FileBindingStore } from '../../../src/bindings/fileBindingStore';
import { createLogger } from '../../../src/logger';
import { bindingIdOf } from '../../../streams/binding';
import { BindingStoreEvent } from '../../../streams/bindingSets';
import { waitFor } from '../../support/waitFor';

jest.setTimeout(30_000);

const SOON = { timeoutMs: 10_000 };
const TCP = 'syslog://127.0.0.1:5140';
const TLS = 'syslog-tls://logs.example.com:6514';
const HTTPS = 'https://user:secret@logs.example.com/drain?token=abc';

const entryOf = (appId: string, url: string) => ({ key: `${appId}/${bindingIdOf(url)}`, value: JSON.stringify({ url }) });
const fileOf = (...bindings: { app: string; url: string }[]) => JSON.stringify({ bindings });

describe('FileBindingStore', () => {
  let dir: string;
  let path: string;
  let subscriptions: Subscription[] = [];
  const logger = createLogger('error', 'spec');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lgr-bindings-'));
    path = join(dir, 'bindings.json');
  });
  afterEach(() => {
    subscriptions.forEach(s => s.unsubscribe());
    subscriptions = [];
    rmSync(dir, { recursive: true, force: true });
  });

  function watch(store: FileBindingStore) {
    const seen = { events: [] as BindingStoreEvent[], error: undefined as unknown };
    subscriptions.push(store.events().subscribe({ next: e => seen.events.push(e), error: err => (seen.error = err) }));
    return seen;
  }

  /** Writes a whole file the way an editor or deploy tool replaces one: temporary file, then rename. */
  function replaceFile(text: string): void {
    writeFileSync(`${path}.new`, text);
    renameSync(`${path}.new`, path);
  }

  describe('events()', () => {
    it('follows the file: missing, written, renamed over, deleted', async () => {
      const unusable: string[] = [];
      const store = new FileBindingStore(dir, logger, reason => unusable.push(reason));
      const seen = watch(store);
      await waitFor(() => seen.events.length === 1, { ...SOON, what: 'the first snapshot' });
      expect(seen.events[0]).toEqual({ kind: 'snapshot', entries: [] });

      writeFileSync(path, fileOf({ app: 'app-a', url: TCP }));
      await waitFor(() => seen.events.length === 2, { ...SOON, what: 'the written file' });
      expect(seen.events[1]).toEqual({ kind: 'snapshot', entries: [entryOf('app-a', TCP)], invalid: [] });

      replaceFile(fileOf({ app: 'app-a', url: TCP }, { app: 'app-b', url: TLS }));
      await waitFor(() => seen.events.length === 3, { ...SOON, what: 'the file renamed over it' });
      expect(seen.events[2]).toEqual({ kind: 'snapshot', entries: [entryOf('app-a', TCP), entryOf('app-b', TLS)], invalid: [] });

      unlinkSync(path);
      await waitFor(() => seen.events.length === 4, { ...SOON, what: 'the deleted file' });
      expect(seen.events[3]).toEqual({ kind: 'snapshot', entries: [] });
      expect(unusable).toEqual([]);
      expect(seen.error).toBeUndefined();
    });

    it('reports a file that is not JSON, or not the right shape, naming the file, and emits nothing until it is fixed', async () => {
      const unusable: string[] = [];
      const store = new FileBindingStore(dir, logger, reason => unusable.push(reason));
      writeFileSync(path, fileOf({ app: 'app-a', url: TCP }));
      const seen = watch(store);
      await waitFor(() => seen.events.length === 1, { ...SOON, what: 'the first snapshot' });
      expect(seen.events[0]).toEqual({ kind: 'snapshot', entries: [entryOf('app-a', TCP)], invalid: [] });

      replaceFile('{"bindings": [ {"app": "app-a", "url": ');
      await waitFor(() => unusable.length === 1, { ...SOON, what: 'onUnusable for a file that is not JSON' });
      // Reported in place of an event: the last good set stays in effect.
      expect(seen.events).toHaveLength(1);
      expect(unusable[0]).toMatch(new RegExp(`^${escape(path)}: not JSON \\(.+\\); the last good bindings stay in effect$`));

      replaceFile('{"bindings": {"app": "app-a"}}');
      await waitFor(() => unusable.length === 2, { ...SOON, what: 'onUnusable for a file of the wrong shape' });
      expect(seen.events).toHaveLength(1);
      expect(unusable[1]).toBe(`${path}: expected {"bindings": [{"app": "APP", "url": "syslog://host:port"}, …]}; the last good bindings stay in effect`);

      replaceFile(fileOf({ app: 'app-c', url: HTTPS }));
      await waitFor(() => seen.events.length === 2, { ...SOON, what: 'the fixed file' });
      expect(seen.events[1]).toEqual({ kind: 'snapshot', entries: [entryOf('app-c', HTTPS)], invalid: [] });
      expect(unusable).toHaveLength(2);
      expect(seen.error).toBeUndefined();
    });

    it('reports items that are not {app, url} strings by position, keeping the others', async () => {
      const store = new FileBindingStore(dir, logger);
      writeFileSync(path, JSON.stringify({ bindings: [{ app: 'app-a', url: TCP }, 'syslog://x', { app: 'app-b' }, { app: 'app-b', url: 7 }, { app: 'app-b', url: TLS }] }));
      const seen = watch(store);
      await waitFor(() => seen.events.length === 1, { ...SOON, what: 'the first snapshot' });
      const reason = 'expected {"app": "APP", "url": "…"} with two strings';
      expect(seen.events[0]).toEqual({
        kind: 'snapshot',
        entries: [entryOf('app-a', TCP), entryOf('app-b', TLS)],
        invalid: [
          { key: 'bindings[1]', reason },
          { key: 'bindings[2]', reason },
          { key: 'bindings[3]', reason },
        ],
      });
    });

    it('picks up the changes bind and unbind make', async () => {
      const store = new FileBindingStore(dir, logger);
      const seen = watch(store);
      await waitFor(() => seen.events.length === 1, { ...SOON, what: 'the first snapshot' });
      await store.bind('app-a', TCP);
      await waitFor(() => seen.events.length === 2, { ...SOON, what: 'the bound file' });
      expect(seen.events[1]).toEqual({ kind: 'snapshot', entries: [entryOf('app-a', TCP)], invalid: [] });
      await store.unbind('app-a', TCP);
      await waitFor(() => seen.events.length === 3, { ...SOON, what: 'the unbound file' });
      expect(seen.events[2]).toEqual({ kind: 'snapshot', entries: [], invalid: [] });
    });
  });

  describe('bind, unbind, list', () => {
    it('binds once, unbinds once, and lists by app', async () => {
      const store = new FileBindingStore(dir, logger);
      expect(await store.list()).toEqual([]);
      expect(await store.bind('web', TCP)).toBe(true);
      expect(await store.bind('web', TCP)).toBe(false);
      expect(await store.bind('web', HTTPS)).toBe(true);
      expect(await store.bind('web2', TLS)).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe(
        formatBindingsFile([
          { app: 'web', url: TCP },
          { app: 'web', url: HTTPS },
          { app: 'web2', url: TLS },
        ]),
      );
      expect(await store.list('web')).toEqual([
        { appId: 'web', url: TCP },
        { appId: 'web', url: HTTPS },
      ]);
      expect(await store.list('web2')).toEqual([{ appId: 'web2', url: TLS }]);
      expect(await store.list('nobody')).toEqual([]);
      expect(await store.list()).toHaveLength(3);

      expect(await store.unbind('web', TCP)).toBe(true);
      expect(await store.unbind('web', TCP)).toBe(false);
      expect(await store.unbind('nobody', TLS)).toBe(false);
      expect(await store.list()).toEqual([
        { appId: 'web', url: HTTPS },
        { appId: 'web2', url: TLS },
      ]);
    });

    it('treats the same drain spelled another way as already bound', async () => {
      const store = new FileBindingStore(dir, logger);
      expect(await store.bind('web', 'syslog://LOGS.example.com')).toBe(true);
      // The router runs them as one drain (one binding key), so the file should not hold both.
      expect(await store.bind('web', 'syslog://logs.example.com:514')).toBe(false);
      expect(await store.list('web')).toHaveLength(1);
    });

    it('unbinds a drain by any spelling of its URL, as the router identifies it', async () => {
      const store = new FileBindingStore(dir, logger);
      expect(await store.bind('web', 'syslog://LOGS.example.com')).toBe(true);
      // The etcd store finds it by its binding id (the canonical URL's digest); so should this one.
      expect(await store.unbind('web', 'syslog://logs.example.com:514')).toBe(true);
      expect(await store.list('web')).toEqual([]);
    });

    it('writes the file whole and 0600, leaving no temporary file, even over a file that was 0644', async () => {
      writeFileSync(path, fileOf({ app: 'web', url: TCP }));
      chmodSync(path, 0o644);
      const store = new FileBindingStore(dir, logger);
      // A reader polling the file while it is rewritten sees either the old or the new whole file.
      let reading = true;
      const reads: string[] = [];
      const reader = (async () => {
        for (let i = 0; reading && i < 100_000; i++) {
          reads.push(await readFile(path, 'utf8'));
        }
      })();
      try {
        for (let i = 0; i < 20; i++) expect(await store.bind('web', `syslog://10.0.0.${i}:514`)).toBe(true);
      } finally {
        reading = false;
        await reader;
      }
      const counts = new Set(reads.map(text => (JSON.parse(text) as { bindings: unknown[] }).bindings.length));
      expect(reads.length).toBeGreaterThan(0);
      expect([...counts].every(n => n >= 1 && n <= 21)).toBe(true);
      expect(readdirSync(dir)).toEqual(['bindings.json']);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect((JSON.parse(readFileSync(path, 'utf8')) as { bindings: unknown[] }).bindings).toHaveLength(21);
    });

    it('keeps both of two binds made at the same time', async () => {
      const store = new FileBindingStore(dir, logger);
      const results = await Promise.allSettled([store.bind('web', TCP), store.bind('web', TLS)]);
      expect(results).toEqual([
        { status: 'fulfilled', value: true },
        { status: 'fulfilled', value: true },
      ]);
      expect((await store.list('web')).map(b => b.url).sort()).toEqual([TLS, TCP]);
      expect(readdirSync(dir)).toEqual(['bindings.json']);
    });

    it('keeps every bind of two processes binding at once (each store has its own queue: only the lock keeps them apart)', async () => {
      const [one, two] = [new FileBindingStore(dir, logger), new FileBindingStore(dir, logger)];
      const urls = (n: number) => Array.from({ length: 15 }, (_, i) => `syslog://drain-${n}-${i}.example.com:514`);
      const results = await Promise.all([...urls(1).map(u => one.bind('web', u)), ...urls(2).map(u => two.bind('web', u))]);
      expect(results.every(Boolean)).toBe(true);
      expect((await one.list('web')).map(b => b.url).sort()).toEqual([...urls(1), ...urls(2)].sort());
      expect(readdirSync(dir)).toEqual(['bindings.json']);
    });

    it('takes over a lock left by a process that died mid-change, and waits for, then names, a fresh one', async () => {
      const store = new FileBindingStore(dir, logger);
      // A lock as proper-lockfile makes it (a directory), last refreshed 11 s ago: its holder is gone.
      mkdirSync(`${path}.lock`);
      const old = new Date(Date.now() - 11_000);
      utimesSync(`${path}.lock`, old, old);
      expect(await store.bind('web', TCP)).toBe(true);
      expect(readdirSync(dir)).toEqual(['bindings.json']);

      // A fresh lock (another change under way) is waited for, then reported, naming it.
      mkdirSync(`${path}.lock`);
      await expect(store.bind('web', TLS)).rejects.toThrow(`${path}.lock: another change holds it (waited 5 s); remove it if no loggregator command is running`);
      expect((await store.list('web')).map(b => b.url)).toEqual([TCP]);
    });

    it('makes the data directory when it does not exist yet', async () => {
      const store = new FileBindingStore(join(dir, 'new', 'data'), logger);
      expect(await store.bind('web', TCP)).toBe(true);
      expect(readFileSync(join(dir, 'new', 'data', 'bindings.json'), 'utf8')).toBe(formatBindingsFile([{ app: 'web', url: TCP }]));
    });

    it('refuses an invalid drain URL or app id with the reason, and writes nothing', async () => {
      const store = new FileBindingStore(dir, logger);
      await expect(store.bind('web', 'ftp://x')).rejects.toThrow(new Error('url: unsupported scheme "ftp" (use syslog://, syslog-tls:// or https://) (ftp://x)'));
      await expect(store.bind('web', 'syslog://')).rejects.toThrow(new Error('url: missing host (syslog://)'));
      await expect(store.bind('web', 'not a url')).rejects.toThrow(new Error('url: not a URL ((unparseable))'));
      await expect(store.bind('-web', TCP)).rejects.toThrow(/^key: not <appId>\/<bindingId> with a valid app id/);
      expect(existsSync(path)).toBe(false);
    });

    it('refuses to change or list a file it cannot use, and leaves it as it is', async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path, 'not json');
      const store = new FileBindingStore(dir, logger);
      const reason = `${path}: not JSON`;
      await expect(store.list()).rejects.toThrow(reason);
      await expect(store.bind('web', TCP)).rejects.toThrow(/fix or remove it first$/);
      await expect(store.unbind('web', TCP)).rejects.toThrow(/fix or remove it first$/);
      expect(readFileSync(path, 'utf8')).toBe('not json');
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
