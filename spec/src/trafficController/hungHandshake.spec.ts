// An upstream websocket still in its handshake when the last client of the app leaves:
//
//   client ──ws /tail?app=app-a──▶ TC ──TCP accepted, upgrade never answered──▶ hung router
//   client leaves                   TC ──ends that connection at once──▶ hung router sees it close
//
//   the hung router leaves the set   TC ──ends that connection at once──▶ hung router sees it close
//
// Without that, the connection to the hung router would linger until the handshake timeout
// (10 s), one per app a client tailed and left, however many came and went.
import { Teardown } from '../../support/teardown';
import { SilentServer, newToken, routerInfo, startTc } from '../../support/trafficControllerHarness';
import { waitFor, within } from '../../support/waitFor';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };

/** Resolves once the silent router has seen `n` connections close. */
const closes = (hung: SilentServer, n: number) => waitFor(() => hung.closed >= n, { timeoutMs: 60_000, intervalMs: 10, what: `${n} closed connection(s)` });

describe('traffic controller upstream handshake', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("ends a router connection still in its handshake as soon as the app's last client leaves", async () => {
    const hung = await SilentServer.start(teardown);
    const tc = await startTc(teardown, { routers: [{ id: 'hung', udp: '127.0.0.1:9', http: hung.address }], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await waitFor(() => hung.accepted === 1, { what: "the TC's upgrade request at the hung router" });

    client.terminate();
    // Well within the 10 s handshake timeout that would end it otherwise.
    await within(closes(hung, 1), 3_000, "the hung router's connection closed after the last client left");
    expect(hung.accepted).toBe(1);
  });

  it('ends a router connection still in its handshake as soon as the router leaves the set', async () => {
    const hung = await SilentServer.start(teardown);
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), { id: 'hung', udp: '127.0.0.1:9', http: hung.address }], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await waitFor(() => hung.accepted === 1, { what: "the TC's upgrade request at the hung router" });

    tc.routers$.next([routerInfo('r1', r1)]);
    await within(closes(hung, 1), 3_000, "the hung router's connection closed after it left the set");
    expect(client.isClosed).toBe(false);
  });
});
