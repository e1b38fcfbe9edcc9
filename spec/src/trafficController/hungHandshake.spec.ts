// An upstream websocket still in its handshake when the last client of the app leaves:
//
//   client ──ws /tail?app=app-a──▶ TC ──TCP accepted, upgrade never answered──▶ hung router
//   client leaves                   TC ──ends that connection at once──▶ hung router sees it close
//
//   the hung router leaves the set   TC ──ends that connection at once──▶ hung router sees it close
//
// Without that, the connection to the hung router would linger until the handshake timeout
// (10 s), one per app a client tailed and left, however many came and went.
// (The fake reads what it is sent: a socket whose bytes are never read does not see the FIN
// either, and would make a prompt close look like a lingering one.)
import { AddressInfo, Socket, createServer } from 'node:net';
import { Teardown } from '../../support/teardown';
import { newToken, routerInfo, startTc } from '../../support/trafficControllerHarness';
import { waitFor, within } from '../../support/waitFor';

const ADMIN = newToken('admin');
const tokens = { [ADMIN]: '*' as const };

/** A TCP server that accepts, reads the request, never answers, and says when a connection closes. */
class HungRouter {
  /** Settles when the n-th accepted connection closes. */
  readonly closed: Promise<void>[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer(socket => {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    // Read (and ignore) the upgrade request: a socket whose bytes are not read never sees the FIN.
    socket.resume();
    this.closed.push(new Promise(resolve => socket.once('close', () => resolve())));
    socket.on('close', () => this.sockets.delete(socket));
  });

  static async start(teardown: Teardown): Promise<HungRouter> {
    const hung = new HungRouter();
    await new Promise<void>(resolve => hung.server.listen(0, '127.0.0.1', resolve));
    return teardown.add(hung, h => h.close());
  }

  get http(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}

describe('traffic controller upstream handshake', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it("ends a router connection still in its handshake as soon as the app's last client leaves", async () => {
    const hung = await HungRouter.start(teardown);
    const tc = await startTc(teardown, { routers: [{ id: 'hung', udp: '127.0.0.1:9', http: hung.http }], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await waitFor(() => hung.closed.length === 1, { what: "the TC's upgrade request at the hung router" });

    client.terminate();
    // Well within the 10 s handshake timeout that would end it otherwise.
    await within(hung.closed[0], 3_000, "the hung router's connection closed after the last client left");
    expect(hung.closed).toHaveLength(1);
  });

  it('ends a router connection still in its handshake as soon as the router leaves the set', async () => {
    const hung = await HungRouter.start(teardown);
    const r1 = await teardown.router();
    const tc = await startTc(teardown, { routers: [routerInfo('r1', r1), { id: 'hung', udp: '127.0.0.1:9', http: hung.http }], tokens });
    const client = await tc.tail('app=app-a', ADMIN);
    await waitFor(() => hung.closed.length === 1, { what: "the TC's upgrade request at the hung router" });

    tc.routers$.next([routerInfo('r1', r1)]);
    await within(hung.closed[0], 3_000, "the hung router's connection closed after it left the set");
    expect(client.isClosed).toBe(false);
  });
});
