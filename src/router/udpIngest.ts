import { createSocket, Socket } from 'node:dgram';
import { AddressInfo, isIPv6 } from 'node:net';
import { Observable, Subject } from 'rxjs';
import { Logger } from '../logger';

export interface UdpIngest {
  readonly address: AddressInfo;
  /** Every datagram received, hot: lines that arrive while nobody subscribes are not kept. */
  readonly datagram$: Observable<Buffer>;
  /** Stops receiving; datagram$ completes. */
  close(): Promise<void>;
}

export interface UdpIngestOptions {
  readonly host: string;
  readonly port: number;
  readonly receiveBufferBytes: number;
}

/** Binds the router's UDP port. Resolves once bound; rejects if the port cannot be had. */
export function bindUdp(opts: UdpIngestOptions, logger: Logger): Promise<UdpIngest> {
  const socket: Socket = createSocket({ type: isIPv6(opts.host) ? 'udp6' : 'udp4' });
  const datagram$ = new Subject<Buffer>();
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port, opts.host, () => {
      socket.off('error', reject);
      try {
        socket.setRecvBufferSize(opts.receiveBufferBytes);
      } catch (err) {
        logger.warn('could not set the UDP receive buffer size', { wanted: opts.receiveBufferBytes, error: String(err) });
      }
      // A receive error on one datagram is not a reason to stop receiving the others.
      socket.on('error', err => logger.error('UDP socket error', { error: err.message }));
      socket.on('message', datagram => datagram$.next(datagram));
      socket.on('close', () => datagram$.complete());
      let closed: Promise<void> | undefined;
      resolve({
        address: socket.address(),
        datagram$: datagram$.asObservable(),
        close: () => (closed ??= new Promise<void>(done => socket.close(() => done()))),
      });
    });
  });
}
