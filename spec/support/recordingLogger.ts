// A real winston logger whose records land in an array, for specs that check what was logged
// (and what was not: a token, a credential).
import { Writable } from 'node:stream';
import winston from 'winston';
import { Logger } from '../../src/logger';

export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly [meta: string]: unknown;
}

export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      records.push(JSON.parse(chunk.toString()) as LogRecord);
      callback();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, records };
}
