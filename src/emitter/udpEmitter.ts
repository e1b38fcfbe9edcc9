import { createSocket, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { rendezvousPick } from '../../streams/rendezvousHash';
import { encodeDatagram } from '../envelope/codec';
import { Envelope } from '../envelope/envelope';
import { splitMessage } from '../envelope/splitMessage';

export interface UdpTarget {
  readonly host: string;
  readonly port: number;
}

export interface UdpEmitterOptions {
  readonly secret?: string;
  /** The routers' datagram limit: longer messages are split into several envelopes. */
  readonly maxDatagramBytes: number;
  /** Datagrams waiting in the socket's send queue before `emit` drops new ones (counted). */
  readonly maxQueuedDatagrams?: number;
  /** Told of every datagram `emit` dropped (send queue full) or could not send. */
  readonly onDropped?: (reason: 'send_queue_full' | 'send_error', count: number) => void;
}

/** Parses `HOST:PORT` or `[V6]:PORT`; throws a message a person can act on. */
export function parseUdpTarget(text: string): UdpTarget {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new Error(`invalid router address ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:3456`);
  }
  return { host: m[1] ?? m[2], port };
}

function targetId(t: UdpTarget): string {
  return `${t.host}:${t.port}`;
}

/**
 * Sends envelopes to routers over UDP, signed when a secret is configured. With several routers,
 * each app's lines go to one of them, chosen by rendezvous hashing of the app id, so an app's
 * lines stay in order on one router and a router joining or leaving moves only its share.
 */
export class UdpEmitter {
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();
  private routers: readonly UdpTarget[];
  private readonly owners = new Map<string, UdpTarget>();

  constructor(
    routers: UdpTarget | readonly UdpTarget[],
    private readonly opts: UdpEmitterOptions,
  ) {
    this.routers = Array.isArray(routers) ? routers : [routers as UdpTarget];
  }

  /** Follows a new router set; apps whose owner changed move, the others stay. */
  setRouters(routers: readonly UdpTarget[]): void {
    this.routers = routers;
    this.owners.clear();
  }

  /** The router that owns an app's lines now. */
  routerFor(appId: string): UdpTarget | undefined {
    let owner = this.owners.get(appId);
    if (owner === undefined) {
      owner = rendezvousPick(appId, this.routers, targetId);
      if (owner === undefined) return undefined;
      if (this.owners.size >= 100_000) this.owners.clear(); // a bounded memo, not state
      this.owners.set(appId, owner);
    }
    return owner;
  }

  private readonly socketTypes = new Map<string, 'udp4' | 'udp6'>();

  private socketFor(target: UdpTarget): Socket {
    let type = this.socketTypes.get(target.host);
    if (type === undefined) {
      type = isIPv6(target.host) ? 'udp6' : 'udp4';
      this.socketTypes.set(target.host, type);
    }
    let socket = this.sockets.get(type);
    if (!socket) {
      socket = createSocket(type);
      socket.on('error', () => undefined); // per-send errors arrive in the send callbacks
      this.sockets.set(type, socket);
    }
    return socket;
  }

  /** The envelope's datagram, or several when its message does not fit in one. */
  private datagrams(e: Envelope): Buffer[] {
    const whole = encodeDatagram(e, this.opts.secret);
    if (whole.length <= this.opts.maxDatagramBytes) return [whole]; // the usual case: encoded once
    return splitMessage(e, this.opts.maxDatagramBytes, this.opts.secret).map(part => encodeDatagram(part, this.opts.secret));
  }

  /** Resolves once every datagram of the envelope was handed to the kernel (for CLIs). */
  async send(e: Envelope): Promise<number> {
    const target = this.routerFor(e.appId);
    if (!target) throw new Error('no router to send to');
    const socket = this.socketFor(target);
    const datagrams = this.datagrams(e);
    for (const datagram of datagrams) {
      await new Promise<void>((resolve, reject) =>
        socket.send(datagram, target.port, target.host, err => (err ? reject(err) : resolve())),
      );
    }
    return datagrams.length;
  }

  /**
   * Sends without waiting (for the agent's steady flow). The socket's send queue is bounded:
   * when the kernel cannot take datagrams as fast as they come, new ones are dropped and counted
   * rather than queued without limit.
   */
  emit(e: Envelope): void {
    const target = this.routerFor(e.appId);
    if (!target) {
      this.opts.onDropped?.('send_error', 1);
      return;
    }
    const socket = this.socketFor(target);
    const max = this.opts.maxQueuedDatagrams ?? 10_000;
    for (const datagram of this.datagrams(e)) {
      if (socket.getSendQueueCount() >= max) {
        this.opts.onDropped?.('send_queue_full', 1);
        continue;
      }
      socket.send(datagram, target.port, target.host, err => {
        if (err) this.opts.onDropped?.('send_error', 1);
      });
    }
  }

  close(): Promise<void> {
    const closing = [...this.sockets.values()].map(s => new Promise<void>(resolve => s.close(() => resolve())));
    this.sockets.clear();
    return Promise.all(closing).then(() => undefined);
  }
}
