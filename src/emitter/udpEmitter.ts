import { createSocket, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { rendezvousPick } from '../../streams/rendezvousHash';
import { encodeDatagram, encodeDatagramBatch, encodeEnvelopeJson } from '../envelope/codec';
import { Envelope } from '../envelope/envelope';
import { splitMessage } from '../envelope/splitMessage';

export interface UdpTarget {
  readonly host: string;
  readonly port: number;
  /** The router's id, which app ownership is hashed on; HOST:PORT when there is none. */
  readonly id?: string;
}

export interface UdpEmitterOptions {
  readonly secret?: string;
  /** The routers' datagram limit: longer messages are split into several envelopes. */
  readonly maxDatagramBytes: number;
  /** Datagrams waiting in the socket's send queue before `emit` drops new ones (counted). */
  readonly maxQueuedDatagrams?: number;
  /**
   * `emit`'s lines for one router within one event-loop turn go in datagrams of up to this many
   * bytes (a batch: decodeDatagramBatch); 0 or undefined: one datagram per line. `send` never batches.
   */
  readonly batchBytes?: number;
  /** Told of the lines `emit` dropped (send queue full), could not send, and of each refusal by a router. */
  readonly onDropped?: (reason: DropReason, count: number) => void;
  /** Told when a router refuses datagrams (its port is closed: the router is gone), and for how long it is passed over. */
  readonly onRouterRefused?: (router: string, passedOverMs: number) => void;
  /** How long a refusing router is first passed over; doubles while it keeps refusing, up to 30 s. */
  readonly refusedBackoffMs?: number;
}

export type DropReason = 'send_queue_full' | 'send_error' | 'no_router' | 'router_refused';

const MAX_PASSED_OVER_MS = 30_000;

/** A datagram waiting to be sent, the lines it carries, and who waits for it (send). */
interface PendingDatagram {
  readonly datagram: Buffer;
  readonly lines: number;
  readonly done?: (err: Error | null) => void;
}

/**
 * One router's connected socket: datagrams wait in `pending` (bounded) until it has connected;
 * `emit`'s lines of this turn wait in `batch` (at most batchBytes) until the turn ends.
 */
interface RouterSocket {
  readonly socket: Socket;
  readonly target: UdpTarget;
  connected: boolean;
  failed: Error | undefined;
  readonly pending: PendingDatagram[];
  batch: string[];
  batchBytes: number;
  flushing: NodeJS.Immediate | undefined;
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
  return t.id ?? `${t.host}:${t.port}`;
}

/**
 * Sends envelopes to routers over UDP, signed when a secret is configured. With several routers,
 * each app's lines go to one of them, chosen by rendezvous hashing of the app id, so an app's
 * lines stay in order on one router and a router joining or leaving moves only its share.
 *
 * Each router gets its own connected socket: its name is looked up once, not per datagram, and
 * the kernel reports the router's ICMP "port unreachable" on it. A router that refuses (its
 * process is gone, the lease that would say so has not expired yet) is passed over for a while,
 * so its apps' next lines go to the others instead of into the void; it is tried again after
 * the wait (1 s, doubling while it keeps refusing). The datagrams sent before the refusal came
 * back are lost (on loopback, the one that triggered it) and counted.
 */
export class UdpEmitter {
  private readonly sockets = new Map<string, RouterSocket>();
  private routers: readonly UdpTarget[];
  private readonly owners = new Map<string, UdpTarget>();
  /** Routers passed over, by id: until when, and the wait to use if they refuse again. */
  private readonly passedOver = new Map<string, { until: number; waitMs: number }>();
  private nextExpiry = Infinity;

  /** Bytes a signature adds in front of a datagram (0 unsigned). */
  private readonly signedPrefixBytes: number;

  constructor(
    routers: UdpTarget | readonly UdpTarget[],
    private readonly opts: UdpEmitterOptions,
  ) {
    this.routers = Array.isArray(routers) ? routers : [routers as UdpTarget];
    this.signedPrefixBytes = opts.secret === undefined ? 0 : encodeDatagramBatch([''], opts.secret).length;
  }

  /** Follows a new router set; apps whose owner changed move, the others stay. */
  setRouters(routers: readonly UdpTarget[]): void {
    this.routers = routers;
    this.owners.clear();
    // A new set (a router registered again, or one left) is news: every router gets a fresh start.
    this.passedOver.clear();
    this.lastWait.clear();
    this.nextExpiry = Infinity;
    const wanted = new Set(routers.map(socketKey));
    for (const [key, entry] of this.sockets) {
      if (!wanted.has(key)) this.discard(key, entry, new Error('router left'), 'no_router');
    }
  }

  /** The router that owns an app's lines now. */
  routerFor(appId: string): UdpTarget | undefined {
    if (this.nextExpiry !== Infinity && Date.now() >= this.nextExpiry) this.expirePassedOver();
    let owner = this.owners.get(appId);
    if (owner === undefined) {
      const candidates = this.passedOver.size === 0 ? this.routers : this.routers.filter(r => !this.passedOver.has(targetId(r)));
      // Every router refusing: keep sending to the owner; there is nowhere better.
      owner = rendezvousPick(appId, candidates.length > 0 ? candidates : this.routers, targetId);
      if (owner === undefined) return undefined;
      if (this.owners.size >= 100_000) this.owners.clear(); // a bounded memo, not state
      this.owners.set(appId, owner);
    }
    return owner;
  }

  private expirePassedOver(): void {
    const now = Date.now();
    this.nextExpiry = Infinity;
    for (const [id, entry] of this.passedOver) {
      // Kept (with its wait) until it is tried again; removed only from the passed-over set.
      if (entry.until <= now) this.passedOver.delete(id);
      else this.nextExpiry = Math.min(this.nextExpiry, entry.until);
    }
    this.owners.clear();
  }

  private refused(target: UdpTarget, previousWaitMs: number | undefined): void {
    const id = targetId(target);
    const waitMs = Math.min(MAX_PASSED_OVER_MS, previousWaitMs === undefined ? (this.opts.refusedBackoffMs ?? 1000) : previousWaitMs * 2);
    const until = Date.now() + waitMs;
    this.passedOver.set(id, { until, waitMs });
    this.lastWait.set(id, waitMs);
    this.nextExpiry = Math.min(this.nextExpiry, until);
    this.owners.clear();
    this.opts.onRouterRefused?.(id, waitMs);
  }

  /** The wait last used for a router that refused: doubled if it refuses again after being retried. */
  private readonly lastWait = new Map<string, number>();

  private socketFor(target: UdpTarget): RouterSocket {
    const key = socketKey(target);
    let entry = this.sockets.get(key);
    if (entry) return entry;
    const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
    const created: RouterSocket = { socket, target, connected: false, failed: undefined, pending: [], batch: [], batchBytes: 0, flushing: undefined };
    entry = created;
    this.sockets.set(key, created);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') return this.refusedBy(target);
      // Not connected (the name did not resolve): a new socket is made for the next datagram.
      if (!created.connected) this.discard(key, created, err, 'send_error');
    });
    // No callback: node would pass a failed lookup to it, not to 'error'.
    socket.once('connect', () => {
      created.connected = true;
      for (const p of created.pending.splice(0)) this.write(created, target, p.datagram, p.lines, p.done);
    });
    socket.connect(target.port, target.host);
    return created;
  }

  /**
   * A datagram reached the router's host and no one was listening: the router is gone. The
   * kernel says so on the next call that touches the socket: an 'error' event when idle, the
   * next send's callback under traffic.
   */
  private refusedBy(target: UdpTarget): void {
    this.opts.onDropped?.('router_refused', 1);
    const id = targetId(target);
    if (!this.passedOver.has(id)) this.refused(target, this.lastWait.get(id));
  }

  /** Closes a router's socket; what waited on it fails (counted with `reason`). */
  private discard(key: string, entry: RouterSocket, err: Error, reason: DropReason): void {
    entry.failed = err;
    if (this.sockets.get(key) === entry) this.sockets.delete(key);
    clearImmediate(entry.flushing);
    entry.flushing = undefined;
    if (entry.batch.length > 0) this.opts.onDropped?.(reason, entry.batch.length);
    entry.batch = [];
    entry.batchBytes = 0;
    for (const p of entry.pending.splice(0)) p.done ? p.done(err) : this.opts.onDropped?.(reason, p.lines);
    try {
      entry.socket.close();
    } catch {
      // already closed
    }
  }

  private write(entry: RouterSocket, target: UdpTarget, datagram: Buffer, lines: number, done?: (err: Error | null) => void): void {
    entry.socket.send(datagram, err => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ECONNREFUSED') {
        this.refusedBy(target);
        // A caller that waits (send) has its datagram sent again, to the router that owns the app now.
        return done?.(err);
      }
      if (done) done(err ?? null);
      else if (err) this.opts.onDropped?.('send_error', lines);
    });
  }

  /** The envelope's datagram, or several when its message does not fit in one. */
  private datagrams(e: Envelope): Buffer[] {
    const whole = encodeDatagram(e, this.opts.secret);
    if (whole.length <= this.opts.maxDatagramBytes) return [whole]; // the usual case: encoded once
    return splitMessage(e, this.opts.maxDatagramBytes, this.opts.secret).map(part => encodeDatagram(part, this.opts.secret));
  }

  private sendTo(target: UdpTarget, datagram: Buffer): Promise<void> {
    const entry = this.socketFor(target);
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null) => (err ? reject(err) : resolve());
      if (entry.failed) return reject(entry.failed);
      if (entry.connected) this.write(entry, target, datagram, 1, done);
      else entry.pending.push({ datagram, lines: 1, done });
    });
  }

  /** Resolves once every datagram of the envelope was handed to the kernel (for CLIs). */
  async send(e: Envelope): Promise<number> {
    const target = this.routerFor(e.appId);
    if (!target) throw new Error('no router to send to');
    const datagrams = this.datagrams(e);
    for (const datagram of datagrams) {
      try {
        await this.sendTo(target, datagram);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw err;
        // The owner refused and is passed over now: once more, to the app's new owner (or the
        // same one, if it is the only router: then the error stands).
        const next = this.routerFor(e.appId);
        if (next === undefined || next === target) throw err;
        await this.sendTo(next, datagram);
      }
    }
    return datagrams.length;
  }

  /**
   * Sends without waiting (for the agent's steady flow). With batchBytes, the lines of one
   * event-loop turn for one router share datagrams (a stream read delivers many lines at once),
   * sent when the turn ends or a datagram is full: one syscall for many lines, no added wait.
   * The send queue is bounded: when the kernel cannot take datagrams as fast as they come, new
   * ones are dropped and their lines counted rather than queued without limit.
   */
  emit(e: Envelope): void {
    const target = this.routerFor(e.appId);
    if (!target) {
      this.opts.onDropped?.('no_router', 1);
      return;
    }
    const entry = this.socketFor(target);
    const limit = Math.min(this.opts.batchBytes ?? 0, this.opts.maxDatagramBytes);
    if (limit <= 0) {
      for (const datagram of this.datagrams(e)) this.enqueue(entry, datagram, 1);
      return;
    }
    for (const json of this.jsonParts(e)) {
      const bytes = Buffer.byteLength(json, 'utf8') + 1; // and its "\n"
      if (entry.batch.length > 0 && this.signedPrefixBytes + entry.batchBytes + bytes > limit) this.flush(entry);
      entry.batch.push(json);
      entry.batchBytes += bytes;
      entry.flushing ??= setImmediate(() => this.flush(entry));
    }
  }

  /** The envelope's JSON, or several parts' when its message does not fit in one datagram. */
  private jsonParts(e: Envelope): string[] {
    const json = encodeEnvelopeJson(e);
    // The usual case, encoded once: UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (json.length * 3 + this.signedPrefixBytes <= this.opts.maxDatagramBytes) return [json];
    if (Buffer.byteLength(json, 'utf8') + this.signedPrefixBytes <= this.opts.maxDatagramBytes) return [json];
    return splitMessage(e, this.opts.maxDatagramBytes, this.opts.secret).map(encodeEnvelopeJson);
  }

  /** Sends what waits in the router's batch, as one datagram. */
  private flush(entry: RouterSocket): void {
    clearImmediate(entry.flushing);
    entry.flushing = undefined;
    if (entry.batch.length === 0) return;
    const lines = entry.batch.length;
    const datagram = encodeDatagramBatch(entry.batch, this.opts.secret);
    entry.batch = [];
    entry.batchBytes = 0;
    this.enqueue(entry, datagram, lines);
  }

  private enqueue(entry: RouterSocket, datagram: Buffer, lines: number): void {
    const max = this.opts.maxQueuedDatagrams ?? 10_000;
    if (entry.failed) {
      this.opts.onDropped?.('send_error', lines);
    } else if (!entry.connected) {
      if (entry.pending.length >= max) this.opts.onDropped?.('send_queue_full', lines);
      else entry.pending.push({ datagram, lines });
    } else if (entry.socket.getSendQueueCount() >= max) {
      this.opts.onDropped?.('send_queue_full', lines);
    } else {
      this.write(entry, entry.target, datagram, lines);
    }
  }

  close(): Promise<void> {
    // Lines of the current turn go out first.
    for (const entry of this.sockets.values()) this.flush(entry);
    const closing = [...this.sockets.values()].map(entry => {
      for (const p of entry.pending.splice(0)) p.done?.(new Error('emitter closed'));
      return new Promise<void>(resolve => entry.socket.close(() => resolve()));
    });
    this.sockets.clear();
    return Promise.all(closing).then(() => undefined);
  }
}

function socketKey(t: UdpTarget): string {
  return `${t.host}:${t.port}`;
}
