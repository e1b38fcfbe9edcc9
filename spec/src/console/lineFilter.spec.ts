// Filters by text (in the message, any case), stream and source (a type, or a type/instance);
// the console's own notes pass every filter.
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

  it("lets the console's own notes through every filter", () => {
    const test = rowTest({ text: 'nothing has this', stream: 'ERR', source: 'RTR/9' });
    expect(test({ kind: 'note', text: 'disconnected' })).toBe(true);
    expect(test({ kind: 'line', line: lines[0] })).toBe(false);
  });
});
