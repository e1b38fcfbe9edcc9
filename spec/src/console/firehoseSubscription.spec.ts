// A console tab's firehose subscription ids: its own (never shared with another tab), a new one
// for each connection, each one the traffic controller accepts.
//
//   page load ──▶ console-0123456789abcdef      connections ──▶ …cdef.1, …cdef.2, …
import { connectionSubscription, pageSubscriptionId } from '../../../src/console/firehoseSubscription';
import { firehoseUrl } from '../../../src/console/tailUrl';
import { SUBSCRIPTION_PATTERN } from '../../../src/trafficController/firehoseSubscription';

const page = { protocol: 'http:', host: '127.0.0.1:8080' };

describe("the console's firehose subscription", () => {
  it('is "console-" and 16 hex digits of the random bytes, for the page', () => {
    expect(pageSubscriptionId(Uint8Array.from([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]))).toBe('console-0123456789abcdef');
    expect(pageSubscriptionId(new Uint8Array(8))).toBe('console-0000000000000000');
  });

  it('numbers the connections on the page id, each an id the traffic controller accepts', () => {
    const id = pageSubscriptionId(Uint8Array.from([255, 255, 255, 255, 255, 255, 255, 255]));
    const ids = [1, 2, 1_000_000].map(n => connectionSubscription(id, n));
    expect(ids).toEqual(['console-ffffffffffffffff.1', 'console-ffffffffffffffff.2', 'console-ffffffffffffffff.1000000']);
    for (const subscription of ids) expect(subscription).toMatch(SUBSCRIPTION_PATTERN);
  });

  it("makes each connection's address (as the firehose view's source does)", () => {
    expect(firehoseUrl(page, connectionSubscription('console-00', 2), 't')).toBe('ws://127.0.0.1:8080/firehose?subscription=console-00.2&access_token=t');
  });
});
