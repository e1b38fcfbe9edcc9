// How long `logs` waits before asking an unavailable target again: its backoff, or Retry-After
// when longer, within a cap.
import { RETRY_AFTER_CAP_MS, retryDelayMs } from '../../../src/cli/retryDelay';
import { retryAfterMs } from '../../../src/http/retryAfter';

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP dates; anything else is 0', () => {
    const now = Date.parse('2026-11-24T15:00:00Z');
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs(['120'], now)).toBe(120_000);
    expect(retryAfterMs('Tue, 24 Nov 2026 15:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Tue, 24 Nov 2026 14:00:00 GMT', now)).toBe(0);
    expect([retryAfterMs(undefined), retryAfterMs(null), retryAfterMs(''), retryAfterMs('soon'), retryAfterMs('-5')]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('retryDelayMs', () => {
  it('is the reconnect backoff (250 ms doubling to 10 s, up to half shorter at random) when Retry-After is absent or shorter', () => {
    const none = () => 0;
    const most = () => 1;
    expect([1, 2, 3, 7, 40].map(n => retryDelayMs(n, 0, none))).toEqual([250, 500, 1000, 10_000, 10_000]);
    expect([1, 2, 3, 7, 40].map(n => retryDelayMs(n, 0, most))).toEqual([125, 250, 500, 5_000, 5_000]);
    expect(retryDelayMs(3, 300, none)).toBe(1000);
  });

  it('honours a longer Retry-After, up to the cap', () => {
    expect(retryDelayMs(1, 1000)).toBe(1000);
    expect(retryDelayMs(1, 3_600_000)).toBe(RETRY_AFTER_CAP_MS);
  });
});
