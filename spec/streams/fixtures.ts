// Small builders shared by the streams specs: envelopes and log lines with readable defaults.
import { TestScheduler } from 'rxjs/testing';
import { Envelope } from '../../src/envelope/envelope';
import { LogLine } from '../../streams/logLine';

export function envelope(overrides: Partial<Envelope> = {}): Envelope {
  return {
    appId: 'app-a',
    sourceType: 'APP',
    sourceInstance: '0',
    messageType: 'OUT',
    timestamp: '1700000000000000000',
    message: 'hello',
    ...overrides,
  };
}

/** A line as a router's ingest would number it. */
export function line(seq: number, appId = 'app-a', message = `line ${seq}`): LogLine {
  return new LogLine(seq, envelope({ appId, message }));
}

/** Marble values are compared with Jest's deep equality, so failures print a readable diff. */
export function newTestScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}
