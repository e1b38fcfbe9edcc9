import { createHash } from 'node:crypto';

/** The kinds of drain a binding can name. */
export type DrainScheme = 'syslog' | 'syslog-tls' | 'https';

/** Where one drain writes, parsed once from its binding's URL. */
export interface DrainTarget {
  readonly scheme: DrainScheme;
  /**
   * The URL in canonical form (host in lower case; a syslog port always written), as it is
   * connected to; it may carry credentials, so it is never shown.
   */
  readonly url: string;
  /**
   * How the drain is named in logs, metrics and notices: scheme, host and port only (drain URLs
   * carry tokens in userinfo, query and, for https, the path); an https path is shown as a short
   * digest, so drains on one host stay apart without their paths being shown.
   */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export type DrainUrlResult = { readonly ok: true; readonly target: DrainTarget } | { readonly ok: false; readonly reason: string };

/** Longest drain URL accepted: past it a value is more likely garbage than a drain. */
export const MAX_DRAIN_URL_CHARS = 2048;

const DEFAULT_PORTS: Record<DrainScheme, number> = { syslog: 514, 'syslog-tls': 6514, https: 443 };

/**
 * A drain URL → its target, or why it cannot be one: `syslog://host[:514]`,
 * `syslog-tls://host[:6514]`, `https://host[:443]/path`. Plain `http://` is refused: log lines
 * are not sent in clear text over the network to a third party unless the operator chose a
 * syslog:// drain knowingly.
 */
export function parseDrainUrl(raw: string): DrainUrlResult {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'url: missing' };
  if (raw.length > MAX_DRAIN_URL_CHARS) return { ok: false, reason: `url: longer than ${MAX_DRAIN_URL_CHARS} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'url: not a URL' };
  }
  const scheme = url.protocol.slice(0, -1);
  if (!(scheme in DEFAULT_PORTS)) {
    // Echoed only when it is plainly a scheme: in "user:pass@host" the "scheme" is a user name.
    const shown = raw.startsWith(`${scheme}://`) && scheme.length <= 16 ? ` "${scheme}"` : '';
    return { ok: false, reason: `url: unsupported scheme${shown} (use syslog://, syslog-tls:// or https://)` };
  }
  // A bracketed IPv6 literal arrives as "[::1]"; net.connect wants it bare.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return { ok: false, reason: 'url: missing host' };
  const port = url.port === '' ? DEFAULT_PORTS[scheme as DrainScheme] : Number(url.port);
  if (port === 0) return { ok: false, reason: 'url: port 0' };
  // WHATWG URL knows no default port and keeps the host's case for syslog schemes: done here,
  // so that syslog://H and syslog://h:514 are one drain.
  if (scheme !== 'https') {
    url.hostname = url.hostname.toLowerCase();
    url.port = String(port);
  }
  return { ok: true, target: { scheme: scheme as DrainScheme, url: url.href, name: drainName(url.href), host: host.toLowerCase(), port } };
}

/**
 * A URL's public name: scheme, host and port; for https with a path, `(path DIGEST)` after it,
 * the first 8 hex digits of the path's SHA-256 (HTTPS log services put the account token in the
 * path: `https://logs.example.com/bulk/TOKEN`). For a value that is not a URL at all, only its
 * scheme (if any) is kept, so a malformed URL carrying a token is never logged.
 */
export function drainName(raw: string): string {
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new Error('no scheme://');
    const url = new URL(raw);
    const path = url.protocol === 'https:' ? url.pathname : '/';
    const digest = path === '/' ? '' : ` (path ${createHash('sha256').update(path).digest('hex').slice(0, 8)})`;
    return `${url.protocol}//${url.host}${digest}`;
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]{0,15}):\/\//i.exec(String(raw))?.[1];
    return scheme ? `${scheme}:(unparseable)` : '(unparseable)';
  }
}

/**
 * A store key as it may be shown: a key is not meant to hold a URL, but a hand-written one may
 * (fields swapped in bindings.json), so anything like userinfo or a query is cut, and the length
 * is bounded.
 */
export function redactKey(key: string): string {
  let cut = key;
  // Everything up to the last '@' is userinfo (a password may hold '@', '/' or spaces).
  const at = cut.lastIndexOf('@');
  if (at >= 0) {
    const slashes = cut.indexOf('//');
    const start = slashes >= 0 && slashes < at ? slashes + 2 : 0;
    cut = cut.slice(0, start) + cut.slice(at + 1);
  }
  cut = cut.replace(/[?#].*$/s, '');
  return cut.length > 200 ? `${cut.slice(0, 200)}…` : cut;
}
