import { useEffect, useRef, useState } from 'preact/hooks';
import { AppCatalog } from './appCatalog';
import { downloadNdjson } from './download';
import { ALL_LINES, LineFilter } from './lineFilter';
import { LineRate } from './lineRate';
import { LogSubject, disconnectedNote, downloadName, liveAgainNote, statusText, subjectKey, subjectTitle } from './logSubject';
import { LogView, LogViewState } from './logView';
import { firehoseRefusalAdvice, refusalAdvice } from './refusal';
import { Row } from './rowStore';
import { SourceCatalog } from './sourceCatalog';
import { drawSparkline } from './sparkline';
import { TailConnection } from './tailConnection';
import { timeOfDay, timestampMs } from './tailLine';
import { TailStatus } from './tailStatus';
import { appTail, firehoseTail } from './tailSources';

/** Rows kept in the page: past it the oldest are dropped, with a note saying how many. */
export const KEPT_ROWS = 5000;
/** Seconds of the lines-per-second sparkline. */
const RATE_SECONDS = 60;

export interface LogConsoleProps {
  /** One app's tail, or the firehose. */
  readonly subject: LogSubject;
  readonly token: string;
  /** The page's firehose subscription id (see firehoseSubscription.ts). */
  readonly firehoseId: string;
  readonly onLeave: () => void;
  /** Signs out (and in again, with another token). */
  readonly onSignOut: () => void;
}

const INITIAL: LogViewState = { kept: 0, shown: 0, waiting: 0, dropped: 0, paused: false, following: true };
const count = (n: number) => n.toLocaleString('en-US');
const clock = () => timeOfDay(`${Date.now()}000000`);

/**
 * A live log: one app's tail with its recent lines, or the firehose (every app's lines, each row
 * with its app id, and an app filter); filters, pause, follow, rate and download alike.
 */
export function LogConsole({ subject, token, firehoseId, onLeave, onSignOut }: LogConsoleProps) {
  const firehose = subject.kind === 'firehose';
  const title = subjectTitle(subject);
  const scroller = useRef<HTMLDivElement>(null);
  const space = useRef<HTMLDivElement>(null);
  const rows = useRef<HTMLDivElement>(null);
  const sparkline = useRef<HTMLCanvasElement>(null);
  const view = useRef<LogView | undefined>(undefined);
  const [state, setState] = useState<LogViewState>(INITIAL);
  const [status, setStatus] = useState<TailStatus>({ kind: 'connecting' });
  const [filter, setFilter] = useState<LineFilter>(ALL_LINES);
  const [sources, setSources] = useState<string[]>([]);
  const [apps, setApps] = useState<{ choices: string[]; full: boolean }>({ choices: [], full: false });
  const [rate, setRate] = useState(0);
  const [selected, setSelected] = useState<Row | undefined>(undefined);

  useEffect(() => {
    document.title = `${title} · loggregator console`;
    const logView = new LogView(
      { scroller: scroller.current as HTMLElement, space: space.current as HTMLElement, rows: rows.current as HTMLElement },
      { capacity: KEPT_ROWS, onState: setState, onSelect: setSelected, showAppId: firehose },
    );
    view.current = logView;
    const lineRate = new LineRate(RATE_SECONDS);
    const catalog = new SourceCatalog();
    const appCatalog = new AppCatalog();
    let catalogShown = 0;
    let appsShown = 0;
    let wasLive = false;
    const source = subject.kind === 'app' ? appTail(subject.app, token) : firehoseTail(firehoseId, token);
    const connection = new TailConnection(source, {
      line: line => {
        logView.addLine(line);
        lineRate.count(timestampMs(line.timestamp), Date.now());
        catalog.add(line);
        if (firehose) appCatalog.add(line.appId);
      },
      status: next => {
        setStatus(next);
        if (next.kind === 'live' && next.again) logView.addNote(liveAgainNote(subject, clock()));
        if (next.kind === 'disconnected' && wasLive) logView.addNote(disconnectedNote(subject, clock(), next.reason));
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
      if (firehose && appCatalog.version !== appsShown) {
        appsShown = appCatalog.version;
        setApps({ choices: appCatalog.choices(), full: appCatalog.full });
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
  }, [subjectKey(subject), token, firehoseId]);

  const changeFilter = (change: Partial<LineFilter>) => {
    const next = { ...filter, ...change };
    setFilter(next);
    view.current?.setFilter(next);
  };
  const togglePause = () => (state.paused ? view.current?.resume() : view.current?.pause());
  const download = () => {
    const lines = view.current?.shownLines() ?? [];
    downloadNdjson(lines, downloadName(subject, new Date().toISOString()));
  };
  const refused = status.kind !== 'refused' ? undefined : subject.kind === 'app' ? refusalAdvice(status.refusal, subject.app) : firehoseRefusalAdvice(status.refusal);

  return (
    <main class="console">
      <header class="bar">
        <button type="button" onClick={onLeave} title="Pick another app">
          ← Apps
        </button>
        <h1 class={firehose ? 'firehose-name' : 'app-name'}>{title}</h1>
        <span class={`status ${status.kind}`} role="status" title={statusText(status, subject)}>
          {statusText(status, subject)}
        </span>
        <span class="spacer" />
        <canvas ref={sparkline} class="sparkline" aria-hidden="true" />
        <span class="rate" title={`lines per second${firehose ? ' of every app' : ''} over the last ${RATE_SECONDS} s, by the lines' timestamps`}>
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
          placeholder={firehose ? 'Filter text or app id' : 'Filter text'}
          aria-label="Filter text"
          value={filter.text}
          onInput={e => changeFilter({ text: (e.target as HTMLInputElement).value })}
        />
        {firehose && (
          <select class="filter-app" aria-label="App" value={filter.app} onChange={e => changeFilter({ app: (e.target as HTMLSelectElement).value })}>
            <option value="">every app</option>
            {apps.choices.map(app => (
              <option key={app} value={app}>
                {app}
              </option>
            ))}
            {apps.full && (
              <option value="(more)" disabled>
                (more apps: filter by text)
              </option>
            )}
          </select>
        )}
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
                {firehose && `${selected.line.appId} `}
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
