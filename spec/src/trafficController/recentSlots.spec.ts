// The /recent slots (16 merges at once, each holding routers' answers in memory) are for callers
// allowed to ask: a request is authorized first and takes a slot only then.
//
//   16 authorized /recent, each waiting on a silent router ──▶ every slot taken
//   /recent without a token                                 ──▶ 401 (not 503: it never needs a slot)
//   /recent with a valid token                              ──▶ 503 too_many_clients (the bound holds)
//
//   16 /recent whose token is still being checked (slow authorizer) ──▶ no slot taken
//   /recent with a valid token                                      ──▶ 200
import { BehaviorSubject } from 'rxjs';
import { ALLOWED, AuthDecision, unknownToken } from '../../../src/auth/authDecision';
import { Authorizer } from '../../../src/auth/authorizer';
import { RecentSlots } from '../../../src/trafficController/recentSlots';
import { startTrafficController } from '../../../src/trafficController/trafficController';
import { RouterInfo } from '../../../streams/routerInfo';
import { captureLogger } from '../../support/drainWriterHarness';
import { Teardown } from '../../support/teardown';
import { SilentServer, newToken, startTc, tcConfig } from '../../support/trafficControllerHarness';
import { waitFor, within } from '../../support/waitFor';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };
/** trafficControllerApi's MAX_RECENT_IN_FLIGHT. */
const SLOTS = 16;
/** trafficControllerApi's MAX_RECENT_AUTHORIZING. */
const AUTHORIZING = 256;

const recentWith = (port: number, token?: string): Promise<Response> =>
  fetch(`http://127.0.0.1:${port}/recent?app=app-a`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });

/**
 * A traffic controller (no routers) whose platform API takes its time over every token but
 * ADMIN (as a callout can, up to its deadline): `checking` counts the checks under way until
 * `release()`, after which they answer "unknown token".
 */
async function withSlowAuthorizer(teardown: Teardown): Promise<{ port: number; checking: () => number; release: () => void }> {
  const { logger } = captureLogger('error');
  let release!: () => void;
  const released = new Promise<void>(resolve => (release = resolve));
  let checking = 0;
  const authorizer: Authorizer = {
    description: 'slow for every token but ADMIN',
    authorize: async (token: string): Promise<AuthDecision> => {
      if (token === ADMIN) return ALLOWED;
      checking++;
      await released;
      return unknownToken();
    },
    authorizeFirehose: async () => unknownToken(),
    close: async () => undefined,
  };
  const tc = await startTrafficController(tcConfig(), logger, { routers$: new BehaviorSubject<readonly RouterInfo[]>([]), authorizer });
  teardown.add(tc, t => t.close());
  return { port: tc.httpAddress.port, checking: () => checking, release };
}

describe('traffic controller /recent slots', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('answers 401 to a request without a token while every slot is taken by authorized requests', async () => {
    const silent = await SilentServer.start(teardown);
    const tc = await startTc(teardown, {
      routers: [{ id: 'slow', udp: '127.0.0.1:9', http: silent.address }],
      tokens,
      config: { recent: { timeoutMs: 3_000 } },
    });
    const busy = Array.from({ length: SLOTS }, () => tc.get('/recent?app=app-a', { token: ADMIN }));
    // Each has its slot once it asks the silent router.
    await waitFor(() => silent.accepted >= SLOTS, { what: `${SLOTS} /recent requests at the silent router` });

    const anonymous = await tc.get('/recent?app=app-a');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="loggregator"');
    const unknown = await tc.get('/recent?app=app-a', { token: newToken('unknown') });
    expect(unknown.status).toBe(401);
    // The bound still holds for those allowed to ask.
    const oneTooMany = await tc.get('/recent?app=app-a', { token: ADMIN });
    expect(oneTooMany.status).toBe(503);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'too_many_clients' })).toBe(1);
    expect(await tc.metric('loggregator_tc_refused_total', { reason: 'unauthorized' })).toBe(2);

    const answers = await within(Promise.all(busy), 8_000, 'the 16 slow answers');
    expect(answers.map(a => [a.status, a.headers.get('x-skipped-routers')])).toEqual(Array(SLOTS).fill([502, 'slow (timeout)'])); // the one router failed: 502, named
  });

  it('takes no slot for a request whose token is still being checked', async () => {
    const { port, checking, release } = await withSlowAuthorizer(teardown);
    const slowOnes = Array.from({ length: SLOTS }, () => recentWith(port, newToken('slow')));
    await waitFor(() => checking() === SLOTS, { what: `${SLOTS} tokens being checked` });

    const admin = await recentWith(port, ADMIN);
    expect([admin.status, await admin.text()]).toEqual([200, '']);

    release();
    const refused = await within(Promise.all(slowOnes), 5_000, 'the slow checks answered');
    expect(refused.map(r => r.status)).toEqual(Array(SLOTS).fill(401));
  });

  it('bounds the /recent requests being authorized at once, so random tokens cannot start checks (callouts) without limit', async () => {
    const { port, checking, release } = await withSlowAuthorizer(teardown);
    const pending = Array.from({ length: AUTHORIZING }, () => recentWith(port, newToken('random')));
    await waitFor(() => checking() === AUTHORIZING, { what: `${AUTHORIZING} tokens being checked` });

    const extra = await recentWith(port, newToken('one-more'));
    expect(extra.status).toBe(503);
    expect(extra.headers.get('retry-after')).toBe('1');
    expect((await extra.json()) as { error: string }).toEqual({ error: `${AUTHORIZING} /recent requests are being authorized already; try again later` });
    expect(checking()).toBe(AUTHORIZING);

    release();
    const answered = await within(Promise.all(pending), 10_000, 'the pending checks answered');
    expect(answered.every(r => r.status === 401)).toBe(true);
    // Room again once they are done.
    expect((await recentWith(port, newToken('after'))).status).toBe(401);
  });
});

describe('RecentSlots', () => {
  it('hands a released slot to the oldest waiter; a waiter gives up after its timeout or when aborted, and holds nothing after', async () => {
    const slots = new RecentSlots(1);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(false);
    const never = new AbortController();
    const first = slots.take(5_000, never.signal);
    const second = slots.take(5_000, never.signal);
    const aborted = new AbortController();
    const third = slots.take(5_000, aborted.signal);
    const timedOut = slots.take(20, never.signal);
    aborted.abort();
    expect(await third).toBe(false);
    expect(await timedOut).toBe(false);

    slots.release(); // to `first`
    expect(await first).toBe(true);
    expect(slots.inUse).toBe(1);
    slots.release(); // to `second`
    expect(await second).toBe(true);
    slots.release(); // nobody waits: free
    expect(slots.inUse).toBe(0);
    expect(slots.tryTake()).toBe(true);
  });
});
