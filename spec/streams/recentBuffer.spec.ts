// retainRecent(buffer)
//
//   lines$   -a-b-c-|
//   output   -a-b-c-|        every line passes unchanged ...
//   buffer   a, b, c         ... and is kept in the app's recent lines
//
// RecentBuffer is bounded three ways: lines per app (old lines rotate out, not counted as drops),
// apps (the least recently WRITTEN app is evicted; reading does not keep an app alive) and bytes
// (an app sheds its own oldest lines past a quarter of the budget; past the whole budget the least
// recently written apps are evicted). Evicted lines are told to onEvicted. The class itself is
// plain state, so most of it is tested without marbles.
import fc from 'fast-check';
import { Envelope, MAX_TIMESTAMP_NS } from '../../src/envelope/envelope';
import { LogLine } from '../../streams/logLine';
import { RETAINED_LINE_OVERHEAD, RecentBuffer, RecentOptions, retainRecent, retainedBytes } from '../../streams/recentBuffer';
import { envelope, line, newTestScheduler } from './fixtures';

const seqs = (lines: LogLine[]): number[] => lines.map(l => l.seq);
const roomy = { linesPerApp: 100, maxApps: 100, maxBytes: 1 << 20 };

function appendAll(buffer: RecentBuffer, app: string, fromSeq: number, toSeq: number, message?: string): void {
  for (let seq = fromSeq; seq <= toSeq; seq++) buffer.append(line(seq, app, message ?? `line ${seq}`));
}

describe('retainRecent', () => {
  it('passes every line on unchanged and keeps it in the buffer', () => {
    const buffer = new RecentBuffer(roomy);
    const v = { a: line(1, 'app-a'), b: line(2, 'app-b'), c: line(3, 'app-a') };
    newTestScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const lines = hot('-a-b-c-|', v);
      expectObservable(lines.pipe(retainRecent(buffer))).toBe('-a-b-c-|', v);
      expectSubscriptions(lines.subscriptions).toBe('^------!');
    });
    expect(buffer.lines('app-a')).toEqual([v.a, v.c]);
    expect(buffer.lines('app-b')).toEqual([v.b]);
  });
});

