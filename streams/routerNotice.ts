import { nsFromMs } from '../src/envelope/envelope';
import { LogLine, NOTICE_SEQ } from './logLine';

/**
 * An in-band line from loggregator itself (sourceType LGR, sourceInstance `source`: the router
 * or the traffic controller), as loggregator told apps about its own trouble in their log
 * stream. ERR, so that it stands out in `logs` output.
 */
export function routerNotice(appId: string, message: string, nowMs: number, source = 'router'): LogLine {
  return new LogLine(NOTICE_SEQ, {
    appId,
    sourceType: 'LGR',
    sourceInstance: source,
    messageType: 'ERR',
    timestamp: nsFromMs(nowMs),
    message,
  });
}
