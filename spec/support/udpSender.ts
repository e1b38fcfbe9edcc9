// Sends datagrams to a router's UDP port the way a well-behaved emitter would: in order, from one
// socket, yielding to the event loop every `batch` datagrams so that a router living in the same
// process reads them (loopback UDP drops what a full receive buffer cannot hold).
import { Socket, createSocket } from 'node:dgram';
import { AddressInfo } from 'node:net';
import { encodeDatagram } from '../../src/envelope/codec';
import { Envelope } from '../../src/envelope/envelope';
import { nextTurn } from './waitFor';

export class UdpSender {
  private readonly socket: Socket = createSocket('udp4');
  sent = 0;

  constructor(
    private readonly target: AddressInfo,
    private readonly batch = 100,
  ) {}

  async send(datagrams: Iterable<Buffer>): Promise<number> {
    let n = 0;
    for (const datagram of datagrams) {
      await new Promise<void>((resolve, reject) =>
        this.socket.send(datagram, this.target.port, this.target.address, err => (err ? reject(err) : resolve())),
      );
      n++;
      this.sent++;
      if (n % this.batch === 0) await nextTurn();
    }
    return n;
  }

  /** Sends envelopes as datagrams, signed when a secret is given. */
  sendEnvelopes(envelopes: Iterable<Envelope>, secret?: string): Promise<number> {
    return this.send(map(envelopes, e => encodeDatagram(e, secret)));
  }

  close(): Promise<void> {
    return new Promise(resolve => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

function* map<A, B>(items: Iterable<A>, f: (a: A) => B): Iterable<B> {
  for (const item of items) yield f(item);
}

let clock = 1_700_000_000_000_000_000n;

/** A valid envelope; timestamps increase from call to call, so each line is distinct. */
export function envelope(appId: string, message: string, overrides: Partial<Envelope> = {}): Envelope {
  clock += 1_000n;
  return {
    appId,
    sourceType: 'APP',
    sourceInstance: '0',
    messageType: 'OUT',
    timestamp: clock.toString(),
    message,
    ...overrides,
  };
}

/** `count` envelopes of one app numbered from `from`: messages "<app> <n>" (plus `pad`). */
export function numbered(appId: string, count: number, from = 0, pad = ''): Envelope[] {
  return Array.from({ length: count }, (_, k) => envelope(appId, `${appId} ${from + k}${pad}`));
}

/** The number in a message made by `numbered`, or NaN. */
export function lineNumber(message: string): number {
  const match = /^\S+ (\d+)/.exec(message);
  return match ? Number(match[1]) : NaN;
}
