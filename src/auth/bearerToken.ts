// The caller's bearer token (RFC 6750), from the Authorization header or, where a browser cannot
// set headers (websockets), from the access_token query parameter. Messages never quote the
// token, nor anything that might be one (a header without a scheme is all token).
import { IncomingHttpHeaders } from 'node:http';

export type TokenLookup = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'malformed'; message: string };

export const MAX_TOKEN_CHARS = 4096;

/** RFC 6750's b64token: what a JWT, a base64url random token or a UAA token is made of. */
export const B64TOKEN_PATTERN = '^[A-Za-z0-9._~+/-]+=*$';
const B64TOKEN = new RegExp(B64TOKEN_PATTERN);

export const TOKEN_RULE = `1 to ${MAX_TOKEN_CHARS} characters of A-Z a-z 0-9 - . _ ~ + / with optional trailing =`;

/** Why a string cannot be a bearer token, or undefined if it can be one. */
export function tokenProblem(token: string): string | undefined {
  if (token.length === 0) return 'the bearer token is empty';
  if (token.length > MAX_TOKEN_CHARS) return `the bearer token is longer than ${MAX_TOKEN_CHARS} characters`;
  if (!B64TOKEN.test(token)) return `the bearer token has characters a bearer token cannot have (${TOKEN_RULE})`;
  return undefined;
}

export function isWellFormedToken(token: string): boolean {
  return tokenProblem(token) === undefined;
}

const malformed = (message: string): TokenLookup => ({ kind: 'malformed', message });

/**
 * The token a request carries. With `allowQuery`, `?access_token=` counts too; given both ways it
 * must be the same token. Without `allowQuery` the parameter is refused rather than ignored, so
 * the caller hears why it was not accepted instead of "no token".
 */
export function bearerToken(headers: IncomingHttpHeaders, url: URL, opts: { allowQuery: boolean }): TokenLookup {
  const fromHeader = headerToken(headers.authorization);
  if (fromHeader.kind === 'malformed') return fromHeader;

  const params = url.searchParams.getAll('access_token');
  if (params.length === 0) return fromHeader;
  if (!opts.allowQuery) return malformed('the access_token query parameter is not accepted here; send the header "Authorization: Bearer <token>"');
  if (params.length > 1) return malformed('the access_token query parameter is given more than once');
  const fromQuery = params[0];
  const problem = tokenProblem(fromQuery);
  if (problem !== undefined) {
    // URLSearchParams decodes "+" to a space: a b64token's "+" must be sent as %2B.
    const hint = fromQuery.includes(' ') ? ' (in a query, "+" must be percent-encoded as %2B)' : '';
    return malformed(`access_token: ${problem}${hint}`);
  }
  if (fromHeader.kind === 'token' && fromHeader.token !== fromQuery) {
    return malformed('the Authorization header and the access_token query parameter carry different tokens; send one');
  }
  return { kind: 'token', token: fromQuery };
}

function headerToken(value: string | undefined): TokenLookup {
  if (value === undefined) return { kind: 'none' };
  // The scheme ends at the first whitespace; the token follows one space or more (a tab is left
  // in, so it is refused as a character a token cannot have).
  const end = value.search(/\s/);
  const scheme = end < 0 ? value : value.slice(0, end);
  if (scheme.toLowerCase() !== 'bearer') {
    return malformed('the Authorization header must use the Bearer scheme: "Authorization: Bearer <token>"');
  }
  const token = end < 0 ? '' : value.slice(end).replace(/^ +/, '');
  const problem = tokenProblem(token);
  return problem === undefined ? { kind: 'token', token } : malformed(`Authorization header: ${problem}`);
}

/**
 * A request URL (absolute or a path with a query) with the value of every access_token query
 * parameter replaced by REDACTED, for log lines. Parameter names are matched as URLSearchParams
 * would read them (percent-decoded), and without regard to case, so no spelling slips through.
 */
export function redactAccessToken(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const hash = url.indexOf('#', start);
  const end = hash < 0 ? url.length : hash;
  const query = url
    .slice(start + 1, end)
    .split('&')
    .map(pair => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return decodedName(name).toLowerCase() === 'access_token' ? `${name}=REDACTED` : pair;
    })
    .join('&');
  return url.slice(0, start + 1) + query + url.slice(end);
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
