/** Why the traffic controller would not let the console read: shown until the reader acts on it. */
export interface Refusal {
  readonly status: number;
  /** The traffic controller's own words (its JSON error), or what went wrong. */
  readonly message: string;
}

/** What a refusal means for the reader, and what to do about it. */
export interface RefusalAdvice {
  readonly title: string;
  readonly advice: string;
  /** Whether signing in with another token is the way out (else: another app, or waiting). */
  readonly signInAgain: boolean;
}

/** A refusal (401, 403, a tail closed with 1008) put in words for the reader. */
export function refusalAdvice(refusal: Refusal, app?: string): RefusalAdvice {
  const of = app === undefined ? '' : ` ${app}`;
  if (refusal.status === 401) {
    return {
      title: `Not signed in: the traffic controller refused this token (${refusal.message})`,
      advice: 'Sign in again with a valid token. On the machine that runs `loggregator serve`, open the console address it prints (it signs you in); tokens are in its tokens file (data/tokens.json by default).',
      signInAgain: true,
    };
  }
  if (refusal.status === 403) {
    return {
      title: `This token may not read app${of} (${refusal.message})`,
      advice: 'Pick an app this token may read, or sign in with a token that may read this one (the tokens file maps each token to its apps).',
      signInAgain: true,
    };
  }
  return {
    title: `The traffic controller could not answer (${refusal.status}: ${refusal.message})`,
    advice: 'Try again in a moment; if it keeps failing, look at the traffic controller\u2019s log.',
    signInAgain: false,
  };
}

/** A refusal of the firehose put in words: a 403 is a token not allowed it; the rest as for an app. */
export function firehoseRefusalAdvice(refusal: Refusal): RefusalAdvice {
  if (refusal.status !== 403) return refusalAdvice(refusal);
  return {
    title: `This token may not read the firehose (${refusal.message})`,
    advice:
      'The firehose (every app\u2019s lines) needs a token allowed it: "*" or "firehose" in the traffic controller\u2019s tokens file (data/tokens.json by default), or a list of apps that holds "firehose"; with callout auth, the platform decides. Sign in with such a token, or pick an app this token may read.',
    signInAgain: true,
  };
}

/** The `{"error": "..."}` of a refusal's body, or the status text when there is none. */
export function refusalMessage(body: string, statusText: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof error === 'string' && error !== '') return error;
  } catch {
    // not JSON: the status says it
  }
  return statusText;
}
