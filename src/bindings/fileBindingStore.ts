import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Observable, catchError, debounceTime, filter, map, of, switchMap } from 'rxjs';
import { bindingIdOf, parseStoreEntry } from '../../streams/binding';
import { BindingStoreEvent } from '../../streams/bindingSets';
import { readTextFile, watchedFileEvents } from '../files/watchedFile';
import { Logger } from '../logger';
import { BindingStore, ListedBinding } from './bindingStore';
import { bindingsFileItems, formatBindingsFile, isFileBinding, parseBindingsFile } from './bindingsFile';

/** Quiet time after a change before the file is read: an editor's save is several writes. */
const SETTLE_MS = 100;
/** A change waits this long at most for another process's change to finish. */
const LOCK_WAIT_MS = 5000;
/** A lock file older than this is from a process that died mid-change: it is taken over. */
const LOCK_STALE_MS = 10_000;

/**
 * bindings.json in the data directory, watched with chokidar. A file that cannot be used as a
 * whole (not JSON, wrong shape, unreadable) is reported through `onUnusable` and changes
 * nothing: the last good set stays in effect until the file is fixed. The CLI's changes are
 * written to a temporary file and renamed over it, so the router never reads half a file, and
 * made one at a time (in this process by a queue, across processes by bindings.json.lock), so
 * two `bind`s at once both stay. URLs are compared in canonical form, as the router does.
 */
export class FileBindingStore implements BindingStore {
  readonly path: string;
  readonly description: string;
  private changes: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly logger: Logger,
    private readonly onUnusable: (reason: string) => void = () => undefined,
  ) {
    this.path = join(resolve(dataDir), 'bindings.json');
    this.description = `file ${this.path}`;
  }

  events(): Observable<BindingStoreEvent> {
    return watchedFileEvents(this.path, this.logger).pipe(
      debounceTime(SETTLE_MS),
      switchMap(() =>
        readTextFile(this.path).pipe(
          map(text => parseBindingsFile(text)),
          catchError((err: NodeJS.ErrnoException) => of({ ok: false as const, reason: `cannot read it (${err.code ?? err.message})` })),
        ),
      ),
      map(parsed => {
        if (parsed.ok) return parsed.event;
        this.onUnusable(`${this.path}: ${parsed.reason}; the last good bindings stay in effect`);
        return undefined;
      }),
      filter((event): event is BindingStoreEvent => event !== undefined),
    );
  }

  async list(appId?: string): Promise<ListedBinding[]> {
    const items = await this.items();
    return items.filter(isFileBinding).filter(b => appId === undefined || b.app === appId).map(b => ({ appId: b.app, url: b.url }));
  }

  bind(appId: string, url: string): Promise<boolean> {
    return this.change(async () => {
      const items = await this.items();
      const id = bindingIdOf(url);
      if (items.some(b => isFileBinding(b) && b.app === appId && bindingIdOf(b.url) === id)) return false;
      // The same checks the router makes, so the CLI refuses what the router would ignore.
      const check = parseStoreEntry({ key: `${appId}/x`, value: JSON.stringify({ url }) });
      if (!check.ok) throw new Error(check.reason);
      await this.write([...items, { app: appId, url }]);
      return true;
    });
  }

  unbind(appId: string, url: string): Promise<boolean> {
    return this.change(async () => {
      const items = await this.items();
      const id = bindingIdOf(url);
      const kept = items.filter(b => !(isFileBinding(b) && b.app === appId && bindingIdOf(b.url) === id));
      if (kept.length === items.length) return false;
      await this.write(kept);
      return true;
    });
  }

  async close(): Promise<void> {}

  private async items(): Promise<unknown[]> {
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    const parsed = bindingsFileItems(text);
    if (!parsed.ok) throw new Error(`${this.path}: ${parsed.reason}; fix or remove it first`);
    return parsed.items;
  }

  /** One change at a time: queued in this process, locked across processes. */
  private change<T>(work: () => Promise<T>): Promise<T> {
    const result = this.changes.then(() => this.locked(work));
    this.changes = result.catch(() => undefined);
    return result;
  }

  private async locked<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(resolve(this.path, '..'), { recursive: true });
    const lock = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lock).then(s => Date.now() - s.mtimeMs, () => 0);
        if (age > LOCK_STALE_MS) await unlink(lock).catch(() => undefined);
        else if (Date.now() > deadline) throw new Error(`${lock}: another change has held it for ${Math.round(age / 1000)} s; remove it if no loggregator command is running`);
        else await new Promise(r => setTimeout(r, 20));
      }
    }
    try {
      return await work();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  private async write(items: readonly unknown[]): Promise<void> {
    await mkdir(resolve(this.path, '..'), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, formatBindingsFile(items), { mode: 0o600 });
    await rename(temp, this.path);
  }
}
