import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';

/** Why a request was refused, as the refused-requests metrics label it. */
export type RefusedReason =
  | 'bad_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_many_clients'
  | 'origin_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'authorizer_unavailable'
  /** The traffic controller before router discovery has answered. */
  | 'routers_unknown'
  /** The traffic controller's /recent when every router asked failed (502). */
  | 'routers_failed'
  /** A router whose worker for the app is restarting, or cannot be reached (503). */
  | 'worker_unavailable';

/** A request answered with an error: its status, its counted reason, and a message for the caller. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly reason: RefusedReason,
    readonly message: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

export function errorBody(message: string): string {
  return JSON.stringify({ error: message }) + '\n';
}

/** The request's URL, or a Refusal when it cannot be parsed. */
export function parseUrl(req: IncomingMessage): URL | Refusal {
  try {
    return new URL(req.url ?? '/', 'http://loggregator');
  } catch {
    return new Refusal(400, 'bad_request', 'malformed request URL');
  }
}

/** A refusal as a JSON `{"error": ...}` response. */
export function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { 'Content-Type': 'application/json', ...refusal.headers }).end(errorBody(refusal.message));
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** A refused websocket upgrade: a plain HTTP response on the raw socket, then closed. */
export function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const body = errorBody(refusal.message);
  const extra = Object.entries(refusal.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? 'Error'}\r\nContent-Type: application/json\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The status line for a request node's parser refused (431, 408 or 400). */
export function clientErrorStatus(code: string | undefined): string {
  if (code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}
