/**
 * The websocket address of an app's tail on the traffic controller that served the page, with
 * its recent lines first. The token goes in `access_token`: a browser cannot set headers on a
 * websocket. It is the only request of the page with a token in its URL; HTTP requests send it
 * as `Authorization: Bearer`.
 */
export function tailUrl(page: { readonly protocol: string; readonly host: string }, app: string, token: string): string {
  const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${page.host}/tail?app=${encodeURIComponent(app)}&recent=true&access_token=${encodeURIComponent(token)}`;
}
