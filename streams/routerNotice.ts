import { nsFromMs } from '../src/envelope/envelope';
import { LogLine, NOTICE_SEQ } from './logLine';

/** The app id of the notices a firehose carries about itself (drops): they concern no one app. */
export const FIREHOSE_NOTICE_APP_ID = 'firehose';

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
