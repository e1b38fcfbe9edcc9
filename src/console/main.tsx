// The web console's entry point. A `#app=ID&token=TOKEN` (or `#firehose&token=TOKEN`) fragment
// signs in and opens the app (or the firehose); it is taken off the address bar at once, so the
// token stays out of the history, bookmarks and whatever the reader copies (a fragment is never
// sent to a server).
import { render } from 'preact';
import { App } from './app';
import { pageSubscriptionId } from './firehoseSubscription';
import { saveToken } from './session';
import { fragmentSubject, parseSignInFragment } from './signInFragment';
import './console.css';

const fragment = parseSignInFragment(location.hash);
if (location.hash !== '') history.replaceState(null, '', location.pathname + location.search);
if (fragment.token !== undefined) saveToken(fragment.token);

render(<App initial={fragmentSubject(fragment)} firehoseId={pageSubscriptionId(crypto.getRandomValues(new Uint8Array(8)))} />, document.getElementById('console') as HTMLElement);
