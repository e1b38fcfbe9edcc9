import { useEffect, useState } from 'preact/hooks';
import { AppActivity, listApps } from './consoleApi';
import { Refusal, refusalAdvice } from './refusal';
import { timestampMs } from './tailLine';

/** How often the list is asked again while it is shown. */
const REFRESH_MS = 5000;

export interface AppPickerProps {
  readonly token: string;
  readonly onOpen: (app: string) => void;
  /** Opens the firehose: every app's lines (for tokens allowed it). */
  readonly onOpenFirehose: () => void;
  /** The token was refused (401): the reader signs in again. */
  readonly onRefused: (refusal: Refusal) => void;
  readonly onSignOut: () => void;
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** The apps this token may read that have recent lines, the most recently active first; or any app by id. */
export function AppPicker({ token, onOpen, onOpenFirehose, onRefused, onSignOut }: AppPickerProps) {
  const [apps, setApps] = useState<{ apps: AppActivity[]; more: boolean } | undefined>(undefined);
  const [failure, setFailure] = useState<Refusal | undefined>(undefined);
  const [typed, setTyped] = useState('');
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    let live = true;
    const load = async () => {
      const answer = await listApps(token);
      if (!live) return;
      setNow(Date.now());
      if (answer.ok) {
        setApps(answer.value);
        setFailure(undefined);
      } else if (answer.refusal.status === 401) onRefused(answer.refusal);
      else setFailure(answer.refusal);
    };
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [token]);

  const open = (event: Event) => {
    event.preventDefault();
    if (typed.trim() !== '') onOpen(typed.trim());
  };
  const advice = failure && refusalAdvice(failure);
  return (
    <main class="picker">
      <header class="bar">
        <h1>loggregator console</h1>
        <span class="spacer" />
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <h2>Apps with recent lines</h2>
      {advice && (
        <div class="refusal" role="alert">
          <strong>{advice.title}</strong>
          <p>{advice.advice}</p>
        </div>
      )}
      {apps === undefined && failure === undefined && <p class="hint">Loading…</p>}
      {apps !== undefined && apps.apps.length === 0 && <p class="hint">No app this token may read has recent lines. Open one by its id below.</p>}
      {apps !== undefined && apps.apps.length > 0 && (
        <ul class="apps">
          {apps.apps.map(app => {
            const at = timestampMs(app.timestamp);
            return (
              <li key={app.appId}>
                <button type="button" class="app" onClick={() => onOpen(app.appId)}>
                  <span class="app-id">{app.appId}</span>
                  <span class="app-time" title={new Date(at).toISOString()}>
                    last line {ago(now - at)}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {apps?.more && <p class="hint">Only the most recently active apps are listed; open any other by its id.</p>}
      <form class="open-app" onSubmit={open}>
        <label for="app-id">Open an app by id</label>
        <input id="app-id" value={typed} spellcheck={false} onInput={e => setTyped((e.target as HTMLInputElement).value)} placeholder="my-app" />
        <button type="submit" disabled={typed.trim() === ''}>
          Open
        </button>
      </form>
      <h2>Every app</h2>
      <div class="every-app">
        <button type="button" class="app open-firehose" onClick={onOpenFirehose}>
          <span>Firehose (every app)</span>
          <span class="hint">every app's live lines, for operators: needs a token allowed the firehose</span>
        </button>
      </div>
    </main>
  );
}
