import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { FSWatcher, watch } from 'chokidar';
import { Observable, first, from, switchMap, timer } from 'rxjs';
import { FileEvent } from '../../streams/instanceSets';
import { Logger } from '../logger';

/**
 * A file (instances.json, bindings.json) as a stream of "look again" events, from chokidar
 * watching its *directory*: created (also after the watch started), changed in place, replaced by rename, deleted. The
 * directory, not the file: a file watch follows one inode and is lost when renames replace
 * the file in quick succession, and chokidar throttles a file's change events (50 ms, no
 * trailing event), which would lose the last write of a burst. Its unthrottled raw events of
 * the directory are used instead, filtered to the file's name; whether the file is there is
 * for the read to find out (a missing file is the empty set). The first event comes at
 * subscription. Watching stops on unsubscribe.
 */
export function watchedFileEvents(path: string, logger: Logger): Observable<FileEvent> {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) {
    // Nothing can watch a directory that does not exist yet: wait for it.
    logger.warn(`the directory of ${basename(path)} does not exist yet; checking every second`, { dir });
    return timer(1000, 1000).pipe(
      first(() => existsSync(dir)),
      switchMap(() => watchDirectory(dir, basename(path), logger)),
    );
  }
  return watchDirectory(dir, basename(path), logger);
}

function watchDirectory(dir: string, name: string, logger: Logger): Observable<FileEvent> {
  return new Observable<FileEvent>(subscriber => {
    const watcher = watch(dir, { persistent: true, ignoreInitial: true, depth: 0 });
    watcher.on('raw', (_event, file, details) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (file === name && watched !== undefined && resolve(watched) === dir) subscriber.next('changed');
    });
    // A watcher error (e.g. a permission change) is logged; the last known set keeps running.
    watcher.on('error', err => logger.error(`watching ${name} failed`, { dir, error: String(err) }));
    subscriber.next('changed');
    return () => {
      endThrottleTimers(watcher);
      void watcher.close();
    };
  });
}

/**
 * chokidar throttles a directory's reads (1 s, ended when the read is done) and its files'
 * events; close() during a read forgets the throttle but leaves its timer running, so a process
 * that stops its watches stays up to a second longer than it should. End them with the watch;
 * once close() has begun chokidar sets no new ones.
 */
function endThrottleTimers(watcher: FSWatcher): void {
  const throttled = (watcher as unknown as { _throttled?: unknown })._throttled;
  if (!(throttled instanceof Map)) return;
  for (const byPath of throttled.values()) {
    if (!(byPath instanceof Map)) continue;
    for (const throttle of byPath.values()) (throttle as { clear?: () => unknown }).clear?.();
  }
}

/** The file's text, or null if it does not exist. */
export function readTextFile(path: string): Observable<string | null> {
  return from(
    readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    }),
  );
}
