import winston from 'winston';

export type Logger = winston.Logger;

/** JSON lines on stderr (stdout stays free for a command's own output). */
export function createLogger(level: string, component: string): Logger {
  // component as child metadata, not defaultMeta: defaultMeta would override a child's own.
  return winston
    .createLogger({
      level,
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
    })
    .child({ component });
}
