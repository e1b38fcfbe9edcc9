// `loggregator router-token`: the routers' API token for the configured sharedSecret, as the
// router and the traffic controller derive it; a clear refusal without a secret.
import { routerApiToken } from '../../../src/auth/routerApiToken';
import { run } from '../../support/childProcess';

const CLI = 'dist/src/cli/main.js';

describe('loggregator router-token', () => {
  it("prints the routers' API token of sharedSecret", async () => {
    const secret = 'a-secret-for-the-cli-spec';
    const res = await run('node', [CLI, 'router-token'], { env: { LOGGREGATOR_SHARED_SECRET: secret } });
    expect(res).toMatchObject({ code: 0, stdout: `${routerApiToken(secret)}\n`, stderr: '' });
    expect(res.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(res.stdout).not.toContain(secret);
  });

  it('refuses, exit 2, when no sharedSecret is set', async () => {
    const res = await run('node', [CLI, 'router-token'], { env: { LOGGREGATOR_SHARED_SECRET: '' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/sharedSecret is not set/);
  });
});
