// Keepalive on tail websockets, with router.tail.keepaliveSeconds = 0.2:
//
//   router   ping──ping──ping──ping──ping──…
//   alive    pong  pong  pong  pong  pong       stays connected, still gets lines
//   deaf     ping──(no pong)──✕                 terminated at the next ping (close 1006)
//   stopped  (not reading: no pong either)──✕   terminated too, its session released
import { metricValue } from '../../support/routerMetricValue';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { envelope } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

/** Waits for `count` more pings at a client that must stay connected meanwhile. */
async function stillConnectedAfterPings(client: TailClient, count: number): Promise<void> {
  const target = client.pings + count;
  await waitFor(
    () => {
      if (client.isClosed) throw new Error(`the client that answers pings was dropped after ${client.pings} pings`);
      return client.pings >= target;
    },
    { what: `${count} more pings at the answering client` },
  );
}

describe('router tail keepalive', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  it('drops a client that does not answer pings and keeps one that does', async () => {
    const router = await teardown.router({ router: { tail: { keepaliveSeconds: 0.2 } } });
    const alive = await teardown.tail(router, 'app=app-a');
    const deaf = await teardown.tail(router, 'app=app-a', { autoPong: false });
    expect(await metricValue(router, 'loggregator_tail_clients')).toBe(2);

    await waitFor(() => deaf.isClosed, { what: 'the deaf client to be dropped' });
    expect((await deaf.closed).code).toBe(1006); // terminated: no closing handshake with a peer that is gone
    expect(deaf.pings).toBeGreaterThanOrEqual(1);

    // Several intervals later the answering client is still there, and still gets lines.
    await stillConnectedAfterPings(alive, 5);
    expect(await metricValue(router, 'loggregator_tail_clients')).toBe(1);
    const line = envelope('app-a', 'still here');
    await teardown.sender(router).sendEnvelopes([line]);
    await waitFor(() => alive.received.length === 1, { what: 'a line at the answering client' });
    expect(alive.received).toEqual([line]);
    expect(deaf.received).toEqual([]);
  });

  it('drops a client that has stopped reading altogether, and no one else', async () => {
    const router = await teardown.router({ router: { tail: { keepaliveSeconds: 0.2 } } });
    const alive = await teardown.tail(router, 'app=app-a');
    const stopped = await teardown.tail(router, 'app=app-a');
    stopped.ws.pause();

    await waitFor(async () => (await metricValue(router, 'loggregator_tail_clients')) < 2, { what: 'a client to be dropped' });
    stopped.ws.resume();
    expect((await stopped.closed).code).toBe(1006);
    await stillConnectedAfterPings(alive, 3);
    expect(await metricValue(router, 'loggregator_tail_clients')).toBe(1);
  });
});
