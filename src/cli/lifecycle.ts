import { Logger } from '../logger';

export interface Component {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * Runs started components until SIGTERM/SIGINT, then closes them (all at once) and exits 0;
 * a shutdown that takes longer than `shutdownSeconds` exits anyway. A second signal exits at once.
 */
export function runUntilSignalled(components: readonly Component[], logger: Logger, shutdownSeconds: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.warn('shutdown took too long; exiting anyway', { seconds: shutdownSeconds });
      process.exit(0);
    }, shutdownSeconds * 1000).unref();
    // All at once: each has its own bounded close (clients' grace, drains' flush), and one
    // after another they would not fit in shutdownSeconds together.
    void Promise.all(
      components.map(c =>
        c.close().catch(err => logger.error(`error while stopping the ${c.name}`, { error: String(err) })),
      ),
    ).then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** A start failure, said plainly, with a hint for the usual cause. */
export function describeStartError(what: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'EADDRINUSE' ? ': the port is taken; set another in the config or its LOGGREGATOR_*_PORT variable' : '';
  return `cannot start the ${what}: ${e.message}${hint}`;
}
