import { LiveClientOptions, followLines } from './followLines';
import { formatLine } from './lineFormat';
import { recentLines } from './recentLines';

export interface LogsOptions extends LiveClientOptions {
  readonly app: string;
  readonly recent: boolean;
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
