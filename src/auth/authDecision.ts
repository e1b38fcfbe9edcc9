// What an authorizer answers, with messages written for the HTTP client (none names a token).

export type AuthDecision =
  | { allowed: true }
  | { allowed: false; status: 401 | 403 | 503; reason: 'unknown_token' | 'forbidden' | 'authorizer_unavailable'; message: string };

export const ALLOWED: AuthDecision = { allowed: true };

export function unknownToken(): AuthDecision {
  return { allowed: false, status: 401, reason: 'unknown_token', message: 'unknown or expired token' };
}

export function forbidden(appId: string): AuthDecision {
  return { allowed: false, status: 403, reason: 'forbidden', message: `token may not read app ${JSON.stringify(appId.slice(0, 64))}` };
}

export function firehoseForbidden(how: string): AuthDecision {
  return { allowed: false, status: 403, reason: 'forbidden', message: `token may not read the firehose (${how})` };
}

/** The scope that lets a token read the firehose: a tokens file grant, the callout's path. */
export const FIREHOSE_SCOPE = 'firehose';

/** `cause` says what went wrong, for the client: it must not contain the token. */
export function authorizerUnavailable(cause: string): AuthDecision {
  return { allowed: false, status: 503, reason: 'authorizer_unavailable', message: `cannot check authorization right now: ${cause}; try again` };
}

export const SHUTTING_DOWN = 'the traffic controller is shutting down';
