import { useState } from 'preact/hooks';
import { listApps } from './consoleApi';
import { Refusal, refusalAdvice } from './refusal';

export interface SignInFormProps {
  /** Why the reader is asked to sign in (again), if there is a reason. */
  readonly refusal?: Refusal;
  readonly onSignedIn: (token: string) => void;
}

/**
 * A token, checked with GET /apps before it is kept: an unknown one is refused here, with what
 * the traffic controller said. Any other failure signs in all the same (the token may be fine;
 * the app list says what went wrong).
 */
export function SignInForm({ refusal, onSignedIn }: SignInFormProps) {
  const [token, setToken] = useState('');
  const [checking, setChecking] = useState(false);
  const [refused, setRefused] = useState<Refusal | undefined>(refusal);

  const submit = async (event: Event) => {
    event.preventDefault();
    const given = token.trim();
    if (given === '') return;
    setChecking(true);
    const answer = await listApps(given);
    setChecking(false);
    if (!answer.ok && answer.refusal.status === 401) return setRefused(answer.refusal);
    onSignedIn(given);
  };

  const advice = refused === undefined ? undefined : refusalAdvice(refused);
  return (
    <main class="sign-in">
      <h1>loggregator console</h1>
      <p>Sign in with a token of the traffic controller to read your apps' logs.</p>
      <form onSubmit={submit}>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} value={token} onInput={e => setToken((e.target as HTMLInputElement).value)} autofocus />
        <button type="submit" disabled={checking || token.trim() === ''}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      {advice && (
        <div class="refusal" role="alert">
          <strong>{advice.title}</strong>
          <p>{advice.advice}</p>
        </div>
      )}
      <p class="hint">
        The token is kept in this tab only (sessionStorage) and sent in the Authorization header, and to the live websocket (an app's tail,
        or the firehose) as access_token. <code>npm run serve</code> prints an address that signs in with this machine's admin token.
      </p>
    </main>
  );
}
