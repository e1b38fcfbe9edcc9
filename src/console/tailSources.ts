// What the console's log can show: one app's tail (recent lines, then live), or the firehose
// (every app's live lines, nothing replayed).
import { firehoseRefusal, tailRefusal } from './consoleApi';
import { connectionSubscription } from './firehoseSubscription';
import { TailSource } from './tailConnection';
import { PageOrigin, firehoseUrl, tailUrl } from './tailUrl';

export function appTail(app: string, token: string, page: PageOrigin = location): TailSource {
  return {
    url: () => tailUrl(page, app, token),
    refusal: () => tailRefusal(app, token),
    replays: true,
  };
}

/** The firehose, each connection a subscription of its own on the page's id (see firehoseSubscription). */
export function firehoseTail(pageSubscriptionId: string, token: string, page: PageOrigin = location): TailSource {
  return {
    url: connection => firehoseUrl(page, connectionSubscription(pageSubscriptionId, connection), token),
    refusal: connection => firehoseRefusal(connectionSubscription(pageSubscriptionId, connection), token),
    replays: false,
  };
}
