// A file watch that ends leaves nothing behind that holds the process open: a router, agent or
// traffic controller that closes exits at once, not when chokidar's timers run out.
import { createHook } from 'node:async_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subscription } from 'rxjs';
import { createLogger } from '../../../src/logger';
import { watchedFileEvents } from '../../../src/files/watchedFile';
import { waitFor } from '../../support/waitFor';

describe('watchedFileEvents', () => {
  it('leaves no timer of chokidar running when unsubscribed while the directory is being read', async () => {
    // chokidar throttles a directory's reads for a second and ends the throttle when the read
    // is done; the watch here ends in the middle of the first read.
    const chokidarTimers = new Set<number>();
    let subscription: Subscription | undefined;
    let seen = 0;
    const hook = createHook({
      init(id, type) {
        if (type !== 'Timeout' || !/node_modules[\\/]chokidar[\\/]/.test(new Error().stack ?? '')) return;
        chokidarTimers.add(id);
        if (seen++ === 0) process.nextTick(() => subscription?.unsubscribe());
      },
      destroy(id) {
        chokidarTimers.delete(id);
      },
    }).enable();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'lgr-watched-'));
      subscription = watchedFileEvents(join(dir, 'instances.json'), createLogger('error', 'test')).subscribe();
      await waitFor(() => seen > 0 && subscription?.closed, { timeoutMs: 5000, what: "chokidar's throttle of the directory read, then the unsubscription" });
      // A cleared timer is destroyed on a later turn of the loop; a running one after a second.
      await new Promise(resolve => setTimeout(resolve, 100));
      expect(chokidarTimers.size).toBe(0);
    } finally {
      subscription?.unsubscribe();
      hook.disable();
    }
  });
});
