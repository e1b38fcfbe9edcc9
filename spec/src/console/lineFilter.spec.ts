// Filters by text (in the message, any case; in the app id too where rows show it: the
// firehose), stream, source (a type, or a type/instance) and app; the console's own notes pass
// every filter.
import { ALL_LINES, lineTest, rowTest } from '../../../src/console/lineFilter';
import { TailLine } from '../../../src/console/tailLine';

const line = (message: string, overrides: Partial<TailLine> = {}): TailLine => ({
  appId: 'app-a',
  sourceType: 'APP',
  sourceInstance: '0',
  messageType: 'OUT',
  timestamp: '1700000000000000000',
  message,
  ...overrides,
});
const lines = [line('GET /health 200'), line('Timeout talking to DB', { messageType: 'ERR' }), line('GET / 200', { sourceType: 'RTR', sourceInstance: '1' }), line('started', { sourceInstance: '10' })];
const passing = (filter: Parameters<typeof lineTest>[0]) => lines.filter(lineTest(filter)).map(l => l.message);

describe('line filters', () => {
  it('passes everything with no filter', () => {
    expect(passing(ALL_LINES)).toHaveLength(4);
  });

  it('passes lines whose message contains the text, in any case', () => {
    expect(passing({ ...ALL_LINES, text: 'get' })).toEqual(['GET /health 200', 'GET / 200']);
    expect(passing({ ...ALL_LINES, text: 'TIMEOUT' })).toEqual(['Timeout talking to DB']);
  });

  it('passes one stream', () => {
    expect(passing({ ...ALL_LINES, stream: 'ERR' })).toEqual(['Timeout talking to DB']);
    expect(passing({ ...ALL_LINES, stream: 'OUT' })).toHaveLength(3);
  });

  it('passes a source type, or exactly one instance of it', () => {
    expect(passing({ ...ALL_LINES, source: 'RTR' })).toEqual(['GET / 200']);
    expect(passing({ ...ALL_LINES, source: 'APP/0' })).toEqual(['GET /health 200', 'Timeout talking to DB']);
    expect(passing({ ...ALL_LINES, source: 'APP/1' })).toEqual([]);
  });

  it('combines them', () => {
    expect(passing({ text: 'get', stream: 'OUT', source: 'APP' })).toEqual(['GET /health 200']);
  });

  it('passes one app, by its exact id', () => {
    const mixed = [line('a 1'), line('b 1', { appId: 'app-b' }), line('ab 1', { appId: 'app-ab' })];
    expect(mixed.filter(lineTest({ ...ALL_LINES, app: 'app-b' })).map(l => l.message)).toEqual(['b 1']);
    expect(mixed.filter(lineTest({ ...ALL_LINES, app: '' }))).toHaveLength(3);
  });

  it('looks for the text in the app id too where the view says so (the firehose), not otherwise', () => {
    const mixed = [line('GET / 200', { appId: 'payments' }), line('payment declined', { appId: 'shop' }), line('started', { appId: 'shop' })];
    const firehose = { textInAppId: true };
    expect(mixed.filter(lineTest({ ...ALL_LINES, text: 'PAYMENT' }, firehose)).map(l => l.message)).toEqual(['GET / 200', 'payment declined']);
    expect(mixed.filter(lineTest({ ...ALL_LINES, text: 'shop' }, firehose)).map(l => l.message)).toEqual(['payment declined', 'started']);
    expect(mixed.filter(lineTest({ ...ALL_LINES, text: 'shop' })).map(l => l.message)).toEqual([]);
    expect(rowTest({ ...ALL_LINES, text: 'payments' }, firehose)({ kind: 'line', line: mixed[0] })).toBe(true);
  });

  it("lets the console's own notes through every filter", () => {
    const test = rowTest({ text: 'nothing has this', stream: 'ERR', source: 'RTR/9', app: 'no-such-app' }, { textInAppId: true });
    expect(test({ kind: 'note', text: 'disconnected' })).toBe(true);
    expect(test({ kind: 'line', line: lines[0] })).toBe(false);
  });
});
