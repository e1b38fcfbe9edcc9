import { useEffect, useRef, useState } from 'preact/hooks';
import { downloadNdjson } from './download';
import { ALL_LINES, LineFilter } from './lineFilter';
import { LineRate } from './lineRate';
import { LogView, LogViewState } from './logView';
import { refusalAdvice } from './refusal';
import { Row } from './rowStore';
import { SourceCatalog } from './sourceCatalog';
import { drawSparkline } from './sparkline';
import { TailConnection, TailStatus } from './tailConnection';
import { timeOfDay, timestampMs } from './tailLine';

/** Rows kept in the page: past it the oldest are dropped, with a note saying how many. */
export const KEPT_ROWS = 5000;
/** Seconds of the lines-per-second sparkline. */
const RATE_SECONDS = 60;

export interface LogConsoleProps {
  readonly app: string;
  readonly token: string;
  readonly onLeave: () => void;
  /** Signs out (and in again, with another token). */
  readonly onSignOut: () => void;
}

const INITIAL: LogViewState = { kept: 0, shown: 0, waiting: 0, dropped: 0, paused: false, following: true };
const count = (n: number) => n.toLocaleString('en-US');
const clock = () => timeOfDay(`${Date.now()}000000`);

function statusText(status: TailStatus): string {
  switch (status.kind) {
    case 'connecting':
      return 'connecting…';
    case 'live':
      return status.again ? 'live again' : 'live';
    case 'disconnected':
      return `disconnected: ${status.reason}; reconnecting in ${(status.retryInMs / 1000).toFixed(1)} s (attempt ${status.attempt})`;
    case 'refused':
      return 'refused';
  }
}

