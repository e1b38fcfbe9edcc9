/** What `/#app=ID&token=TOKEN` asks for: sign in with the token, open the app; either may be missing. */
export interface SignInFragment {
  readonly app?: string;
  readonly token?: string;
}

/**
 * Reads a location's fragment (`#app=…&token=…`). Decoded by hand, not with URLSearchParams,
 * which reads a "+" as a space: a bearer token may hold "+" (RFC 6750's b64token).
 */
export function parseSignInFragment(hash: string): SignInFragment {
  const out: { app?: string; token?: string } = {};
  for (const part of hash.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      continue;
    }
    if (value === '') continue;
    if (name === 'app') out.app = value;
    if (name === 'token') out.token = value;
  }
  return out;
}

/** The fragment that signs in with `token` and opens `app` (what `serve` prints). */
export function signInFragment(token: string, app?: string): string {
  return `#${app === undefined ? '' : `app=${encodeURIComponent(app)}&`}token=${encodeURIComponent(token)}`;
}