describe('RecentBuffer', () => {
  describe('lines per app', () => {
    it('keeps the newest linesPerApp lines of an app and rotates older ones out, uncounted', () => {
      const evicted: number[] = [];
      const buffer = new RecentBuffer({ ...roomy, linesPerApp: 3, onEvicted: n => evicted.push(n) });
      appendAll(buffer, 'app-a', 1, 5);
      expect(seqs(buffer.lines('app-a'))).toEqual([3, 4, 5]);
      expect(evicted).toEqual([]);
    });

    it('keeps order while growing past its initial capacity and wrapping around', () => {
      const buffer = new RecentBuffer({ ...roomy, linesPerApp: 20 });
      appendAll(buffer, 'app-a', 1, 13);
      expect(seqs(buffer.lines('app-a'))).toEqual(range(1, 13));
      appendAll(buffer, 'app-a', 14, 47);
      expect(seqs(buffer.lines('app-a'))).toEqual(range(28, 47));
    });

    it('gives the newest `limit` lines, oldest first', () => {
      const buffer = new RecentBuffer({ ...roomy, linesPerApp: 8 });
      appendAll(buffer, 'app-a', 1, 10);
      expect(seqs(buffer.lines('app-a', 3))).toEqual([8, 9, 10]);
      expect(seqs(buffer.lines('app-a', 50))).toEqual(range(3, 10));
      expect(buffer.lines('app-a', 0)).toEqual([]);
    });

    it('gives [] for an app it never saw', () => {
      const buffer = new RecentBuffer(roomy);
      appendAll(buffer, 'app-a', 1, 2);
      expect(buffer.lines('app-unknown')).toEqual([]);
      expect(buffer.lines('app-unknown', 5)).toEqual([]);
    });

    it('gives back every field of a retained line', () => {
      const buffer = new RecentBuffer(roomy);
      const kept: Envelope[] = [
        envelope({ appId: 'app-a', messageType: 'ERR', sourceType: 'RTR', sourceInstance: 'router/z1:7' }),
        envelope({ appId: 'app-a', timestamp: MAX_TIMESTAMP_NS.toString(), message: 'ünïcødé ✓ 𝄞' }),
        envelope({ appId: 'app-a', timestamp: '0', message: '' }),
      ];
      kept.forEach((e, k) => buffer.append(new LogLine(k + 7, e)));
      expect(buffer.lines('app-a')).toEqual(kept.map((e, k) => new LogLine(k + 7, e)));
    });
  });

  describe('apps', () => {
    it('evicts the least recently written app past maxApps, even if it was read since', () => {
      const evicted: number[] = [];
      const buffer = new RecentBuffer({ ...roomy, maxApps: 2, onEvicted: n => evicted.push(n) });
      appendAll(buffer, 'app-a', 1, 3);
      appendAll(buffer, 'app-b', 4, 4);
      buffer.lines('app-a'); // a read is not a write
      appendAll(buffer, 'app-c', 5, 5);
      expect(buffer.lines('app-a')).toEqual([]);
      expect(seqs(buffer.lines('app-b'))).toEqual([4]);
      expect(seqs(buffer.lines('app-c'))).toEqual([5]);
      expect(evicted).toEqual([3]);
      expect(buffer.appCount).toBe(2);
    });

    it('keeps an app that was written again, and evicts the idle one instead', () => {
      const evicted: number[] = [];
      const buffer = new RecentBuffer({ ...roomy, maxApps: 2, onEvicted: n => evicted.push(n) });
      appendAll(buffer, 'app-a', 1, 1);
      appendAll(buffer, 'app-b', 2, 3);
      appendAll(buffer, 'app-a', 4, 4);
      appendAll(buffer, 'app-c', 5, 5);
      expect(seqs(buffer.lines('app-a'))).toEqual([1, 4]);
      expect(buffer.lines('app-b')).toEqual([]);
      expect(evicted).toEqual([2]);
    });

    it('lists the apps written to last, most recent first, each with its last line\'s timestamp, reading no more than asked', () => {
      const buffer = new RecentBuffer(roomy);
      const at = (seq: number, app: string, timestamp: string) => new LogLine(seq, envelope({ appId: app, timestamp }));
      buffer.append(at(1, 'app-a', '100'));
      buffer.append(at(2, 'app-b', '200'));
      buffer.append(at(3, 'app-c', '300'));
      buffer.append(at(4, 'app-a', '400'));
      buffer.lines('app-b'); // a read is not a write
      expect(buffer.lastWritten(10)).toEqual([
        { appId: 'app-a', timestamp: '400' },
        { appId: 'app-c', timestamp: '300' },
        { appId: 'app-b', timestamp: '200' },
      ]);
      expect(buffer.lastWritten(2).map(a => a.appId)).toEqual(['app-a', 'app-c']);
      expect(buffer.lastWritten(0)).toEqual([]);
      // Past linesPerApp, where the ring has wrapped around.
      const small = new RecentBuffer({ ...roomy, linesPerApp: 3 });
      for (let n = 1; n <= 5; n++) small.append(at(n, 'app-a', String(n * 10)));
      expect(small.lastWritten(1)).toEqual([{ appId: 'app-a', timestamp: '50' }]);
    });
  });

  describe('bytes', () => {
    // an 8-character message from APP/0 costs 60 bytes retained
    const message = 'x'.repeat(60 - RETAINED_LINE_OVERHEAD - 'APP'.length - '0'.length);

    it('makes one app shed its own oldest lines past a quarter of the budget, and counts them', () => {
      const evicted: number[] = [];
      // quarter of 600 = 150: two lines (120) fit, a third (180) does not
      const buffer = new RecentBuffer({ ...roomy, maxBytes: 600, onEvicted: n => evicted.push(n) });
      appendAll(buffer, 'app-a', 1, 5, message);
      expect(seqs(buffer.lines('app-a'))).toEqual([4, 5]);
      expect(evicted.reduce((a, b) => a + b, 0)).toBe(3);
      expect(buffer.byteCount).toBe(120);
    });

    it('evicts the least recently written apps once all apps together pass the budget', () => {
      const evicted: number[] = [];
      const buffer = new RecentBuffer({ ...roomy, maxBytes: 600, onEvicted: n => evicted.push(n) });
      for (const app of ['app-a', 'app-b', 'app-c', 'app-d', 'app-e']) appendAll(buffer, app, 1, 2, message);
      expect(buffer.byteCount).toBe(600);
      expect(evicted).toEqual([]);
      buffer.lines('app-a'); // a read is not a write
      appendAll(buffer, 'app-f', 1, 1, message); // 660 > 600
      expect(buffer.lines('app-a')).toEqual([]);
      expect(evicted).toEqual([2]);
      expect(buffer.byteCount).toBe(540);
      expect(buffer.appCount).toBe(5);
      expect(buffer.lineCount).toBe(9);
    });

    it('counts what is retained: apps, lines and bytes', () => {
      const buffer = new RecentBuffer({ ...roomy, linesPerApp: 2 });
      appendAll(buffer, 'app-a', 1, 3, 'abc');
      appendAll(buffer, 'app-b', 4, 4, 'abcdef');
      expect(buffer.appCount).toBe(2);
      expect(buffer.lineCount).toBe(3);
      expect(buffer.byteCount).toBe(3 * (RETAINED_LINE_OVERHEAD + 'APP'.length + '0'.length) + 3 + 3 + 6);
    });
  });

  it('matches a simple model under any sequence of writes (fast-check)', () => {
    const optsArb = fc.record({
      linesPerApp: fc.integer({ min: 1, max: 12 }),
      maxApps: fc.integer({ min: 1, max: 4 }),
      maxBytes: fc.integer({ min: 100, max: 2000 }),
    });
    const writesArb = fc.array(
      fc.record({ app: fc.constantFrom('a', 'b', 'c', 'd', 'e'), size: fc.integer({ min: 0, max: 120 }) }),
      { maxLength: 150 },
    );
    fc.assert(
      fc.property(optsArb, writesArb, (opts, writes) => {
        let evicted = 0;
        const buffer = new RecentBuffer({ ...opts, onEvicted: n => (evicted += n) });
        const model = new RecentModel(opts);
        writes.forEach(({ app, size }, k) => {
          const l = line(k + 1, app, 'm'.repeat(size));
          buffer.append(l);
          model.append(l);
        });
        for (const app of ['a', 'b', 'c', 'd', 'e']) {
          expect(seqs(buffer.lines(app))).toEqual(model.seqs(app));
        }
        expect(buffer.appCount).toBe(model.apps.size);
        expect(buffer.byteCount).toBe(model.bytes());
        expect(evicted).toBe(model.evicted);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every field of every line while sources churn (many distinct instances per app)', () => {
    const writeArb = fc.record({
      app: fc.constantFrom('a', 'b'),
      sourceType: fc.constantFrom('APP', 'RTR', 'APP/PROC/WEB'),
      sourceInstance: fc.oneof(fc.constantFrom('0', '1'), fc.integer({ min: 0, max: 10_000 }).map(String)),
      messageType: fc.constantFrom<'OUT' | 'ERR'>('OUT', 'ERR'),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(writeArb, { maxLength: 300 }), (linesPerApp, writes) => {
        const buffer = new RecentBuffer({ linesPerApp, maxApps: 10, maxBytes: 1 << 20 });
        const model = new RecentModel({ linesPerApp, maxApps: 10, maxBytes: 1 << 20 });
        writes.forEach(({ app, ...fields }, k) => {
          const l = new LogLine(k + 1, envelope({ appId: app, ...fields, timestamp: String(1_700_000_000_000_000_000 + k), message: `m${k}` }));
          buffer.append(l);
          model.append(l);
        });
        for (const app of ['a', 'b']) {
          expect(buffer.lines(app).map(l => l.envelope)).toEqual((model.apps.get(app) ?? []).map(l => l.envelope));
        }
      }),
      { numRuns: 200 },
    );
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, k) => from + k);
}

/** The documented rules, stated as plainly as possible: a Map kept in order of last write. */
class RecentModel {
  readonly apps = new Map<string, LogLine[]>();
  evicted = 0;

  constructor(private readonly opts: Omit<RecentOptions, 'onEvicted'>) {}

  append(l: LogLine): void {
    const lines = this.apps.get(l.appId) ?? [];
    if (!this.apps.has(l.appId) && this.apps.size === this.opts.maxApps) this.evictOldestApp();
    this.apps.delete(l.appId);
    this.apps.set(l.appId, lines);
    lines.push(l);
    if (lines.length > this.opts.linesPerApp) lines.shift();
    while (cost(lines) > Math.floor(this.opts.maxBytes / 4) && lines.length > 1) {
      lines.shift();
      this.evicted++;
    }
    while (this.bytes() > this.opts.maxBytes && this.apps.size > 1) this.evictOldestApp();
  }

  seqs(app: string): number[] {
    return (this.apps.get(app) ?? []).map(l => l.seq);
  }

  bytes(): number {
    let n = 0;
    for (const lines of this.apps.values()) n += cost(lines);
    return n;
  }

  private evictOldestApp(): void {
    const [app, lines] = this.apps.entries().next().value as [string, LogLine[]];
    this.apps.delete(app);
    this.evicted += lines.length;
  }
}

function cost(lines: LogLine[]): number {
  return lines.reduce((n, l) => n + retainedBytes(l.envelope), 0);
}
