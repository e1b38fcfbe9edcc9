// A UDP socket standing in for a router in the agent's specs: it decodes every datagram the agent
// sends with the real codec and keeps the envelopes in order of arrival.
import { Socket, createSocket } from 'node:dgram';
import { AddressInfo } from 'node:net';
import { decodeDatagramBatch } from '../../src/envelope/codec';
import { Envelope } from '../../src/envelope/envelope';

export class UdpReceiver {
  /** Every envelope received, in order of arrival. */
  readonly envelopes: Envelope[] = [];
  /** Envelopes or datagrams that did not decode (a correct agent sends none), with the reason. */
  readonly rejected: string[] = [];
  /** Datagrams received (an agent batches several envelopes per datagram). */
  datagrams = 0;
  /** The largest datagram received, in bytes. */
  largestDatagram = 0;
  private constructor(private readonly socket: Socket) {
    socket.on('message', datagram => {
      this.datagrams++;
      this.largestDatagram = Math.max(this.largestDatagram, datagram.length);
      for (const decoded of decodeDatagramBatch(datagram, { maxBytes: 65507 })) {
        if (decoded.ok) this.envelopes.push(decoded.envelope);
        else this.rejected.push(`${decoded.reason}: ${decoded.detail}`);
      }
    });
  }

  static async start(): Promise<UdpReceiver> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    try {
      // Bursts from hundreds of instances at once: room for them while the event loop is busy.
      socket.setRecvBufferSize(4 * 1024 * 1024);
    } catch {
      // the kernel's cap applies; the default is enough for most specs
    }
    return new UdpReceiver(socket);
  }

  /** `127.0.0.1:PORT`, as agent.routers takes it. */
  get target(): string {
    const { address, port } = this.socket.address() as AddressInfo;
    return `${address}:${port}`;
  }

  /** Messages of one app (optionally one instance and one stream), in order of arrival. */
  messages(appId: string, sourceInstance?: string, messageType?: 'OUT' | 'ERR'): string[] {
    return this.envelopes
      .filter(e => e.appId === appId && (sourceInstance === undefined || e.sourceInstance === sourceInstance))
      .filter(e => messageType === undefined || e.messageType === messageType)
      .map(e => e.message);
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