/** One app's log: a live tail with its recent lines, filters, pause, follow, rate and download. */
export function LogConsole({ app, token, onLeave, onSignOut }: LogConsoleProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const space = useRef<HTMLDivElement>(null);
  const rows = useRef<HTMLDivElement>(null);
  const sparkline = useRef<HTMLCanvasElement>(null);
  const view = useRef<LogView | undefined>(undefined);
  const [state, setState] = useState<LogViewState>(INITIAL);
  const [status, setStatus] = useState<TailStatus>({ kind: 'connecting' });
  const [filter, setFilter] = useState<LineFilter>(ALL_LINES);
  const [sources, setSources] = useState<string[]>([]);
  const [rate, setRate] = useState(0);
  const [selected, setSelected] = useState<Row | undefined>(undefined);

  useEffect(() => {
    document.title = `${app} · loggregator console`;
    const logView = new LogView(
      { scroller: scroller.current as HTMLElement, space: space.current as HTMLElement, rows: rows.current as HTMLElement },
      { capacity: KEPT_ROWS, onState: setState, onSelect: setSelected },
    );
    view.current = logView;
    const lineRate = new LineRate(RATE_SECONDS);
    const catalog = new SourceCatalog();
    let catalogShown = 0;
    let wasLive = false;
    const connection = new TailConnection(app, token, {
      line: line => {
        logView.addLine(line);
        lineRate.count(timestampMs(line.timestamp), Date.now());
        catalog.add(line);
      },
      status: next => {
        setStatus(next);
        if (next.kind === 'live' && next.again) logView.addNote(`live again at ${clock()}; lines missed meanwhile follow, none twice`);
        if (next.kind === 'disconnected' && wasLive) logView.addNote(`disconnected at ${clock()}: ${next.reason}; reconnecting`);
        wasLive = next.kind === 'live';
      },
    });
    const tick = () => {
      const series = lineRate.series(Date.now());
      if (sparkline.current) drawSparkline(sparkline.current, series);
      setRate(series[series.length - 2]); // the last whole second
      if (catalog.version !== catalogShown) {
        catalogShown = catalog.version;
        setSources(catalog.choices());
      }
    };
    const ticker = setInterval(tick, 1000);
    connection.start();
    return () => {
      connection.stop();
      clearInterval(ticker);
      logView.destroy();
      view.current = undefined;
    };
  }, [app, token]);

  const changeFilter = (change: Partial<LineFilter>) => {
    const next = { ...filter, ...change };
    setFilter(next);
    view.current?.setFilter(next);
  };
  const togglePause = () => (state.paused ? view.current?.resume() : view.current?.pause());
  const download = () => {
    const lines = view.current?.shownLines() ?? [];
    downloadNdjson(lines, `${app}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`);
  };
  const refused = status.kind === 'refused' ? refusalAdvice(status.refusal, app) : undefined;

  return (
    <main class="console">
      <header class="bar">
        <button type="button" onClick={onLeave} title="Pick another app">
          ← Apps
        </button>
        <h1 class="app-name">{app}</h1>
        <span class={`status ${status.kind}`} role="status">
          {statusText(status)}
        </span>
        <span class="spacer" />
        <canvas ref={sparkline} class="sparkline" aria-hidden="true" />
        <span class="rate" title={`lines per second over the last ${RATE_SECONDS} s, by the lines' timestamps`}>
          {count(rate)} lines/s
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div class="bar tools">
        <input
          class="filter-text"
          type="search"
          placeholder="Filter text"
          aria-label="Filter text"
          value={filter.text}
          onInput={e => changeFilter({ text: (e.target as HTMLInputElement).value })}
        />
        <select class="filter-stream" aria-label="Stream" value={filter.stream} onChange={e => changeFilter({ stream: (e.target as HTMLSelectElement).value as LineFilter['stream'] })}>
          <option value="all">OUT and ERR</option>
          <option value="OUT">OUT only</option>
          <option value="ERR">ERR only</option>
        </select>
        <select class="filter-source" aria-label="Source" value={filter.source} onChange={e => changeFilter({ source: (e.target as HTMLSelectElement).value })}>
          <option value="">every source</option>
          {sources.map(source => (
            <option key={source} value={source}>
              {source.includes('/') ? `\u00a0\u00a0${source}` : source}
            </option>
          ))}
        </select>
        <button type="button" class="pause" onClick={togglePause} aria-pressed={state.paused}>
          {state.paused ? `Resume (${count(state.waiting)} waiting)` : 'Pause'}
        </button>
        <button type="button" class="follow" onClick={() => view.current?.follow()} disabled={state.following}>
          {state.following ? 'Following the end' : 'Follow the end ⤓'}
        </button>
        <button type="button" class="download" onClick={download} title="The lines shown, as NDJSON">
          Download NDJSON
        </button>
        <span class="spacer" />
        <span class="counts">
          {count(state.shown)} shown · {count(state.kept)} kept
        </span>
      </div>
      {refused && (
        <div class="refusal" role="alert">
          <strong>{refused.title}</strong>
          <p>{refused.advice}</p>
          <p>
            <button type="button" onClick={onLeave}>
              Pick another app
            </button>{' '}
            {refused.signInAgain && (
              <button type="button" onClick={onSignOut}>
                Sign in with another token
              </button>
            )}
          </p>
        </div>
      )}
      {state.dropped > 0 && (
        <div class="dropped" role="note">
          {count(state.dropped)} older lines dropped: the console keeps the newest {count(KEPT_ROWS)}. Download or pause to keep what you need.
        </div>
      )}
      <div class="log" ref={scroller}>
        <div class="log-space" ref={space}>
          <div class="log-rows" ref={rows} />
        </div>
      </div>
      {selected && (
        <section class="details" aria-label="Line details">
          <button type="button" class="close" onClick={() => setSelected(undefined)} aria-label="Close details">
            ×
          </button>
          {selected.kind === 'note' ? (
            <pre>{selected.text}</pre>
          ) : (
            <>
              <p>
                {new Date(timestampMs(selected.line.timestamp)).toISOString()} ({selected.line.timestamp} ns) [{selected.line.sourceType}/{selected.line.sourceInstance}] {selected.line.messageType}
              </p>
              <pre>{selected.line.message}</pre>
            </>
          )}
        </section>
      )}
    </main>
  );
}
