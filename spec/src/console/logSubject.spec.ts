// What the view says about what it shows: an app's tail (recent lines, replayed after a
// reconnect, none twice) or the firehose (nothing replayed: it says so).
import { FIREHOSE, appSubject, disconnectedNote, downloadName, liveAgainNote, statusText, subjectKey, subjectTitle } from '../../../src/console/logSubject';

const app = appSubject('my-app');
const disconnected = { kind: 'disconnected' as const, reason: 'connection lost (1006)', retryInMs: 1250, attempt: 2 };

describe('what the log console says about what it shows', () => {
  it('names it', () => {
    expect(subjectTitle(app)).toBe('my-app');
    expect(subjectTitle(FIREHOSE)).toBe('Firehose (every app)');
    // An app that happens to be called "firehose" is not the firehose.
    expect(subjectKey(appSubject('firehose'))).not.toBe(subjectKey(FIREHOSE));
  });

  it('says, for the firehose only, that what was sent while disconnected is not replayed', () => {
    expect(statusText(disconnected, app)).toBe('disconnected: connection lost (1006); reconnecting in 1.3 s (attempt 2)');
    expect(statusText(disconnected, FIREHOSE)).toBe('disconnected: connection lost (1006); reconnecting in 1.3 s (attempt 2); lines meanwhile are not replayed');
    expect(disconnectedNote(app, '12:00:01.000', 'connection lost (1006)')).toBe('disconnected at 12:00:01.000: connection lost (1006); reconnecting');
    expect(disconnectedNote(FIREHOSE, '12:00:01.000', 'connection lost (1006)')).toBe(
      'disconnected at 12:00:01.000: connection lost (1006); reconnecting; lines meanwhile are not replayed',
    );
    expect(liveAgainNote(app, '12:00:02.000')).toBe('live again at 12:00:02.000; lines missed meanwhile follow, none twice');
    expect(liveAgainNote(FIREHOSE, '12:00:02.000')).toBe('live again at 12:00:02.000; lines sent while disconnected are not shown');
  });

  it('says the same of every other status', () => {
    for (const subject of [app, FIREHOSE]) {
      expect(statusText({ kind: 'connecting' }, subject)).toBe('connecting…');
      expect(statusText({ kind: 'live', again: false }, subject)).toBe('live');
      expect(statusText({ kind: 'live', again: true }, subject)).toBe('live again');
      expect(statusText({ kind: 'refused', refusal: { status: 403, message: 'no' } }, subject)).toBe('refused');
    }
  });

  it('names a download after the app, or the firehose, and the time', () => {
    expect(downloadName(app, '2026-01-02T03:04:05.678Z')).toBe('my-app-2026-01-02T03-04-05-678Z.ndjson');
    expect(downloadName(FIREHOSE, '2026-01-02T03:04:05.678Z')).toBe('firehose-2026-01-02T03-04-05-678Z.ndjson');
  });
});
