import { createSocket, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { encodeDatagram } from '../envelope/codec';
import { Envelope } from '../envelope/envelope';
import { splitMessage } from '../envelope/splitMessage';

export interface UdpTarget {
  readonly host: string;
  readonly port: number;
}

export interface UdpEmitterOptions {
  readonly secret?: string;
  /** The router's datagram limit: longer messages are split into several envelopes. */
  readonly maxDatagramBytes: number;
}

/** Parses `HOST:PORT` or `[V6]:PORT`; throws a message a person can act on. */
export function parseUdpTarget(text: string): UdpTarget {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`invalid router address ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:3456`);
  }
  return { host: m[1] ?? m[2], port };
}

/** Sends envelopes to a router over UDP, signed when a secret is configured. */
export class UdpEmitter {
  private readonly socket: Socket;

  constructor(
    private readonly target: UdpTarget,
    private readonly opts: UdpEmitterOptions,
  ) {
    this.socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  }

  /** Resolves once every datagram of the envelope was handed to the kernel. */
  async send(e: Envelope): Promise<number> {
    const parts = splitMessage(e, this.opts.maxDatagramBytes, this.opts.secret);
    for (const part of parts) {
      const datagram = encodeDatagram(part, this.opts.secret);
      await new Promise<void>((resolve, reject) =>
        this.socket.send(datagram, this.target.port, this.target.host, err => (err ? reject(err) : resolve())),
      );
    }
    return parts.length;
  }

  close(): Promise<void> {
    return new Promise(resolve => this.socket.close(() => resolve()));
  }
}
