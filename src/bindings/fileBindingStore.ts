import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { lock } from 'proper-lockfile';
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
/** A change waits this long at most for another process's change to finish (250 tries, 20 ms apart). */
const LOCK_RETRIES = { retries: 250, factor: 1, minTimeout: 20, maxTimeout: 20 };
/**
 * A lock not refreshed for this long is from a process that died mid-change: it is taken over.
 * The holder refreshes it every half of this, so a slow change is never taken over.
 */
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
    const lockPath = `${this.path}.lock`;
    let release: () => Promise<void>;
    try {
      // proper-lockfile: an atomic mkdir as the lock, refreshed while held, taken over when stale.
      // A hand-made "create, and remove if old" lock let two processes that both found it stale
      // each remove the other's new lock and both change the file.
      release = await lock(this.path, {
        lockfilePath: lockPath,
        realpath: false,
        stale: LOCK_STALE_MS,
        update: LOCK_STALE_MS / 2,
        retries: LOCK_RETRIES,
        // The lock was taken over (this process stalled past the stale time): the change is still
        // one atomic rename; reported rather than thrown from a timer, which would end the process.
        onCompromised: err => this.logger.warn('the bindings.json lock was taken over while held; a concurrent change may be lost', { error: err.message }),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      throw new Error(`${lockPath}: another change holds it (waited 5 s); remove it if no loggregator command is running`);
    }
    try {
      return await work();
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async write(items: readonly unknown[]): Promise<void> {
    await mkdir(resolve(this.path, '..'), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, formatBindingsFile(items), { mode: 0o600 });
    await rename(temp, this.path);
  }
}
