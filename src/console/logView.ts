// The log itself, drawn by hand rather than by the UI library: at 10,000 lines a second a
// virtual DOM diff of thousands of rows per frame would freeze the tab. Lines are kept as they
// come (RowStore, bounded) and drawn once per animation frame; only the rows in sight exist in
// the DOM (a pool of elements reused as the reader scrolls), placed in a tall empty block whose
// height is that of every row shown, so the scrollbar tells where the reader is.
import { ALL_LINES, LineFilter } from './lineFilter';
import { Row, RowStore } from './rowStore';
import { ShownRows } from './shownRows';
import { NOTICE_SOURCE_TYPE, TailLine, timeOfDay } from './tailLine';

/** Rows drawn beyond the top and bottom of the view, so a small scroll shows no blank. */
const OVERSCAN = 10;
/** Characters of a message drawn in its row; the whole line is in the details of a clicked row. */
const DRAWN_CHARS = 2000;

export interface LogViewState {
  /** Rows kept (lines and the console's notes). */
  readonly kept: number;
  readonly shown: number;
  /** Rows that came while paused, that the filter passes. */
  readonly waiting: number;
  /** Rows dropped to keep at most `capacity`. */
  readonly dropped: number;
  readonly paused: boolean;
  /** Whether the view stays at the end as rows come. */
  readonly following: boolean;
}

export interface LogViewElements {
  /** The scrolling box. */
  readonly scroller: HTMLElement;
  /** Inside it: as tall as every row shown. */
  readonly space: HTMLElement;
  /** Inside that: the rows in sight, moved to where they belong. */
  readonly rows: HTMLElement;
}

export interface LogViewOptions {
  readonly capacity: number;
  /** Told when the state changes, at most once per frame. */
  readonly onState: (state: LogViewState) => void;
  /** Told when the reader clicks a row. */
  readonly onSelect: (row: Row) => void;
  /** Rows show each line's app id, and the text filter looks in it too (the firehose: every app's lines). */
  readonly showAppId?: boolean;
}

interface RowElement {
  readonly el: HTMLElement;
  readonly time: HTMLElement;
  /** Only where rows show the app id. */
  readonly app: HTMLElement | undefined;
  readonly source: HTMLElement;
  readonly stream: HTMLElement;
  readonly message: HTMLElement;
  seq: number;
}

function span(className: string): HTMLElement {
  const el = document.createElement('span');
  el.className = className;
  return el;
}

export class LogView {
  private readonly store: RowStore;
  private readonly shown: ShownRows;
  private readonly pool: RowElement[] = [];
  private frame = 0;
  private following = true;
  /** Where the view itself last put the scroll position; a reader's scroll up goes above it. */
  private placedAt = 0;
  private rowHeight = 18;
  private first = 0;
  private lastState: LogViewState | undefined;
  private readonly onScroll = () => this.scrolled();
  private readonly onClick = (event: MouseEvent) => this.clicked(event);

  constructor(
    private readonly el: LogViewElements,
    private readonly opts: LogViewOptions,
  ) {
    this.store = new RowStore(opts.capacity);
    this.shown = new ShownRows(this.store, { textInAppId: opts.showAppId === true });
    this.rowHeight = this.measureRowHeight();
    el.scroller.addEventListener('scroll', this.onScroll, { passive: true });
    el.rows.addEventListener('click', this.onClick);
    this.schedule();
  }

  addLine(line: TailLine): void {
    this.store.push({ kind: 'line', line });
    this.schedule();
  }

  /** A note of the console's own, in the log where it happened (disconnected, live again). */
  addNote(text: string): void {
    this.store.push({ kind: 'note', text });
    this.schedule();
  }

  setFilter(filter: LineFilter = ALL_LINES): void {
    this.shown.setFilter(filter);
    this.schedule();
  }

  pause(): void {
    this.shown.pause();
    this.schedule();
  }

  resume(): void {
    this.shown.resume();
    this.schedule();
  }

  /** Back to the end, and stays there as rows come. */
  follow(): void {
    this.following = true;
    this.schedule();
  }

  /** The lines shown (not the console's notes), oldest first. */
  shownLines(): TailLine[] {
    const lines: TailLine[] = [];
    for (const row of this.shown.rows()) if (row.kind === 'line') lines.push(row.line);
    return lines;
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.el.scroller.removeEventListener('scroll', this.onScroll);
    this.el.rows.removeEventListener('click', this.onClick);
    this.el.rows.replaceChildren();
  }

