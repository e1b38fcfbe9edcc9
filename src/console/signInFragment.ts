import { FIREHOSE, LogSubject, appSubject } from './logSubject';

/**
 * What `/#app=ID&token=TOKEN` or `/#firehose&token=TOKEN` asks for: sign in with the token, open
 * the app or the firehose; any part may be missing.
 */
export interface SignInFragment {
  readonly app?: string;
  readonly firehose?: true;
  readonly token?: string;
}

/** The fragment's word for the firehose view (a part without a value). */
const FIREHOSE_PART = 'firehose';

/**
 * Reads a location's fragment (`#app=…&token=…`, `#firehose&token=…`). Decoded by hand, not with
 * URLSearchParams, which reads a "+" as a space: a bearer token may hold "+" (RFC 6750's b64token).
 */
export function parseSignInFragment(hash: string): SignInFragment {
  const out: { app?: string; firehose?: true; token?: string } = {};
  for (const part of hash.replace(/^#/, '').split('&')) {
    if (part === FIREHOSE_PART) out.firehose = true;
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

/** What the fragment opens once signed in: the app it names, else the firehose if it says so. */
export function fragmentSubject(fragment: SignInFragment): LogSubject | undefined {
  if (fragment.app !== undefined) return appSubject(fragment.app);
  return fragment.firehose ? FIREHOSE : undefined;
}

/** The fragment that signs in with `token` and opens `app`, or the firehose (what `serve` prints: the token alone). */
export function signInFragment(token: string, open?: LogSubject): string {
  const what = open === undefined ? '' : open.kind === 'app' ? `app=${encodeURIComponent(open.app)}&` : `${FIREHOSE_PART}&`;
  return `#${what}token=${encodeURIComponent(token)}`;
}
