import { isValidAppId } from '../envelope/codec';
import { Refusal } from './refusal';

/** `?app=ID[&limit=N][&recent=true]`, checked. */
export interface AppQuery {
  readonly app: string;
  readonly limit?: number;
  readonly recent: boolean;
}

/** Parses and checks an app query; a Refusal says what is wrong. `maxLimit` bounds limit. */
export function parseAppQuery(url: URL, maxLimit: number): AppQuery | Refusal {
  const bad = (message: string) => new Refusal(400, 'bad_request', message);
  const apps = url.searchParams.getAll('app');
  if (apps.length === 0) return bad('missing query parameter "app" (the app id)');
  if (apps.length > 1) return bad('query parameter "app" given more than once');
  const app = apps[0];
  if (!isValidAppId(app)) {
    return bad(`invalid app id ${JSON.stringify(app.slice(0, 64))}: 1-48 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
  }
  let limit: number | undefined;
  const limitText = url.searchParams.get('limit');
  if (limitText !== null) {
    if (!/^[0-9]{1,9}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > maxLimit) {
      return bad(`invalid limit ${JSON.stringify(limitText.slice(0, 32))}: a whole number from 1 to ${maxLimit}`);
    }
    limit = Number(limitText);
  }
  const recentText = url.searchParams.get('recent');
  if (recentText !== null && recentText !== 'true' && recentText !== 'false') {
    return bad(`invalid recent ${JSON.stringify(recentText.slice(0, 32))}: true or false`);
  }
  return { app, limit, recent: recentText === 'true' };
}
