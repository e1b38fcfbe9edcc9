// Who may read which app: the traffic controller asks an Authorizer for every tail and recent
// request, with the caller's bearer token and the app id. Which authorizer runs is configuration
// (trafficController.auth.mode): a tokens file on this machine, or a callout to the platform API.
import { Config } from '../config/loadConfig';
import { Logger } from '../logger';
import { AuthDecision } from './authDecision';
import { CalloutAuthorizer } from './calloutAuthorizer';
import { tokensFilePath } from './adminToken';
import { ensureTokensFile, openTokensFileAuthorizer } from './tokensFile';

export { tokensFilePath };

export type { AuthDecision } from './authDecision';

export interface Authorizer {
  /** Never rejects: a failure to decide is a 503 decision (fail closed). */
  authorize(token: string, appId: string): Promise<AuthDecision>;
  /** May the bearer read every app's lines (GET /firehose)? Never rejects, as authorize. */
  authorizeFirehose(token: string): Promise<AuthDecision>;
  /** What decides, for the startup log, e.g. "tokens file /var/lib/loggregator/tokens.json". */
  readonly description: string;
  /** Stops watching and calling out; later calls are answered 503. */
  close(): Promise<void>;
}

/**
 * The authorizer trafficController.auth asks for, ready to answer. In "tokens" mode the default
 * tokens file (<dataDir>/tokens.json) is created with one admin token if missing, so a fresh
 * install can be used at once; a file the configuration names is the operator's to provide.
 */
export async function openAuthorizer(config: Config, logger: Logger): Promise<Authorizer> {
  const auth = config.trafficController.auth;
  switch (auth.mode) {
    case 'tokens': {
      const path = tokensFilePath(config);
      if (auth.tokensFile === null && ensureTokensFile(path).created) {
        logger.info('created a tokens file with one admin token (mapped to "*"); keep it private', { path });
      }
      return openTokensFileAuthorizer(path, logger);
    }
    case 'callout': {
      const { url, ...rest } = auth.callout;
      if (url === null) throw new Error('trafficController.auth.mode is "callout" but trafficController.auth.callout.url is not set');
      return new CalloutAuthorizer({ url, ...rest }, logger);
    }
  }
}
