// What the console reads from a tail frame, and writes back out (NDJSON download):
//
//   '{"appId":"a",…,"message":"hi"}'  ──decodeTailFrame──▶  TailLine  ──ndjson──▶  the same JSON + "\n"
//   'not json', '{"messageType":"DEBUG",…}', '[]'  ──▶  undefined (skipped)
import { TailLine, decodeTailFrame, ndjson, timeOfDay, timestampMs } from '../../../src/console/tailLine';

const line: TailLine = { appId: 'app-a', sourceType: 'APP', sourceInstance: '0', messageType: 'ERR', timestamp: '1700000000123456789', message: 'boom <b>' };

describe('decodeTailFrame', () => {
  it('reads an envelope JSON, whatever the order of its fields, ignoring extra ones', () => {
    const frame = JSON.stringify({ message: 'boom <b>', timestamp: line.timestamp, messageType: 'ERR', sourceInstance: '0', sourceType: 'APP', appId: 'app-a', extra: 1 });
    expect(decodeTailFrame(frame)).toEqual(line);
  });

  it('refuses what is not a line', () => {
    const bad = ['not json', '[]', 'null', '"text"', JSON.stringify({ ...line, messageType: 'DEBUG' }), JSON.stringify({ ...line, timestamp: 1700000000 }), JSON.stringify({ ...line, timestamp: '17e9' }), JSON.stringify({ ...line, message: undefined })];
    for (const frame of bad) expect([frame, decodeTailFrame(frame)]).toEqual([frame, undefined]);
  });
});

describe('timestamps', () => {
  it('turns nanoseconds into milliseconds by cutting the last six digits', () => {
    expect(timestampMs('1700000000123456789')).toBe(1700000000123);
    expect(timestampMs('999')).toBe(0);
  });

  it("shows a line's time of day to the millisecond", () => {
    expect(timeOfDay('1700000000123456789')).toMatch(/^\d\d:\d\d:\d\d\.123$/);
  });
});

describe('ndjson', () => {
  it('writes one envelope per line, fields in the canonical order, as logs --json prints them', () => {
    expect(ndjson([line, { ...line, message: 'two' }])).toBe(
      '{"appId":"app-a","sourceType":"APP","sourceInstance":"0","messageType":"ERR","timestamp":"1700000000123456789","message":"boom <b>"}\n' +
        '{"appId":"app-a","sourceType":"APP","sourceInstance":"0","messageType":"ERR","timestamp":"1700000000123456789","message":"two"}\n',
    );
    expect(ndjson([])).toBe('');
  });
});