  private schedule(): void {
    if (this.frame === 0) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    }
  }

  /** One frame: what came since the last, at most `capacity` rows whatever the rate. */
  private draw(): void {
    const gone = this.shown.update();
    const { scroller, space } = this.el;
    space.style.height = `${this.shown.length * this.rowHeight}px`;
    if (this.following) scroller.scrollTop = scroller.scrollHeight;
    // Rows dropped from the top: the rows in sight stay where they are on the screen.
    else if (gone > 0) scroller.scrollTop = Math.max(0, scroller.scrollTop - gone * this.rowHeight);
    this.placedAt = scroller.scrollTop;
    this.drawRowsInSight();
    this.report();
  }

  private drawRowsInSight(): void {
    const { scroller, rows } = this.el;
    const total = this.shown.length;
    const first = Math.max(0, Math.floor(scroller.scrollTop / this.rowHeight) - OVERSCAN);
    const end = Math.min(total, Math.ceil((scroller.scrollTop + scroller.clientHeight) / this.rowHeight) + OVERSCAN);
    const count = Math.max(0, end - first);
    while (this.pool.length < count) this.pool.push(this.newRowElement());
    while (this.pool.length > count) (this.pool.pop() as RowElement).el.remove();
    this.first = first;
    rows.style.transform = `translateY(${first * this.rowHeight}px)`;
    for (let i = 0; i < count; i++) {
      const seq = this.shown.seqAt(first + i);
      const element = this.pool[i];
      if (element.seq === seq) continue;
      element.seq = seq;
      this.fill(element, this.store.at(seq));
    }
  }

  private newRowElement(): RowElement {
    const app = this.opts.showAppId ? span('line-app') : undefined;
    const element: RowElement = { el: document.createElement('div'), time: span('time'), app, source: span('source'), stream: span('stream'), message: span('message'), seq: -1 };
    element.el.append(...[element.time, app, element.source, element.stream, element.message].filter(e => e !== undefined));
    this.el.rows.append(element.el);
    return element;
  }

  /** Text only (textContent, never markup): lines come from apps, and may hold anything. */
  private fill(element: RowElement, row: Row | undefined): void {
    if (row === undefined || row.kind === 'note') {
      element.el.className = 'row note';
      element.time.textContent = '';
      if (element.app) element.app.textContent = '';
      element.source.textContent = '';
      element.stream.textContent = '';
      element.message.textContent = row?.text ?? '';
      return;
    }
    const line = row.line;
    const notice = line.sourceType === NOTICE_SOURCE_TYPE;
    element.el.className = `row ${line.messageType === 'ERR' ? 'err' : 'out'}${notice ? ' notice' : ''}`;
    element.time.textContent = timeOfDay(line.timestamp);
    if (element.app) element.app.textContent = line.appId;
    element.source.textContent = `[${line.sourceType}/${line.sourceInstance}]`;
    element.stream.textContent = line.messageType;
    element.message.textContent = line.message.length > DRAWN_CHARS ? `${line.message.slice(0, DRAWN_CHARS)}\u2026` : line.message;
  }

  private scrolled(): void {
    const { scroller } = this.el;
    // Back at the end: follow again. Above where the view put it: the reader scrolled up, stop
    // following. Neither (the view grew or shrank under the rows: a banner came, the window was
    // resized): as it was, and the next frame puts a following view back at the end.
    if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - this.rowHeight / 2) this.following = true;
    else if (scroller.scrollTop < this.placedAt - 1) this.following = false;
    this.placedAt = scroller.scrollTop;
    this.schedule();
  }

  private clicked(event: MouseEvent): void {
    const target = (event.target as HTMLElement).closest('.row');
    const index = this.pool.findIndex(p => p.el === target);
    if (index < 0) return;
    const row = this.store.at(this.shown.seqAt(this.first + index));
    if (row !== undefined) this.opts.onSelect(row);
  }

  private report(): void {
    const state: LogViewState = {
      kept: this.store.size,
      shown: this.shown.length,
      waiting: this.shown.waiting,
      dropped: this.store.dropped,
      paused: this.shown.paused,
      following: this.following,
    };
    const last = this.lastState;
    if (last && (Object.keys(state) as (keyof LogViewState)[]).every(k => last[k] === state[k])) return;
    this.lastState = state;
    this.opts.onState(state);
  }

  /** The height of a row as the style sheet makes it (every row is one line high). */
  private measureRowHeight(): number {
    const probe = this.newRowElement();
    probe.el.className = 'row';
    probe.message.textContent = 'probe';
    const height = probe.el.getBoundingClientRect().height;
    this.pool.pop();
    probe.el.remove();
    return height > 0 ? height : 18;
  }
}
