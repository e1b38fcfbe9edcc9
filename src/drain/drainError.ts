/** A drain failure as words for an app developer reading their own log stream. */
export function describeDrainError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { reason?: string };
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset by the receiver';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return 'host name lookup failed';
    case 'ETIMEDOUT':
    case 'ERR_DRAIN_CONNECT_TIMEOUT':
      return 'connect timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ERR_DRAIN_TIMEOUT':
      return 'request timed out';
    case 'ERR_DRAIN_STALLED':
      return 'receiver stopped reading';
    case 'ERR_DRAIN_CLOSED':
      return 'connection closed by the receiver';
  }
  // TLS: node reports certificate problems with OpenSSL's codes (CERT_HAS_EXPIRED, …).
  if (typeof e?.code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|ISSUER|SIGNATURE/.test(e.code)) return `TLS handshake failed: ${e.code}`;
  if (typeof e?.message === 'string' && /SSL|TLS|handshake/i.test(e.message)) return `TLS handshake failed: ${e.message}`;
  if (typeof e?.code === 'string') return e.code;
  return e?.message ?? String(err);
}

/** An error with a code of our own, for failures node does not report as errors. */
export function drainError(code: 'ERR_DRAIN_CONNECT_TIMEOUT' | 'ERR_DRAIN_TIMEOUT' | 'ERR_DRAIN_STALLED' | 'ERR_DRAIN_CLOSED', message: string): Error {
  return Object.assign(new Error(message), { code });
}
