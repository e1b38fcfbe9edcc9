// An app's live tail for the page: the rules of `loggregator logs` (src/cli/logs.ts) in a
// browser. Every connection asks for the recent lines first (recent=true); a connection that
// drops is opened again after a capped, jittered backoff, and the lines it replays that were
// shown already are skipped (PrintedLines, the CLI's own). Unlike the CLI it never gives up: a
// console left open comes back when the traffic controller does.
import { backoffDelay } from '../../streams/backoff';
import { PrintedLines } from '../cli/printedLines';
import { RECONNECT_BACKOFF } from '../cli/retryDelay';
import { tailRefusal } from './consoleApi';
import { lineKey } from './lineKey';
import { Refusal } from './refusal';
import { TailLine, decodeTailFrame } from './tailLine';
import { tailUrl } from './tailUrl';

/** Lines remembered to recognise a replay: as the CLI, the most a router keeps per app. */
const REMEMBERED_LINES = 10_000;

/** Close code of a tail whose token was revoked while it was open (see the traffic controller). */
const POLICY_VIOLATION = 1008;

export type TailStatus =
  | { readonly kind: 'connecting' }
  /** `again`: after a disconnection. */
  | { readonly kind: 'live'; readonly again: boolean }
  | { readonly kind: 'disconnected'; readonly reason: string; readonly retryInMs: number; readonly attempt: number }
  /** The token may not read the app (or no longer): no more attempts. */
  | { readonly kind: 'refused'; readonly refusal: Refusal };

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
  private connectedOnce = false;
  private readonly printed = new PrintedLines(REMEMBERED_LINES);

  constructor(
    private readonly app: string,
    private readonly token: string,
    private readonly handlers: TailHandlers,
  ) {}

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
    const ws = new WebSocket(tailUrl(location, this.app, this.token));
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const again = this.connectedOnce;
      // Before any frame of this connection: what it replays is recognised from its first frame.
      if (again) this.printed.replayStarts();
      this.connectedOnce = true;
      this.handlers.status({ kind: 'live', again });
    };
    ws.onmessage = event => {
      const line = typeof event.data === 'string' ? decodeTailFrame(event.data) : undefined;
      if (line === undefined) return this.handlers.invalidFrame?.();
      this.attempt = 0;
      if (this.printed.admit(lineKey(line))) this.handlers.line(line);
    };
    ws.onclose = event => {
      if (this.stopped || this.ws !== ws) return;
      this.ws = undefined;
      void this.closed(event, opened);
    };
  }

  private async closed(event: CloseEvent, opened: boolean): Promise<void> {
    if (event.code === POLICY_VIOLATION) {
      const status = /no longer valid/.test(event.reason) ? 401 : 403;
      return this.handlers.status({ kind: 'refused', refusal: { status, message: event.reason || 'token revoked' } });
    }
    if (!opened) {
      // Refused before it opened: the browser does not say with what status; ask over HTTP.
      const refusal = await tailRefusal(this.app, this.token);
      if (this.stopped) return;
      if (refusal !== undefined) return this.handlers.status({ kind: 'refused', refusal });
    }
    this.attempt++;
    const retryInMs = backoffDelay(this.attempt, RECONNECT_BACKOFF);
    this.handlers.status({ kind: 'disconnected', reason: opened ? closeReason(event) : 'cannot connect', retryInMs, attempt: this.attempt });
    this.retry = setTimeout(() => this.connect(), retryInMs);
  }
}
