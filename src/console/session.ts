// The token the reader signed in with: kept in sessionStorage (this tab only, gone when it
// closes; never a cookie, so no request carries it unless the page puts it there).
const TOKEN_KEY = 'loggregator.token';

export function savedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the reader signs in on each load
  }
}

export function saveToken(token: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage disabled: the token lives as long as the page
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing kept
  }
}
