import { LRUCache } from 'lru-cache';
import { MonoTypeOperatorFunction, tap } from 'rxjs';
import { Envelope } from '../src/envelope/envelope';
import { LogLine } from './logLine';

export interface RecentOptions {
  /** Lines kept per app; older ones rotate out (that is the buffer's purpose, not a drop). */
  readonly linesPerApp: number;
  /** Apps retained at once; the least recently written app is evicted past it. */
  readonly maxApps: number;
  /** Approximate bytes retained in all; least recently written apps are evicted past it. */
  readonly maxBytes: number;
  /** Told how many lines were evicted (app evicted, or one app too large): counted as drops. */
  readonly onEvicted?: (lines: number) => void;
}

/** What a retained line costs beyond its message characters (pointers, timestamp, headers). */
export const RETAINED_LINE_OVERHEAD = 48;

/**
 * One app's last N lines, column by column: a retained line costs its message plus a few
 * machine words, instead of an object and five strings (an envelope object per line would cost
 * ~2.5× its message). The app id is stored once, as the cache key.
 */
class AppRing {
  private messages: string[] = [];
  private sourceTypes: string[] = [];
  private sourceInstances: string[] = [];
  private errs: Uint8Array;
  private timestamps: BigInt64Array;
  private seqs: Float64Array;
  private capacity: number;
  private head = 0; // index of the oldest line
  length = 0;
  bytes = 0;

  constructor(private readonly maxLines: number) {
    this.capacity = Math.min(8, maxLines);
    this.errs = new Uint8Array(this.capacity);
    this.timestamps = new BigInt64Array(this.capacity);
    this.seqs = new Float64Array(this.capacity);
  }

  push(line: LogLine): void {
    if (this.length === this.capacity && this.capacity < this.maxLines) this.grow();
    if (this.length === this.capacity) this.dropOldest();
    const i = (this.head + this.length) % this.capacity;
    const e = line.envelope;
    this.messages[i] = e.message;
    this.sourceTypes[i] = e.sourceType;
    this.sourceInstances[i] = e.sourceInstance;
    this.errs[i] = e.messageType === 'ERR' ? 1 : 0;
    this.timestamps[i] = BigInt(e.timestamp);
    this.seqs[i] = line.seq;
    this.length++;
    this.bytes += e.message.length + RETAINED_LINE_OVERHEAD;
  }

  dropOldest(): void {
    const i = this.head;
    this.bytes -= this.messages[i].length + RETAINED_LINE_OVERHEAD;
    this.messages[i] = this.sourceTypes[i] = this.sourceInstances[i] = '';
    this.head = (this.head + 1) % this.capacity;
    this.length--;
  }

  /** The newest `limit` lines, oldest first. */
  lines(appId: string, limit: number): LogLine[] {
    const n = Math.min(limit, this.length);
    const out: LogLine[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = (this.head + this.length - n + k) % this.capacity;
      const envelope: Envelope = {
        appId,
        sourceType: this.sourceTypes[i],
        sourceInstance: this.sourceInstances[i],
        messageType: this.errs[i] ? 'ERR' : 'OUT',
        timestamp: this.timestamps[i].toString(),
        message: this.messages[i],
      };
      out[k] = new LogLine(this.seqs[i], envelope);
    }
    return out;
  }

  private grow(): void {
    const capacity = Math.min(this.capacity * 2, this.maxLines);
    const order = Array.from({ length: this.length }, (_, k) => (this.head + k) % this.capacity);
    this.messages = order.map(i => this.messages[i]);
    this.sourceTypes = order.map(i => this.sourceTypes[i]);
    this.sourceInstances = order.map(i => this.sourceInstances[i]);
    const errs = new Uint8Array(capacity);
    const timestamps = new BigInt64Array(capacity);
    const seqs = new Float64Array(capacity);
    order.forEach((i, k) => {
      errs[k] = this.errs[i];
      timestamps[k] = this.timestamps[i];
      seqs[k] = this.seqs[i];
    });
    this.errs = errs;
    this.timestamps = timestamps;
    this.seqs = seqs;
    this.capacity = capacity;
    this.head = 0;
  }
}

/**
 * The recent lines of every app, bounded three ways: lines per app, apps (least recently
 * written evicted first, so a flood of new app ids evicts idle apps, not busy ones) and bytes.
 */
export class RecentBuffer {
  private readonly apps: LRUCache<string, AppRing>;
  private readonly maxAppBytes: number;
  private bytes = 0;

  constructor(private readonly opts: RecentOptions) {
    this.maxAppBytes = Math.floor(opts.maxBytes / 4);
    this.apps = new LRUCache<string, AppRing>({
      max: opts.maxApps,
      dispose: (ring, _app, reason) => {
        this.bytes -= ring.bytes;
        if (reason === 'evict' && ring.length > 0) opts.onEvicted?.(ring.length);
      },
    });
  }

  append(line: LogLine): void {
    const appId = line.appId;
    let ring = this.apps.get(appId); // get: marks the app most recently written
    if (!ring) {
      ring = new AppRing(this.opts.linesPerApp);
      this.apps.set(appId, ring); // may evict the least recently written app
    }
    const before = ring.bytes;
    ring.push(line);
    // One app may not take more than a quarter of the byte budget: it sheds its own oldest lines.
    let shed = 0;
    while (ring.bytes > this.maxAppBytes && ring.length > 1) {
      ring.dropOldest();
      shed++;
    }
    if (shed > 0) this.opts.onEvicted?.(shed);
    this.bytes += ring.bytes - before;
    while (this.bytes > this.opts.maxBytes && this.apps.size > 1) this.apps.pop();
  }

  /** The app's newest `limit` lines (default: all retained), oldest first. */
  lines(appId: string, limit = this.opts.linesPerApp): LogLine[] {
    return this.apps.peek(appId)?.lines(appId, limit) ?? [];
  }

  get appCount(): number {
    return this.apps.size;
  }

  get lineCount(): number {
    let n = 0;
    for (const ring of this.apps.values()) n += ring.length;
    return n;
  }

  get byteCount(): number {
    return this.bytes;
  }
}

/** Keeps every line that passes in `buffer`, and passes it on. */
export function retainRecent(buffer: RecentBuffer): MonoTypeOperatorFunction<LogLine> {
  return tap(line => buffer.append(line));
}
