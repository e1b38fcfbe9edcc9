import { Envelope, msFromNs } from '../envelope/envelope';

const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/**
 * `2026-11-24T15:00:00.123Z [APP/0] OUT text` (with `withApp`, the app id after the time:
 * `… app-a [APP/0] OUT text`); ERR lines in red when colour is on.
 */
export function formatLine(e: Envelope, colour: boolean, withApp = false): string {
  const time = new Date(msFromNs(e.timestamp)).toISOString();
  const head = `${time}${withApp ? ` ${e.appId}` : ''} [${e.sourceType}/${e.sourceInstance}] ${e.messageType}`;
  if (!colour) return `${head} ${e.message}`;
  return e.messageType === 'ERR' ? `${DIM}${head}${RESET} ${RED}${e.message}${RESET}` : `${DIM}${head}${RESET} ${e.message}`;
}
