// What a log console shows, and what it says about it: one app's tail, or the firehose. The
// view is the same; these are the words and choices that differ.
import { TailStatus } from './tailStatus';

export type LogSubject = { readonly kind: 'app'; readonly app: string } | { readonly kind: 'firehose' };

export const FIREHOSE: LogSubject = { kind: 'firehose' };

export const appSubject = (app: string): LogSubject => ({ kind: 'app', app });

/** What the header and the tab's title call it. */
export function subjectTitle(subject: LogSubject): string {
  return subject.kind === 'app' ? subject.app : 'Firehose (every app)';
}

/** Tells subjects apart (a view is made anew for another subject). */
export function subjectKey(subject: LogSubject): string {
  return subject.kind === 'app' ? `app\u0000${subject.app}` : 'firehose';
}

/** The status, in words. */
export function statusText(status: TailStatus, subject: LogSubject): string {
  switch (status.kind) {
    case 'connecting':
      return 'connecting…';
    case 'live':
      return status.again ? 'live again' : 'live';
    case 'disconnected': {
      const lost = subject.kind === 'firehose' ? '; lines meanwhile are not replayed' : '';
      return `disconnected: ${status.reason}; reconnecting in ${(status.retryInMs / 1000).toFixed(1)} s (attempt ${status.attempt})${lost}`;
    }
    case 'refused':
      return 'refused';
  }
}

/** The note in the log where a live stream was lost; `at` is the reader's time of day. */
export function disconnectedNote(subject: LogSubject, at: string, reason: string): string {
  if (subject.kind === 'firehose') return `disconnected at ${at}: ${reason}; reconnecting; lines meanwhile are not replayed`;
  return `disconnected at ${at}: ${reason}; reconnecting`;
}

/** The note in the log where it is live again. */
export function liveAgainNote(subject: LogSubject, at: string): string {
  if (subject.kind === 'firehose') return `live again at ${at}; lines sent while disconnected are not shown`;
  return `live again at ${at}; lines missed meanwhile follow, none twice`;
}

/** The name of a download of its lines, made at `isoNow` (an ISO 8601 time). */
export function downloadName(subject: LogSubject, isoNow: string): string {
  const name = subject.kind === 'app' ? subject.app : 'firehose';
  return `${name}-${isoNow.replace(/[:.]/g, '-')}.ndjson`;
}
