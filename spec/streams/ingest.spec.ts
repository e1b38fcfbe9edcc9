// ingest(datagram$, { maxBytes })
//
//   datagram$  -a-x-b-y-c-|        a, b, c: good envelopes; x: not JSON; y: not an envelope
//   output     -1-X-2-Y-3-|        1, 2, 3: lines numbered from 1; X, Y: rejection values
//
// A bad datagram becomes a value ({ ok: false, reason, detail }) and uses no seq; ingest itself
// never errors because of its input. Each subscription numbers its lines from 1.
import fc from 'fast-check';
import { from } from 'rxjs';
import { decodeDatagramBatch, encodeDatagram } from '../../src/envelope/codec';
import { Envelope } from '../../src/envelope/envelope';
import { Ingested, ingest } from '../../streams/ingest';
import { LogLine } from '../../streams/logLine';
import { envelope, newTestScheduler } from './fixtures';

const e1 = envelope({ message: 'one' });
const e2 = envelope({ message: 'two', appId: 'app-b' });
const e3 = envelope({ message: 'three', messageType: 'ERR' });
const datagrams = {
  a: encodeDatagram(e1),
  b: encodeDatagram(e2),
  c: encodeDatagram(e3),
  x: Buffer.from('{"appId": "app-a", "sourceType'),
  y: Buffer.from(JSON.stringify({ ...e1, appId: '' })),
  u: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
  o: Buffer.alloc(2000, 0x20),
};
const accepted = (seq: number, e: Envelope): Ingested => ({ ok: true, line: new LogLine(seq, e) });
const rejected = (reason: string): Ingested =>
  ({ ok: false, reason, detail: expect.any(String) }) as unknown as Ingested;

describe('ingest', () => {
  let testScheduler: ReturnType<typeof newTestScheduler>;
  beforeEach(() => {
    testScheduler = newTestScheduler();
  });

  it('numbers accepted lines from 1 in the order they came', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const datagram = hot('-a-b-c-|', datagrams);
      expectObservable(ingest(datagram, { maxBytes: 1024 })).toBe('-1-2-3-|', {
        1: accepted(1, e1),
        2: accepted(2, e2),
        3: accepted(3, e3),
      });
      expectSubscriptions(datagram.subscriptions).toBe('^------!');
    });
  });

  it('turns bad datagrams into rejection values that use no seq', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const datagram = hot('-a-x-b-y-c-|', datagrams);
      expectObservable(ingest(datagram, { maxBytes: 1024 })).toBe('-1-X-2-Y-3-|', {
        1: accepted(1, e1),
        X: rejected('not_json'),
        2: accepted(2, e2),
        Y: rejected('invalid_envelope'),
        3: accepted(3, e3),
      });
    });
  });

  it('never errors, however bad the input: it goes on to the next datagram', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const datagram = hot('-xuoy-a-|', datagrams);
      expectObservable(ingest(datagram, { maxBytes: 1024 })).toBe('-XUOY-1-|', {
        X: rejected('not_json'),
        U: rejected('invalid_utf8'),
        O: rejected('oversized'),
        Y: rejected('invalid_envelope'),
        1: accepted(1, e1),
      });
      expectSubscriptions(datagram.subscriptions).toBe('^-------!');
    });
  });

  it('rejects unsigned datagrams when a secret is set, and accepts signed ones', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const datagram = hot('-a-s-|', { a: datagrams.a, s: encodeDatagram(e2, 'sekrit') });
      expectObservable(ingest(datagram, { maxBytes: 1024, secret: 'sekrit' })).toBe('-N-1-|', {
        N: rejected('unsigned'),
        1: accepted(1, e2),
      });
    });
  });

  it('numbers each subscription from 1', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const datagram = cold('-a-b|', datagrams);
      const ingested$ = ingest(datagram, { maxBytes: 1024 });
      const values = { 1: accepted(1, e1), 2: accepted(2, e2) };
      expectObservable(ingested$).toBe('-1-2|', values);
      expectObservable(ingested$, '--^').toBe('---1-2|', values);
    });
  });

  it('passes on an error of the datagram source itself (a socket failure, not bad input)', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const datagram = hot('-a-#', datagrams, new Error('EBADF'));
      expectObservable(ingest(datagram, { maxBytes: 1024 })).toBe('-1-#', { 1: accepted(1, e1) }, new Error('EBADF'));
    });
  });

  it('gives a value for each part of a datagram of random bytes split by a newline', () => {
    const out: Ingested[] = [];
    ingest(from([Buffer.from([0, 0x0a, 0xc2, 0x80])]), { maxBytes: 1024 }).subscribe(v => out.push(v));
    expect(out.map(v => (v.ok ? 'ok' : v.reason))).toEqual(['not_json', 'not_json']);
  });

  it('gives one value per envelope of each datagram (one for a datagram rejected whole) and numbers only the accepted ones, for any bytes (fast-check)', () => {
    const datagramArb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map(bytes => Buffer.from(bytes)),
      fc.constantFrom(...Object.values(datagrams)),
    );
    fc.assert(
      fc.property(fc.array(datagramArb, { maxLength: 40 }), input => {
        const out: Ingested[] = [];
        let completed = false;
        let failure: unknown;
        ingest(from(input), { maxBytes: 1024 }).subscribe({
          next: v => out.push(v),
          error: err => (failure = err),
          complete: () => (completed = true),
        });
        expect(failure).toBeUndefined();
        expect(completed).toBe(true);
        // A datagram may be a batch: random bytes with a newline between two non-blank parts are two.
        expect(out).toHaveLength(input.reduce((n, d) => n + decodeDatagramBatch(d, { maxBytes: 1024 }).length, 0));
        const lineSeqs = out.flatMap(v => (v.ok ? [v.line.seq] : []));
        expect(lineSeqs).toEqual(lineSeqs.map((_, k) => k + 1));
      }),
      { numRuns: 200 },
    );
  });
});
