import { Observable, defer, map, merge } from 'rxjs';
import { Envelope } from '../src/envelope/envelope';
import { BackoffOptions, reconnectWithBackoff } from './backoff';
import { Instance } from './instance';
import { splitLines } from './splitLines';

export type StdStream = 'stdout' | 'stderr';

export interface InstanceLinesDeps {
  /**
   * One connection to a unix socket as decoded text chunks: completes at EOF, or soon after
   * `stop$` emits; errors when it cannot connect or breaks.
   */
  readonly connect: (socketPath: string, stop$: Observable<void>) => Observable<string>;
  /** The read time of a line, in ns since the epoch. */
  readonly nowNs: () => string;
  readonly maxLineChars: number;
  readonly backoff: BackoffOptions;
  readonly onRetry?: (instance: Instance, stream: StdStream, error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * One instance's stdout and stderr as envelopes. Each socket is read line by line and, while
 * the instance is listed, reconnected with capped backoff when it is missing, refuses, breaks
 * or ends; a line split across a reconnect is passed on as it was read, never lost. Completes
 * once `stop$` has emitted and both sockets have passed on what they held.
 */
export function instanceLines(instance: Instance, stop$: Observable<void>, deps: InstanceLinesDeps): Observable<Envelope> {
  const sourceInstance = String(instance.index);
  const stream = (name: StdStream): Observable<Envelope> => {
    const messageType = name === 'stdout' ? 'OUT' : 'ERR';
    return defer(() => deps.connect(`${instance.jobDir}/${name}.sock`, stop$).pipe(splitLines({ maxLineChars: deps.maxLineChars }))).pipe(
      reconnectWithBackoff<string>(stop$, {
        ...deps.backoff,
        onRetry: (error, attempt, delayMs) => deps.onRetry?.(instance, name, error, attempt, delayMs),
      }),
      map(message => ({
        appId: instance.appId,
        sourceType: 'APP',
        sourceInstance,
        messageType,
        timestamp: deps.nowNs(),
        message,
      })),
    );
  };
  return merge(stream('stdout'), stream('stderr'));
}
