// What the process's worker threads (a router's workers, serve's traffic controller) share:
// their logs go through the process's logger, and their scripts come from the build.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MessagePort } from 'node:worker_threads';
import winston from 'winston';
import { Logger } from './logger';

/** A log entry a worker thread sends to the thread that started it. */
export interface ForwardedLog {
  readonly kind: 'log';
  readonly entry: Record<string, unknown>;
}

/**
 * A worker thread's logger: its entries go to the parent thread (logForwarded), whose logger
 * writes them, so they go where the process's log goes and its level decides (`level` is it).
 */
export function forwardingLogger(port: MessagePort, level: string, meta: Record<string, unknown>): Logger {
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _encoding, done) {
      port.postMessage({ kind: 'log', entry: { ...info } } satisfies ForwardedLog);
      done();
    },
  });
  return winston.createLogger({ level, transports: [new winston.transports.Stream({ stream })] }).child(meta);
}

/** Writes an entry a worker thread's forwardingLogger sent. */
export function logForwarded(logger: Logger, message: ForwardedLog): void {
  const { level, message: text, ...meta } = message.entry;
  logger.log(String(level), String(text), meta);
}

/**
 * A worker thread's script: `name` beside the calling module when running the build; from the
 * TypeScript sources (the specs), the build's copy, which `npm test` makes first.
 */
export function workerScript(dirname: string, filename: string, name: string): string {
  if (!filename.endsWith('.ts')) return path.join(dirname, `${name}.js`);
  // From the sources this file is src/workerThreads.ts: the project's root is one folder up.
  const root = path.resolve(__dirname, '..');
  const built = path.join(root, 'dist', path.relative(root, dirname), `${name}.js`);
  if (!existsSync(built)) throw new Error(`worker threads run ${built}, which is missing: run npm run build first`);
  return built;
}
