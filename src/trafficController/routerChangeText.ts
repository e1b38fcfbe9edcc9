import { RouterChange } from '../../streams/routerFeeds';

/** Who the traffic controller's in-band lines are from. */
export const NOTICE_SOURCE = 'traffic-controller';

/** A change in the routers behind a stream, in words; `of` names the lines concerned (" of this app", or "" for all). */
export function changeText(change: RouterChange, of: string): string {
  switch (change.kind) {
    case 'joined':
      return `router ${change.router.id} joined; its lines${of} are included from now on`;
    case 'left':
      return `router ${change.router.id} left; lines${of} it had not forwarded yet are lost`;
    case 'lost':
      return `lost the stream from router ${change.router.id} (${change.reason}); reconnecting, lines it receives meanwhile are not shown`;
    case 'resumed':
      return `stream from router ${change.router.id} resumed`;
    case 'unreachable':
      return `router ${change.router.id} joined but its stream cannot be opened (${change.reason}); retrying, lines${of} it receives meanwhile are not shown`;
  }
}
