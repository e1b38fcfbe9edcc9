// Shared by the bench parent (run.ts) and its helper children (child.ts): the IPC protocol,
// the shape of a bench line, and the datagram templates the sender stamps.
import { ChildProcess } from 'node:child_process';
import { encodeDatagram } from '../src/envelope/codec';

// --- the bench line -------------------------------------------------------------------------
//
// Every message is exactly MESSAGE_BYTES ASCII bytes:
//   "#" + seq (10 digits) + " t" + send time (20 digits, process.hrtime.bigint() ns) + " " + text
// Fixed widths let the sender stamp a pre-encoded datagram in place (a copy and three writes per
// line, so the sender is cheap and is the same for the bare receiver and the router), and let a
// tail client read seq and send time out of a frame without JSON.parse.

export const MESSAGE_BYTES = 120;
const SEQ_DIGITS = 10;
const TIME_DIGITS = 20;
const HEAD = 1 + SEQ_DIGITS + 2 + TIME_DIGITS + 1; // "#SSSSSSSSSS tTTTTTTTTTTTTTTTTTTTT "
export const TEXT_BYTES = MESSAGE_BYTES - HEAD; // 86
const SEQ_OFFSET = 1;
const TIME_OFFSET = 1 + SEQ_DIGITS + 2;

/** Mulberry32: a small deterministic PRNG, so every run sends the same texts. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Realistic application log text, TEXT_BYTES long, with no character JSON escapes (no quotes,
 * backslashes or control characters), so it can be written into an encoded datagram as is.
 */
export function logTexts(count: number, seed = 42): string[] {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const pick = <T>(xs: T[]) => xs[int(xs.length)];
  const ts = () => `2024-05-14T09:${String(int(60)).padStart(2, '0')}:${String(int(60)).padStart(2, '0')}.${String(int(1000)).padStart(3, '0')}Z`;
  const makers: Array<() => string> = [
    () => `${ts()} INFO  [http-nio-8080-exec-${int(200)}] c.e.orders.OrderController - GET /api/v2/orders/${int(99999)} -> 200 in ${int(400)} ms`,
    () => `${ts()} WARN  [pool-3-thread-${int(16)}] c.e.payments.RetryPolicy - retry ${int(5) + 1}/5 for charge ch_${hex(12)} after timeout`,
    () => `${ts()} ERROR [main] c.e.inventory.StockSync - sync failed for sku=${pick(['A', 'B', 'K', 'Z'])}${int(99999)}: connection reset by peer`,
    () => `10.0.${int(255)}.${int(255)} - - [14/May/2024:09:21:${String(int(60)).padStart(2, '0')} +0000] GET /assets/app.${hex(8)}.js HTTP/1.1 200 ${int(90000)} ua=Mozilla/5.0`,
    () => `level=info ts=${ts()} caller=worker.go:${int(400)} msg=job finished queue=${pick(['emails', 'thumbs', 'billing'])} job_id=${hex(16)} took=${int(900)}ms`,
    () => `{level:debug,logger:cache,msg:miss,key:user:${int(999999)}:profile,ttl:${int(3600)},node:redis-${int(6)},span:${hex(16)}}`,
  ];
  const out: string[] = [];
  while (out.length < count) {
    let text = pick(makers)();
    while (text.length < TEXT_BYTES) text += ` req=${hex(16)}`;
    out.push(text.slice(0, TEXT_BYTES));
  }
  return out;
}

const PLACEHOLDER = '#' + 'S'.repeat(SEQ_DIGITS) + ' t' + 'T'.repeat(TIME_DIGITS) + ' ' + 'X'.repeat(TEXT_BYTES);

/** A datagram with a placeholder message; `stamp` fills in a copy of it. */
export abstract class StampTemplate {
  /** Where the message starts in `bytes` (the C sender stamps at the same offsets). */
  readonly messageAt: number;

  constructor(readonly bytes: Buffer) {
    this.messageAt = this.bytes.indexOf(PLACEHOLDER, 0, 'latin1');
    if (this.messageAt < 0) throw new Error('placeholder not found in the encoded datagram');
  }

