import { StringDecoder } from 'node:string_decoder';
import { Etcd3 } from 'etcd3';
import { Subject, Subscription, firstValueFrom, shareReplay, timeout } from 'rxjs';
import { routers$ as discoverRouters } from '../cluster/routerDiscovery';
import { Config } from '../config/loadConfig';
import { createEtcdClient } from '../etcd/etcdClient';
import { createLogger } from '../logger';
import { splitLines } from '../../streams/splitLines';
import { Envelope, MessageType, nowNs } from '../envelope/envelope';
import { envelopeFromValue } from '../envelope/codec';
import { UdpEmitter, parseUdpTarget } from '../emitter/udpEmitter';

/** Longest stdin line held before it is cut (it is also split into datagrams as needed). */
const MAX_LINE_CHARS = 1024 * 1024;

export interface EmitOptions {
  readonly app: string;
  readonly message?: string;
  readonly sourceType: string;
  readonly instance: string;
  readonly stderr: boolean;
  /** Where the routers are: routers.static, or etcd (the set is followed while stdin is read). */
  readonly routing: Config;
  readonly secret?: string;
  readonly maxDatagramBytes: number;
}

/**
 * `loggregator emit APP [MESSAGE]`: MESSAGE, or every line of stdin (so `./app 2>&1 |
 * loggregator emit APP` works). Envelopes are validated before sending so a bad app id or source
 * type is reported here, not silently rejected by the router.
 */
export async function emit(opts: EmitOptions, err: (t: string) => void): Promise<number> {
  const messageType: MessageType = opts.stderr ? 'ERR' : 'OUT';
  const envelope = (message: string): Envelope => ({
    appId: opts.app,
    sourceType: opts.sourceType,
    sourceInstance: opts.instance,
    messageType,
    timestamp: nowNs(),
    message,
  });
  const check = envelopeFromValue(envelope(''));
  if (!check.ok) {
    err(`cannot emit: ${check.detail}`);
    return 2;
  }
  const emitter = new UdpEmitter([], { secret: opts.secret, maxDatagramBytes: opts.maxDatagramBytes });
  const routing = opts.routing;
  const etcd: Etcd3 | undefined = routing.routers.discovery === 'etcd' ? createEtcdClient(routing) : undefined;
  const where = routing.routers.discovery === 'etcd' ? `the routers registered in etcd (${routing.etcd.endpoints.join(',')})` : routing.routers.static.map(r => r.udp).join(', ');
  const routers$ = discoverRouters(routing, { client: etcd, logger: createLogger('error', 'emit') }).pipe(shareReplay({ bufferSize: 1, refCount: true }));
  let following: Subscription | undefined;
  try {
    // Followed first, then waited for: the wait shares this subscription's read of the set
    // (on its own, the shared read would end with the wait and start again from nothing).
    following = routers$.subscribe(routers => emitter.setRouters(routers.map(r => ({ ...parseUdpTarget(r.udp), id: r.id }))));
    try {
      await firstValueFrom(routers$.pipe(timeout(routing.etcd.dialTimeoutMs)));
    } catch {
      err(`cannot find the routers: etcd at ${routing.etcd.endpoints.join(',')} did not answer within ${routing.etcd.dialTimeoutMs} ms`);
      return 1;
    }
    if (opts.message !== undefined) {
      await emitter.send(envelope(opts.message));
    } else {
      // Invalid UTF-8 becomes U+FFFD; one chunk's lines are sent before the next chunk is read,
      // so a fast writer is paced by the sender and memory stays bounded.
      const decoder = new StringDecoder('utf8');
      const chunk$ = new Subject<string>();
      const pending: string[] = [];
      const splitting = chunk$.pipe(splitLines({ maxLineChars: MAX_LINE_CHARS })).subscribe(line => pending.push(line));
      const sendPending = async () => {
        for (const line of pending.splice(0)) await emitter.send(envelope(line));
      };
      try {
        for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
          chunk$.next(decoder.write(chunk));
          await sendPending();
        }
        chunk$.next(decoder.end());
        chunk$.complete();
        await sendPending();
      } finally {
        splitting.unsubscribe();
      }
    }
    return 0;
  } catch (e) {
    err(`cannot send to ${where}: ${(e as Error).message}`);
    return 1;
  } finally {
    following?.unsubscribe();
    etcd?.close();
    await emitter.close();
  }
}
