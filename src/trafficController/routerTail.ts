import { routerApiHeaders } from '../auth/routerApiToken';
import { Observable, fromEventPattern } from 'rxjs';
import WebSocket from 'ws';
import { keepalive } from '../../streams/keepalive';
import { Feed } from '../../streams/routerFeeds';
import { RouterInfo } from '../../streams/routerInfo';
import { decodeEnvelopeJson } from '../envelope/codec';
import { LogLine } from '../../streams/logLine';

export interface RouterTailOptions {
  readonly keepaliveMs: number;
  readonly handshakeTimeoutMs: number;
  /** The routers' API token (with sharedSecret), sent as a bearer token. */
  readonly apiToken?: string;
  /** Told of a frame that is not an envelope of the app asked for (counted; the stream goes on). */
  readonly onInvalidFrame: (router: RouterInfo, detail: string) => void;
}

/** A router frame is one envelope: its message is bounded by a datagram, its JSON by 6× that. */
const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * One app's live lines from one router's websocket /tail (or, with `appId` undefined, every
 * app's from its /firehose), as a feed: `connected` once the
 * upgrade succeeded, then each envelope. Errors (never completes by itself) when the router
 * refuses, cannot be reached, closes, or stops answering pings, so that the caller reconnects.
 * A frame that is not a valid envelope of this app is counted and skipped: a router's bug must
 * not show one app's lines to another's reader, nor end the stream.
 */
export function routerTail(router: RouterInfo, appId: string | undefined, opts: RouterTailOptions): Observable<Feed<LogLine>> {
  return new Observable<Feed<LogLine>>(subscriber => {
    if (router.http === undefined) {
      subscriber.error(new Error(`router ${router.id} has no HTTP address`));
      return;
    }
    const url = appId === undefined ? `ws://${router.http}/firehose` : `ws://${router.http}/tail?app=${encodeURIComponent(appId)}`;
    const ws = new WebSocket(url, {
      handshakeTimeout: opts.handshakeTimeoutMs,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      headers: routerApiHeaders(opts.apiToken),
    });
    let pinging: { unsubscribe(): void } | undefined;
    ws.on('open', () => {
      subscriber.next({ kind: 'connected' });
      // A router gone without a FIN (partition, frozen host) is noticed by its missing pongs.
      pinging = keepalive(
        fromEventPattern(
          handler => ws.on('pong', handler),
          handler => ws.off('pong', handler),
        ),
        { intervalMs: opts.keepaliveMs },
      ).subscribe({ next: () => ws.ping(), error: err => subscriber.error(err) });
    });
    ws.on('message', data => {
      // The router's canonical text is kept: clients are sent it as it came, not encoded again.
      const decoded = decodeEnvelopeJson(data.toString(), true);
      if (!decoded.ok) return opts.onInvalidFrame(router, decoded.detail);
      if (appId !== undefined && decoded.envelope.appId !== appId) return opts.onInvalidFrame(router, `a line of another app (${decoded.envelope.appId})`);
      subscriber.next({ kind: 'line', line: new LogLine(0, decoded.envelope, decoded.json, router.id) });
    });
    ws.on('unexpected-response', (_req, res) => {
      subscriber.error(new Error(`refused: HTTP ${res.statusCode}`));
      res.resume();
      ws.terminate();
    });
    ws.on('error', err => subscriber.error(new Error((err as NodeJS.ErrnoException).code ?? err.message)));
    ws.on('close', code => subscriber.error(new Error(code === 1001 ? 'router going away' : `connection closed (${code})`)));
    return () => {
      pinging?.unsubscribe();
      ws.removeAllListeners('close');
      ws.on('error', () => undefined);
      // In every state, CONNECTING too: a router that accepted the connection but never answers
      // the upgrade would otherwise hold it until handshakeTimeoutMs; terminate() aborts the
      // handshake and destroys the socket at once (spec/src/trafficController/hungHandshake.spec.ts).
      ws.terminate();
    };
  });
}
