import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Observable, catchError, debounceTime, filter, map, of, switchMap } from 'rxjs';
import { parseStoreEntry } from '../../streams/binding';
import { BindingStoreEvent } from '../../streams/bindingSets';
import { readTextFile, watchedFileEvents } from '../files/watchedFile';
import { Logger } from '../logger';
import { BindingStore, ListedBinding } from './bindingStore';
import { bindingsFileItems, formatBindingsFile, isFileBinding, parseBindingsFile } from './bindingsFile';

/** Quiet time after a change before the file is read: an editor's save is several writes. */
const SETTLE_MS = 100;

/**
 * bindings.json in the data directory, watched with chokidar. A file that cannot be used as a
 * whole (not JSON, wrong shape, unreadable) is reported through `onUnusable` and changes
 * nothing: the last good set stays in effect until the file is fixed. The CLI's changes are
 * written to a temporary file and renamed over it, so the router never reads half a file.
 */
export class FileBindingStore implements BindingStore {
  readonly path: string;
  readonly description: string;

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

  async bind(appId: string, url: string): Promise<boolean> {
    const items = await this.items();
    if (items.some(b => isFileBinding(b) && b.app === appId && b.url === url)) return false;
    // The same checks the router makes, so the CLI refuses what the router would ignore.
    const check = parseStoreEntry({ key: `${appId}/x`, value: JSON.stringify({ url }) });
    if (!check.ok) throw new Error(check.reason);
    await this.write([...items, { app: appId, url }]);
    return true;
  }

  async unbind(appId: string, url: string): Promise<boolean> {
    const items = await this.items();
    const kept = items.filter(b => !(isFileBinding(b) && b.app === appId && b.url === url));
    if (kept.length === items.length) return false;
    await this.write(kept);
    return true;
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

  private async write(items: readonly unknown[]): Promise<void> {
    await mkdir(resolve(this.path, '..'), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, formatBindingsFile(items), { mode: 0o600 });
    await rename(temp, this.path);
  }
}