  /** A new datagram: this app's, with message "#seq tTIME text" (time: ns, below 2^53). */
  stamp(seq: number, timeNs: number, text: Buffer): Buffer {
    const b = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(b);
    const m = this.messageAt;
    writeDigits(b, m + SEQ_OFFSET, SEQ_DIGITS, seq);
    writeDigits(b, m + TIME_OFFSET, TIME_DIGITS, timeNs);
    text.copy(b, m + HEAD);
    return b;
  }
}

/** One app's encoded envelope (UDP JSON, what the router ingests) with a placeholder message. */
export class DatagramTemplate extends StampTemplate {
  constructor(appId: string) {
    super(
      encodeDatagram({
        appId,
        sourceType: 'APP',
        sourceInstance: '0',
        messageType: 'OUT',
        timestamp: (BigInt(Date.now()) * 1_000_000n).toString(),
        message: PLACEHOLDER,
      }),
    );
  }
}

/**
 * One app's RFC 5424 syslog line (no framing: one line per UDP datagram, what rsyslog's imudp
 * reads), shaped like the router's drain output: `<14>1 TIMESTAMP HOST APPID [APP/0] - - MESSAGE`.
 */
export class Rfc5424Template extends StampTemplate {
  constructor(appId: string) {
    const ts = new Date().toISOString().replace(/Z$/, '000Z'); // microseconds, as the router writes
    super(Buffer.from(`<14>1 ${ts} bench-host ${appId} [APP/0] - - ${PLACEHOLDER}`, 'latin1'));
  }
}

/**
 * The C sender's spec file (bench/udpSender.c reads it; integers u32 little-endian):
 * "LGBS" ntemplates { len messageAt bytes }... ntexts textLen texts.
 */
export function senderSpec(templates: readonly StampTemplate[], texts: readonly Buffer[]): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(n);
    return b;
  };
  const textLen = texts[0]?.length ?? 0;
  if (texts.some(t => t.length !== textLen)) throw new Error('every text must have the same length');
  return Buffer.concat([
    Buffer.from('LGBS', 'latin1'),
    u32(templates.length),
    ...templates.flatMap(t => [u32(t.bytes.length), u32(t.messageAt), t.bytes]),
    u32(texts.length),
    u32(textLen),
    ...texts,
  ]);
}

/** Writes a non-negative integer below 2^53 as `width` zero-padded decimal digits. */
function writeDigits(b: Buffer, at: number, width: number, value: number): void {
  let v = Math.floor(value);
  for (let i = at + width - 1; i >= at; i--) {
    const q = Math.floor(v / 10);
    b[i] = 48 + (v - q * 10);
    v = q;
  }
}

/** Now, in ns on the host's monotonic clock (CLOCK_MONOTONIC: the same in every process). */
export function monotonicNs(): number {
  return Number(process.hrtime.bigint());
}

const MESSAGE_KEY = Buffer.from('"message":"#', 'latin1');

