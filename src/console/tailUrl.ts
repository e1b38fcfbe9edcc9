// The websocket addresses of the page's live streams, on the traffic controller that served it.
// The token goes in `access_token`: a browser cannot set headers on a websocket. These are the
// only requests of the page with a token in their URL; HTTP requests send it as
// `Authorization: Bearer`.

/** Where the page was served from (location, or what a spec gives). */
export interface PageOrigin {
  readonly protocol: string;
  readonly host: string;
}

function wsBase(page: PageOrigin): string {
  return `${page.protocol === 'https:' ? 'wss:' : 'ws:'}//${page.host}`;
}

/** An app's tail, with its recent lines first. */
export function tailUrl(page: PageOrigin, app: string, token: string): string {
  return `${wsBase(page)}/tail?app=${encodeURIComponent(app)}&recent=true&access_token=${encodeURIComponent(token)}`;
}

/** The firehose (every app's lines) as a consumer of `subscription`. */
export function firehoseUrl(page: PageOrigin, subscription: string, token: string): string {
  return `${wsBase(page)}/firehose?subscription=${encodeURIComponent(subscription)}&access_token=${encodeURIComponent(token)}`;
}
