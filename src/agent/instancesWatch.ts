import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { watch } from 'chokidar';
import { Observable, first, from, switchMap, timer } from 'rxjs';
import { FileEvent } from '../../streams/instanceSets';
import { Logger } from '../logger';

/**
 * instances.json as a stream of file events, from chokidar: created (also after the agent
 * started), changed in place, replaced by rename (chokidar's atomic-write handling reports it as
 * a change), deleted. The file's state at subscription is the first event. Watching stops on
 * unsubscribe.
 */
export function instancesFileEvents(path: string, logger: Logger): Observable<FileEvent> {
  // chokidar cannot watch a file whose directory does not exist yet: wait for the directory.
  const dir = dirname(path);
  if (!existsSync(dir)) {
    logger.warn('the directory of instances.json does not exist yet; checking every second', { dir });
    return timer(1000, 1000).pipe(
      first(() => existsSync(dir)),
      switchMap(() => watchFile(path, logger)),
    );
  }
  return watchFile(path, logger);
}

function watchFile(path: string, logger: Logger): Observable<FileEvent> {
  return new Observable<FileEvent>(subscriber => {
    const watcher = watch(path, { persistent: true, ignoreInitial: false, atomic: true });
    watcher.on('add', () => subscriber.next('changed'));
    watcher.on('change', () => subscriber.next('changed'));
    watcher.on('unlink', () => subscriber.next('deleted'));
    // A watcher error (e.g. a permission change) is logged; the last known set keeps running.
    watcher.on('error', err => logger.error('watching instances.json failed', { path, error: String(err) }));
    return () => {
      void watcher.close();
    };
  });
}

/** The file's text, or null if it does not exist. */
export function readInstancesFile(path: string): Observable<string | null> {
  return from(
    readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    }),
  );
}