/** The decimal number in `b[from, from + n)`, or -1 if a byte there is not a digit. */
export function digits(b: Buffer, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = b[i] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Seq and send time (ns) of a tail frame that carries a bench line; undefined for any other. */
export function parseFrame(frame: Buffer): { seq: number; sentNs: number } | undefined {
  const i = frame.indexOf(MESSAGE_KEY);
  if (i < 0) return undefined;
  const m = i + MESSAGE_KEY.length - 1; // at '#'
  const seq = digits(frame, m + SEQ_OFFSET, SEQ_DIGITS);
  const sentNs = digits(frame, m + TIME_OFFSET, TIME_DIGITS);
  if (seq < 0 || sentNs < 0) return undefined;
  return { seq, sentNs };
}

// --- IPC ------------------------------------------------------------------------------------

export interface Request {
  readonly id: number;
  readonly cmd: string;
  readonly args?: unknown;
}

export interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** Sender: send `count` lines at `rate` lines/s to 127.0.0.1:port (or round-robin over `ports`). */
export interface SendArgs {
  readonly port: number;
  /** When given (instead of `port`): line `seq` goes to 127.0.0.1:ports[seq % ports.length], e.g. one app's lines over several routers. */
  readonly ports?: readonly number[];
  readonly rate: number;
  readonly count: number;
  /** Lines go round-robin to apps `${appPrefix}${i}` for i < appCount, or all to appPrefix when appCount is 1. */
  readonly appPrefix: string;
  readonly appCount: number;
  /** First seq; lines are numbered seqStart, seqStart+1, ... */
  readonly seqStart: number;
  /** Hard limit on the run's length; the sender stops there even if it is behind. */
  readonly maxMs: number;
  /** What each datagram is: an envelope for the router (default) or an RFC 5424 line for a syslog daemon. */
  readonly format?: 'envelope' | 'rfc5424';
}

export interface SendResult {
  readonly sent: number;
  /** From the start of the run to the last send, ms. */
  readonly elapsedMs: number;
  /** Lines/s actually achieved (sent / elapsed). */
  readonly achievedRate: number;
  /** When the first line was sent (monotonicNs()). */
  readonly firstSendNs: number;
  /** When the last line was sent (monotonicNs()). */
  readonly lastSendNs: number;
  /** Largest backlog the pacing loop saw, in lines (how far it fell behind the schedule). */
  readonly maxBacklog: number;
  /** Send calls that threw or reported errors (ENOBUFS etc). */
  readonly sendErrors: number;
  /** CPU (user + system) the sending process used for this run, ms: the C sender is not the child whose PID the phases know. */
  readonly cpuMs: number;
}

export interface TailStats {
  readonly clients: number;
  readonly open: number;
  /** Clients that received every expected line. */
  readonly complete: number;
  readonly totalFrames: number;
  readonly minDistinct: number;
  readonly maxDistinct: number;
  readonly notices: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly firstRecvNs: number;
  readonly lastRecvNs: number;
  readonly cpuMs: number;
}

/** What a `consumers` child's clients (sharing one trial's lines) saw since they were armed. */
export interface ConsumerStats {
  readonly clients: number;
  readonly open: number;
  readonly expected: number;
  /** Lines of the trial received by any client (each counted once). */
  readonly distinct: number;
  /** Every line of the trial arrived (at one client or another). */
  readonly complete: boolean;
  /** Lines that arrived more than once (at the same client or at two). */
  readonly duplicates: number;
  /** Apps whose lines reached more than one client in this trial (counted per extra client). */
  readonly splitApps: number;
  /** Frames that were not bench lines (drop notices, router changes), all clients. */
  readonly notices: number;
  /** The first few notices' text (up to 300 characters each). */
  readonly noticeTexts: readonly string[];
  /** Lines that arrived at a client after a later line of the same app. */
  readonly outOfOrder: number;
  readonly totalFrames: number;
  /** Per client: frames, distinct lines first received there, apps seen, notices. */
  readonly perClient: readonly { frames: number; distinct: number; apps: number; notices: number }[];
  readonly firstRecvNs: number;
  readonly lastRecvNs: number;
  readonly cpuMs: number;
}

/** The simulator child: start a depot in `dir` (a new one per trial; the rate is fixed per depot). */
export interface DeaStartArgs {
  readonly dir: string;
  readonly apps: number;
  readonly instancesPerApp: number;
  /** stdout lines/s per instance (stderr: a tenth); may be fractional. */
  readonly rate: number;
}

/** What the agent phase's tail clients (one per app) saw since they were armed. */
export interface AgentTailStats {
  readonly clients: number;
  readonly open: number;
  /** (app/index/stream) keys seen. */
  readonly keys: number;
  readonly frames: number;
  /** Sum over keys of the highest number up to which every line arrived. */
  readonly consecutive: number;
  /** Lines that arrived above a gap (still waiting for it to fill). */
  readonly above: number;
  readonly duplicates: number;
  /** Router notices (e.g. "dropped N messages") and other lines not from the simulator. */
  readonly notices: number;
  readonly foreign: number;
  /** Wall clock, ms since the epoch. */
  readonly firstRecvMs: number;
  readonly lastRecvMs: number;
  /** Arrival minus the agent's read time (envelope timestamp) of the last line received, ms. */
  readonly lastLagMs: number;
}

export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Calls into a forked helper by request id, each call with a timeout. */
export class ChildRpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error}`));
    });
    proc.on('exit', (code, signal) => {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`${name} exited (code ${code}, signal ${signal}) during a call`));
        this.pending.delete(id);
      }
    });
  }

  call<T>(cmd: string, args: unknown, timeoutMs: number): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, args } satisfies Request);
    });
  }
}
