import { LiveClientOptions, followLines } from './followLines';
import { formatLine } from './lineFormat';

export interface FirehoseOptions extends LiveClientOptions {
  /** Consumers with the same id share the lines (each app's lines go to one of them). */
  readonly subscription: string;
}

/**
 * `loggregator firehose [--subscription ID]`: every app's lines, each with its app id, until
 * stopped; reconnects as `logs` does. There is no replay: lines sent while disconnected are
 * gone (the traffic controller keeps no firehose history).
 */
export function firehose(opts: FirehoseOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t + '\n'));
  const err = opts.err ?? ((t: string) => process.stderr.write(t + '\n'));
  return followLines({
    ...opts,
    url: () => {
      const url = new URL('/firehose', opts.target);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.searchParams.set('subscription', opts.subscription);
      return url;
    },
    replays: false,
    print: (envelope, frame) => out(opts.json ? frame : formatLine(envelope, opts.colour, true)),
    err,
  });
}
