import { AddressInfo } from 'node:net';
import { Config } from '../config/loadConfig';
import { createLogger } from '../logger';
import { startRouter } from '../router/router';

function hostPort(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** `loggregator serve`: a router until SIGTERM/SIGINT, then a bounded clean shutdown (exit 0). */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'router');
  let router;
  try {
    router = await startRouter(config, logger);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? ': the port is taken; set another in the config or with LOGGREGATOR_ROUTER_*_PORT' : '';
    logger.error(`cannot start the router: ${e.message}${hint}`);
    process.exitCode = 1;
    return;
  }
  const started = router;
  logger.info('router listening', {
    udp: hostPort(started.udpAddress),
    http: `http://${hostPort(started.httpAddress)}`,
    signed: config.sharedSecret !== null,
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.warn('shutdown took too long; exiting anyway', { seconds: config.router.shutdownSeconds });
      process.exit(0);
    }, config.router.shutdownSeconds * 1000);
    deadline.unref();
    started.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      err => {
        logger.error('error while shutting down', { error: String(err) });
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
