// "tokens" auth mode: tokens.json on this machine says which token may read which apps. It is
// watched, so a token added or removed applies without a restart.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Observable, Subscription, catchError, debounceTime, map, of, switchMap } from 'rxjs';
import { readTextFile, watchedFileEvents } from '../files/watchedFile';
import { Logger } from '../logger';
import { ALLOWED, AuthDecision, FIREHOSE_SCOPE, SHUTTING_DOWN, authorizerUnavailable, firehoseForbidden, forbidden, unknownToken } from './authDecision';
import type { Authorizer } from './authorizer';
import { parseTokensFile, TokensFileRead } from './tokensFileFormat';
import { tokenDigest } from './tokenDigest';

// Creating the file and finding its admin token live apart, so the CLI can use them without
// loading the watcher; they are part of this module's API all the same.
export { ensureTokensFile, readAdminToken } from './adminToken';

/** Quiet time after a change before the file is read: an editor's save is several writes. */
const SETTLE_MS = 100;

/** Token digest → the apps it may read ('*': all). */
type Grants = ReadonlyMap<string, '*' | ReadonlySet<string>>;

type FileState = TokensFileRead | { readonly ok: 'missing' };

/** A tokens file authorizer that has read the file once (so it answers at once), and watches it. */
export async function openTokensFileAuthorizer(path: string, logger: Logger): Promise<TokensFileAuthorizer> {
  const authorizer = new TokensFileAuthorizer(path, logger);
  await authorizer.loaded;
  return authorizer;
}

/**
 * Decides from the last valid state of the file: a file that becomes invalid changes nothing (an
 * error says why), a deleted file means no token is valid. Tokens are kept only as digests.
 */
export class TokensFileAuthorizer implements Authorizer {
  readonly path: string;
  readonly description: string;
  /** Resolves once the file has been read the first time (whatever was found). */
  readonly loaded: Promise<void>;
  private grants: Grants = new Map();
  private lastRead: 'valid' | 'invalid' | 'missing' | undefined;
  private closed = false;
  private readonly subscription: Subscription;

  constructor(
    path: string,
    private readonly logger: Logger,
  ) {
    this.path = resolve(path);
    this.description = `tokens file ${this.path}`;
    let markLoaded!: () => void;
    this.loaded = new Promise(resolve => (markLoaded = resolve));
    this.subscription = this.states().subscribe(state => {
      this.apply(state);
      markLoaded();
    });
    // watchedFileEvents waits for a missing directory before its first event; the file is not there either.
    if (!existsSync(dirname(this.path))) {
      this.apply({ ok: 'missing' });
      markLoaded();
    }
  }

  async authorize(token: string, appId: string): Promise<AuthDecision> {
    if (this.closed) return authorizerUnavailable(SHUTTING_DOWN);
    const apps = this.grants.get(tokenDigest(token));
    if (apps === undefined) return unknownToken();
    return apps === '*' || apps.has(appId) ? ALLOWED : forbidden(appId);
  }

  async authorizeFirehose(token: string): Promise<AuthDecision> {
    if (this.closed) return authorizerUnavailable(SHUTTING_DOWN);
    const apps = this.grants.get(tokenDigest(token));
    if (apps === undefined) return unknownToken();
    return apps === '*' || apps.has(FIREHOSE_SCOPE) ? ALLOWED : firehoseForbidden(`grant it "${FIREHOSE_SCOPE}" in ${this.path}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscription.unsubscribe();
  }

  /** What the file says, each time it may have changed (the first at subscription). */
  private states(): Observable<FileState> {
    return watchedFileEvents(this.path, this.logger).pipe(
      debounceTime(SETTLE_MS),
      switchMap(() =>
        readTextFile(this.path).pipe(
          map((text): FileState => (text === null ? { ok: 'missing' } : parseTokensFile(text))),
          catchError((err: NodeJS.ErrnoException) => of<FileState>({ ok: false, reason: `cannot read it (${err.code ?? err.message})` })),
        ),
      ),
    );
  }

  private apply(state: FileState): void {
    const was = this.lastRead;
    if (state.ok === 'missing') {
      this.lastRead = 'missing';
      this.grants = new Map();
      if (was !== 'missing') this.logger.warn('the tokens file does not exist: no token is valid until it is back', { path: this.path });
    } else if (state.ok) {
      this.lastRead = 'valid';
      this.grants = new Map(state.grants.map(g => [tokenDigest(g.token), g.apps === '*' ? '*' : new Set(typeof g.apps === 'string' ? [g.apps] : g.apps)]));
      this.logger.info('tokens file read', { path: this.path, tokens: this.grants.size });
    } else {
      const meanwhile = was === undefined ? 'no token is valid' : 'the last valid tokens stay in effect';
      this.lastRead = 'invalid';
      this.logger.error(`the tokens file cannot be used: ${state.reason}; ${meanwhile} until it is fixed`, { path: this.path });
    }
  }
}
