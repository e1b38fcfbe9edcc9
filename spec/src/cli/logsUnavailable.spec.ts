// `loggregator logs` against a target that is unavailable for a while (503: its auth callout is
// down, it is at its client limit, starting or stopping; or 429), on a real loopback server that
// answers 503 N times and then serves:
//
//   live:     503 503 101 → one notice on stderr, waits (Retry-After honoured), then tails
//   --recent: 503 503 200 → one notice, the lines, exit 0;  503 ×4 → exit 1, clear message
//   401/403:  fatal as before, exit 2, no retry
import { encodeEnvelopeJson } from '../../../src/envelope/codec';
import { Envelope } from '../../../src/envelope/envelope';
import { logs } from '../../../src/cli/logs';
import { RECENT_RETRIES } from '../../../src/cli/recentLines';
import { waitFor, within } from '../../support/waitFor';
import { FakeTarget } from '../../support/fakeTarget';

const line = (message: string): Envelope => ({ appId: 'app', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: '1764000000000000000', message });
const busy = { status: 503, error: 'cannot check authorization right now; try again' };

describe('logs when the target is unavailable for a while', () => {
  let target: FakeTarget;
  beforeEach(async () => {
    target = await FakeTarget.start();
  });
  afterEach(async () => {
    await target.close();
  });

  /** A live tail of `app` against the fake target; returns what it printed and said, and how to stop it. */
  function tail() {
    const printed: string[] = [];
    const notices: string[] = [];
    const abort = new AbortController();
    const done = logs({
      app: 'app', recent: false, json: true, colour: false, target: target.url, signal: abort.signal,
      out: t => printed.push(JSON.parse(t).message),
      err: t => notices.push(t),
    });
    return { printed, notices, done, stop: () => abort.abort() };
  }

  it('live: waits out 503s, honouring Retry-After, says so once, then tails', async () => {
    target.refusals.push({ ...busy, headers: { 'Retry-After': '1' } }, { ...busy, headers: { 'Retry-After': '1' } });
    target.onTail = ws => ws.send(encodeEnvelopeJson(line('served at last')));
    const t = tail();
    try {
      await waitFor(() => t.printed.length === 1, { what: 'the line once the target serves', timeoutMs: 10_000 });
      expect(t.printed).toEqual(['served at last']);
      expect(t.notices).toEqual([expect.stringMatching(/is unavailable \(503 cannot check authorization right now; try again\); retrying until it serves again/)]);
      const at = target.requestsTo('/tail').map(r => r.atMs);
      expect(at).toHaveLength(3);
      // The backoff alone would ask again after 250 and 500 ms; Retry-After says a second.
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(950);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(950);
    } finally {
      t.stop();
      expect(await within(t.done, 5_000, 'logs to stop')).toBe(0);
    }
  });

  // 429 from the traffic controller; 502 and 504 from a proxy in front of it while it restarts.
  it.each([
    { what: 'a 429', refusals: [{ status: 429, error: 'slow down' }], notice: /unavailable \(429 slow down\)/ },
    { what: 'a 502 and a 504', refusals: [{ status: 502, error: 'bad gateway' }, { status: 504, error: 'gateway timeout' }], notice: /unavailable \(502 bad gateway\)/ },
  ])('live: $what: transient too', async ({ refusals, notice }) => {
    target.refusals.push(...refusals);
    target.onTail = ws => ws.send(encodeEnvelopeJson(line('served at last')));
    const t = tail();
    try {
      await waitFor(() => t.printed.length === 1, { what: 'the line after the refusals', timeoutMs: 10_000 });
      expect(t.notices).toEqual([expect.stringMatching(notice)]);
    } finally {
      t.stop();
      expect(await within(t.done, 5_000, 'logs to stop')).toBe(0);
    }
  });

  it('live: a 503 while reconnecting after a drop is waited out, and the tail resumes', async () => {
    target.onTail = (ws, _req, index) => {
      ws.send(encodeEnvelopeJson(line(`connection ${index}`)));
      if (index === 0) {
        target.refusals.push(busy, busy);
        ws.terminate();
      }
    };
    const t = tail();
    try {
      await waitFor(() => t.printed.length === 2, { what: 'the second connection’s line', timeoutMs: 10_000 });
      expect(t.printed).toEqual(['connection 0', 'connection 1']);
      expect(t.notices.filter(n => /unavailable \(503/.test(n))).toHaveLength(1);
      expect(target.requestsTo('/tail').map(r => r.recent)).toEqual([false, true, true, true]);
    } finally {
      t.stop();
      expect(await within(t.done, 5_000, 'logs to stop')).toBe(0);
    }
  });

  it.each([
    [401, /not authenticated \(401 who are you\): no token was sent/],
    [403, /not allowed to read app app \(403 who are you\)/],
  ])('live: %d stays fatal: exit 2 at once with what to do', async (status, message) => {
    target.refusals.push({ status, error: 'who are you' }, { status, error: 'who are you' });
    const t = tail();
    expect(await within(t.done, 5_000, 'logs to give up')).toBe(2);
    expect(t.notices).toEqual([expect.stringMatching(message)]);
    expect(target.requestsTo('/tail')).toHaveLength(1);
  });

  /** `logs --recent` against the fake target. */
  async function recent(): Promise<{ code: number; printed: string[]; notices: string[] }> {
    const printed: string[] = [];
    const notices: string[] = [];
    const code = await logs({ app: 'app', recent: true, json: true, colour: false, target: target.url, out: t => printed.push(JSON.parse(t).message), err: t => notices.push(t) });
    return { code, printed, notices };
  }

  it('--recent: retries 503s, then prints the lines', async () => {
    target.refusals.push(busy, { status: 429, error: 'slow down' });
    target.recentBody = [line('one'), line('two')].map(encodeEnvelopeJson).join('\n') + '\n';
    const r = await within(recent(), 10_000, 'logs --recent');
    expect(r).toEqual({ code: 0, printed: ['one', 'two'], notices: [expect.stringMatching(/unavailable \(503 .*\); retrying \(at most 3 times\)/)] });
    expect(target.requestsTo('/recent')).toHaveLength(3);
  });

  it('--recent: prints the lines it got and says on stderr which routers did not answer', async () => {
    target.recentHeaders = { 'X-Routers-Asked': '3', 'X-Skipped-Routers': 'r2 (timeout), r3 (refused)' };
    target.recentBody = encodeEnvelopeJson(line('from r1')) + '\n';
    const r = await within(recent(), 10_000, 'logs --recent');
    expect(r).toEqual({ code: 0, printed: ['from r1'], notices: ['lines of some routers are missing (they did not answer): r2 (timeout), r3 (refused)'] });
  });

  it('--recent: gives up after 3 retries, exit 1, saying so', async () => {
    for (let i = 0; i < 10; i++) target.refusals.push(busy);
    const r = await within(recent(), 10_000, 'logs --recent');
    expect(r.code).toBe(1);
    expect(r.notices.at(-1)).toMatch(/is unavailable \(503 cannot check authorization right now; try again\); gave up after 4 attempts in \d+\.\d s: try again later/);
    expect(target.requestsTo('/recent')).toHaveLength(1 + RECENT_RETRIES);
  });

  it('--recent: does not wait for a Retry-After longer than its time budget', async () => {
    target.refusals.push({ ...busy, headers: { 'Retry-After': '3600' } });
    // Well within its 10 s budget: it gives up at once instead of waiting.
    const r = await within(recent(), 5_000, 'logs --recent');
    expect(r.code).toBe(1);
    expect(r.notices).toEqual([expect.stringMatching(/unavailable \(503 .*\); it asks to retry after 3600 s, more than --recent has left of its 10 s: try again later/)]);
    expect(target.requestsTo('/recent')).toHaveLength(1);
  });

  it('--recent: 403 stays fatal, exit 2, no retry', async () => {
    target.refusals.push({ status: 403, error: 'not yours' }, { status: 403, error: 'not yours' });
    const r = await recent();
    expect(r).toEqual({ code: 2, printed: [], notices: [expect.stringMatching(/not allowed to read app app \(403 not yours\)/)] });
    expect(target.requestsTo('/recent')).toHaveLength(1);
  });
});
