import { nsFromMs } from '../src/envelope/envelope';
import { LogLine, NOTICE_SEQ } from './logLine';

/**
 * An in-band line from the router itself (sourceType LGR), as loggregator told apps about its
 * own trouble in their log stream. ERR, so that it stands out in `logs` output.
 */
export function routerNotice(appId: string, message: string, nowMs: number): LogLine {
  return new LogLine(NOTICE_SEQ, {
    appId,
    sourceType: 'LGR',
    sourceInstance: 'router',
    messageType: 'ERR',
    timestamp: nsFromMs(nowMs),
    message,
  });
}
