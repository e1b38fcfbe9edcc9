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

/** What a retained line costs beyond its characters (pointers, timestamp, headers). */
export const RETAINED_LINE_OVERHEAD = 48;

/**
 * What a line is counted as retaining: its message, and its source's characters too: an app's
 * table of distinct sources can hold up to twice as many as it has lines, so counting each
 * line's source bounds the table by the budget as well (ever-new instance ids are not free).
 */
export function retainedBytes(e: Envelope): number {
  return e.message.length + e.sourceType.length + e.sourceInstance.length + RETAINED_LINE_OVERHEAD;
}

/**
 * One app's last N lines, column by column: a retained line costs its message plus a few
 * machine words, instead of an object and five strings (an envelope object per line would cost
 * ~2.5× its message). The app id is stored once, as the cache key; (messageType, sourceType,
 * sourceInstance), which an app repeats from line to line, is stored once per distinct value
 * and referred to by a 16-bit index.
 */
class AppRing {
  private messages: string[];
  private sourceIds: Uint16Array;
  private timestamps: BigInt64Array;
  private seqs: Float64Array;
  /** Distinct sources: "OUT|ERR" + sourceType + "\u0000" + sourceInstance, by index. */
  private sources: string[] = [];
  private sourceIndex = new Map<string, number>();
  private capacity: number;
  private head = 0; // index of the oldest line
  length = 0;
  bytes = 0;

  constructor(private readonly maxLines: number) {
    this.capacity = Math.min(8, maxLines);
    this.messages = new Array<string>(this.capacity).fill('');
    this.sourceIds = new Uint16Array(this.capacity);
    this.timestamps = new BigInt64Array(this.capacity);
    this.seqs = new Float64Array(this.capacity);
  }

  push(line: LogLine): void {
    if (this.length === this.capacity && this.capacity < this.maxLines) this.grow();
    if (this.length === this.capacity) this.dropOldest();
    const e = line.envelope;
    const sourceId = this.sourceId(`${e.messageType}${e.sourceType}\u0000${e.sourceInstance}`);
    const i = (this.head + this.length) % this.capacity;
    this.messages[i] = e.message;
    this.sourceIds[i] = sourceId;
    this.timestamps[i] = BigInt(e.timestamp);
    this.seqs[i] = line.seq;
    this.length++;
    this.bytes += retainedBytes(e);
  }

  dropOldest(): void {
    const i = this.head;
    // retainedBytes of the stored line: its source is kind (3) + type + NUL (1) + instance.
    this.bytes -= this.messages[i].length + this.sources[this.sourceIds[i]].length - 4 + RETAINED_LINE_OVERHEAD;
    this.messages[i] = '';
    this.head = (this.head + 1) % this.capacity;
    this.length--;
  }

  /** The timestamp of the line written last. */
  get lastTimestamp(): string {
    return this.timestamps[(this.head + this.length - 1) % this.capacity].toString();
  }

  /** The newest `limit` lines, oldest first. */
  lines(appId: string, limit: number): LogLine[] {
    const n = Math.min(limit, this.length);
    const out: LogLine[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const i = (this.head + this.length - n + k) % this.capacity;
      const source = this.sources[this.sourceIds[i]];
      const nul = source.indexOf('\u0000');
      const envelope: Envelope = {
        appId,
        sourceType: source.slice(3, nul),
        sourceInstance: source.slice(nul + 1),
        messageType: source.startsWith('ERR') ? 'ERR' : 'OUT',
        timestamp: this.timestamps[i].toString(),
        message: this.messages[i],
      };
      out[k] = new LogLine(this.seqs[i], envelope);
    }
    return out;
  }

  private sourceId(source: string): number {
    let id = this.sourceIndex.get(source);
    if (id === undefined) {
      // The table only grows with sources still retained: past twice the ring, rebuild it.
      if (this.sources.length >= Math.max(16, this.maxLines * 2)) this.compactSources();
      id = this.sources.length;
      this.sources.push(source);
      this.sourceIndex.set(source, id);
    }
    return id;
  }

  private compactSources(): void {
    const sources: string[] = [];
    const index = new Map<string, number>();
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) % this.capacity;
      const source = this.sources[this.sourceIds[i]];
      let id = index.get(source);
      if (id === undefined) {
        id = sources.length;
        sources.push(source);
        index.set(source, id);
      }
      this.sourceIds[i] = id;
    }
    this.sources = sources;
    this.sourceIndex = index;
  }

  private grow(): void {
    const capacity = Math.min(this.capacity * 2, this.maxLines);
    const messages = new Array<string>(capacity).fill('');
    const sourceIds = new Uint16Array(capacity);
    const timestamps = new BigInt64Array(capacity);
    const seqs = new Float64Array(capacity);
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) % this.capacity;
      messages[k] = this.messages[i];
      sourceIds[k] = this.sourceIds[i];
      timestamps[k] = this.timestamps[i];
      seqs[k] = this.seqs[i];
    }
    this.messages = messages;
    this.sourceIds = sourceIds;
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

  /** Approximate bytes retained for an app (0 for an unknown one). */
  appBytes(appId: string): number {
    return this.apps.peek(appId)?.bytes ?? 0;
  }

  /** The app's newest `limit` lines (default: all retained), oldest first. */
  lines(appId: string, limit = this.opts.linesPerApp): LogLine[] {
    return this.apps.peek(appId)?.lines(appId, limit) ?? [];
  }

  /**
   * The `limit` apps written to most recently, most recent first, each with the timestamp of its
   * line written last: read in the order the buffer keeps, so the cost is `limit`, not every app.
   */
  lastWritten(limit: number): { appId: string; timestamp: string }[] {
    const apps: { appId: string; timestamp: string }[] = [];
    if (limit <= 0) return apps;
    for (const [appId, ring] of this.apps.entries()) {
      apps.push({ appId, timestamp: ring.lastTimestamp });
      if (apps.length >= limit) break;
    }
    return apps;
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
