import { followLines } from './followLines';
import { formatLine } from './lineFormat';
import { recentLines } from './recentLines';

export interface LogsOptions {
  readonly app: string;
  readonly recent: boolean;
  readonly json: boolean;
  /** The traffic controller's (or one router's) HTTP address, e.g. http://127.0.0.1:8080. */
  readonly target: URL;
  /** Sent as "Authorization: Bearer" (the traffic controller needs one; a router ignores it). */
  readonly token?: string;
  readonly colour: boolean;
  /** Reconnect attempts in a row after a connection drops, before giving up. */
  readonly maxReconnects?: number;
  /** Told each time a tail connection is open (for tests, and callers that show status). */
  readonly onConnected?: () => void;
  /** Stops a live tail (it then resolves 0). */
  readonly signal?: AbortSignal;
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
}

/**
 * `loggregator logs APP [--recent]`. With --recent: the app's recent lines, then exit. Without:
 * a live tail (followLines) that asks for the recent lines too after a reconnect, so that lines
 * sent while away are not lost, and skips those already printed.
 */
export async function logs(opts: LogsOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t + '\n'));
  const err = opts.err ?? ((t: string) => process.stderr.write(t + '\n'));
  if (opts.recent) return recentLines(opts, out, err);
  return followLines({
    ...opts,
    url: reconnect => {
      const url = new URL('/tail', opts.target);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.searchParams.set('app', opts.app);
      if (reconnect) url.searchParams.set('recent', 'true');
      return url;
    },
    replays: true,
    print: (envelope, frame) => out(opts.json ? frame : formatLine(envelope, opts.colour)),
    err,
  });
}
