// A token revoked while its tail is open ends that tail (1008), on the next recheck; a check that
// cannot be made (503: the platform API is down) leaves the session open.
import { BehaviorSubject } from 'rxjs';
import { AuthDecision, Authorizer } from '../../../src/auth/authorizer';
import { authorizerUnavailable, forbidden } from '../../../src/auth/authDecision';
import { createLogger } from '../../../src/logger';
import { startTrafficController } from '../../../src/trafficController/trafficController';
import { RouterInfo } from '../../../streams/routerInfo';
import { TailClient } from '../../support/tailClient';
import { Teardown } from '../../support/teardown';
import { tcConfig } from '../../support/trafficControllerHarness';
import { within } from '../../support/waitFor';

describe('traffic controller: open tails are re-authorized', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  async function start(decide: () => AuthDecision) {
    const authorizer: Authorizer = { description: 'scripted', authorize: async () => decide(), authorizeFirehose: async () => decide(), close: async () => undefined };
    const config = tcConfig();
    const tc = await startTrafficController(
      { ...config, trafficController: { ...config.trafficController, auth: { ...config.trafficController.auth, recheckSeconds: 1 } } },
      createLogger('error', 'test'),
      { routers$: new BehaviorSubject<readonly RouterInfo[]>([]), authorizer },
    );
    teardown.add(tc, t => t.close());
    const client = await TailClient.open(tc.httpAddress, 'app=app-a', { headers: { authorization: 'Bearer t' } });
    teardown.add(client, c => c.terminate());
    return { tc, client };
  }

  it('closes a tail with 1008 once its token may no longer read the app, and counts it', async () => {
    let decision: AuthDecision = { allowed: true };
    const { tc, client } = await start(() => decision);
    decision = forbidden('app-a');
    expect(await within(client.closed, 5_000, 'the tail closed')).toEqual({ code: 1008, reason: 'token may no longer read this app' });
    const revoked = await tc.metrics.revoked.get();
    expect(revoked.values[0].value).toBe(1);
  });

  it('leaves a tail open while the authorizer cannot answer', async () => {
    let decision: AuthDecision = { allowed: true };
    const { client } = await start(() => decision);
    decision = authorizerUnavailable('the platform API is down');
    await new Promise(resolve => setTimeout(resolve, 2_500)); // two rechecks
    expect(client.isClosed).toBe(false);
  });
});
