// A live stream for the page (an app's tail, or the firehose): the rules of `loggregator logs`
// (src/cli/logs.ts) in a browser. A connection that drops is opened again after a capped,
// jittered backoff; where each connection replays recent lines first (an app's tail), the lines
// it replays that were shown already are skipped (PrintedLines, the CLI's own). Unlike the CLI
// it never gives up: a console left open comes back when the traffic controller does.
import { backoffDelay } from '../../streams/backoff';
import { PrintedLines } from '../cli/printedLines';
import { RECONNECT_BACKOFF } from '../cli/retryDelay';
import { lineKey } from './lineKey';
import { Refusal } from './refusal';
import { TailLine, decodeTailFrame } from './tailLine';
import { TailStatus } from './tailStatus';

/** Lines remembered to recognise a replay: as the CLI, the most a router keeps per app. */
const REMEMBERED_LINES = 10_000;

/** Close code of a stream whose token was revoked while it was open (see the traffic controller). */
const POLICY_VIOLATION = 1008;

/** Refusals that another attempt would get again: the reader must act (another token, app or id). */
const FINAL = new Set([400, 401, 403]);

/** What a TailConnection connects to. */
export interface TailSource {
  /** The websocket address of the `connection`-th connection (1, 2, …). */
  url(connection: number): string;
  /**
   * Why that connection was refused, asked over HTTP when it closed before it opened (a browser
   * is not told the status of a refused upgrade); undefined when the check passes or nothing
   * answers. A 400, 401 or 403 ends the attempts; any other refusal is the reason shown for the next.
   */
  refusal(connection: number): Promise<Refusal | undefined>;
  /** Whether each connection replays lines first (recent=true): those shown already are skipped. */
  readonly replays: boolean;
}

export interface TailHandlers {
  /** A line not shown before, in arrival order. */
  readonly line: (line: TailLine) => void;
  readonly status: (status: TailStatus) => void;
  /** A frame that was not a line (skipped). */
  readonly invalidFrame?: () => void;
}

function closeReason(event: CloseEvent): string {
  const why = event.reason === '' ? '' : ` ${event.reason}`;
  return event.code === 1006 ? 'connection lost (1006)' : `connection closed (${event.code}${why})`;
}

export class TailConnection {
  private ws: WebSocket | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private attempt = 0;
  /** Connections opened so far (each attempt is one). */
  private connections = 0;
  private connectedOnce = false;
  private readonly printed: PrintedLines | undefined;

  constructor(
    private readonly source: TailSource,
    private readonly handlers: TailHandlers,
  ) {
    this.printed = source.replays ? new PrintedLines(REMEMBERED_LINES) : undefined;
  }

  start(): void {
    this.handlers.status({ kind: 'connecting' });
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.ws?.close(1000, 'closed by the reader');
    this.ws = undefined;
  }

  private connect(): void {
    if (this.stopped) return;
    const connection = ++this.connections;
    const ws = new WebSocket(this.source.url(connection));
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const again = this.connectedOnce;
      // Before any frame of this connection: what it replays is recognised from its first frame.
      if (again) this.printed?.replayStarts();
      this.connectedOnce = true;
      this.handlers.status({ kind: 'live', again });
    };
    ws.onmessage = event => {
      const line = typeof event.data === 'string' ? decodeTailFrame(event.data) : undefined;
      if (line === undefined) return this.handlers.invalidFrame?.();
      this.attempt = 0;
      if (this.printed === undefined || this.printed.admit(lineKey(line))) this.handlers.line(line);
    };
    ws.onclose = event => {
      if (this.stopped || this.ws !== ws) return;
      this.ws = undefined;
      void this.closed(event, opened, connection);
    };
  }

  private async closed(event: CloseEvent, opened: boolean, connection: number): Promise<void> {
    if (event.code === POLICY_VIOLATION) {
      const status = /no longer valid/.test(event.reason) ? 401 : 403;
      return this.handlers.status({ kind: 'refused', refusal: { status, message: event.reason || 'token revoked' } });
    }
    let reason = opened ? closeReason(event) : 'cannot connect';
    if (!opened) {
      // Refused before it opened: the browser does not say with what status; ask over HTTP.
      const refusal = await this.source.refusal(connection);
      if (this.stopped) return;
      if (refusal !== undefined && FINAL.has(refusal.status)) return this.handlers.status({ kind: 'refused', refusal });
      if (refusal !== undefined) reason = `cannot connect (${refusal.message})`;
    }
    this.attempt++;
    const retryInMs = backoffDelay(this.attempt, RECONNECT_BACKOFF);
    this.handlers.status({ kind: 'disconnected', reason, retryInMs, attempt: this.attempt });
    this.retry = setTimeout(() => this.connect(), retryInMs);
  }
}
