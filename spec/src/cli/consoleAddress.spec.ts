// Where serve says the web console is: in the log without a token; on stdout, for a traffic
// controller on loopback with "tokens" auth, an address that signs in with the admin token.
import { mkdtempSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTokensFile, readAdminToken } from '../../../src/auth/adminToken';
import { announceConsole, consoleAddresses } from '../../../src/cli/consoleAddress';
import { Config } from '../../../src/config/loadConfig';
import { captureLogger } from '../../support/drainWriterHarness';
import { routerConfig } from '../../support/routerConfig';

const at = (address: string, port = 8080): AddressInfo => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });

function withTokens(): { config: Config; token: string } {
  const config = routerConfig({ dataDir: mkdtempSync(join(tmpdir(), 'lgr-console-address-')) });
  const { path } = ensureTokensFile(join(config.dataDir, 'tokens.json'));
  return { config, token: readAdminToken(path) as string };
}

describe('the console address serve announces', () => {
  it('signs in with the admin token in the fragment when the traffic controller listens on loopback', () => {
    const { config, token } = withTokens();
    expect(consoleAddresses(config, at('127.0.0.1'))).toEqual({ url: 'http://127.0.0.1:8080/', signInUrl: `http://127.0.0.1:8080/#token=${token}` });
    expect(consoleAddresses(config, at('::1')).signInUrl).toBe(`http://[::1]:8080/#token=${token}`);
  });

  it('offers no token when it listens beyond loopback, with another auth mode, or without a tokens file', () => {
    const { config } = withTokens();
    expect(consoleAddresses(config, at('0.0.0.0'))).toEqual({ url: 'http://127.0.0.1:8080/' });
    expect(consoleAddresses(config, at('10.0.0.5'))).toEqual({ url: 'http://10.0.0.5:8080/' });
    const callout = { ...config, trafficController: { ...config.trafficController, auth: { ...config.trafficController.auth, mode: 'callout' as const } } };
    expect(consoleAddresses(callout, at('127.0.0.1'))).toEqual({ url: 'http://127.0.0.1:8080/' });
    const noFile = routerConfig({ dataDir: mkdtempSync(join(tmpdir(), 'lgr-console-address-')) });
    expect(consoleAddresses(noFile, at('127.0.0.1'))).toEqual({ url: 'http://127.0.0.1:8080/' });
  });

  it('logs the address without the token and prints the sign-in address on stdout only', () => {
    const { config, token } = withTokens();
    const { logger, lines } = captureLogger('debug');
    let printed = '';
    announceConsole(config, at('127.0.0.1'), logger, text => (printed += text));
    expect(printed).toContain(`web console: http://127.0.0.1:8080/#token=${token}\n`);
    expect(lines.join('\n')).toContain('"url":"http://127.0.0.1:8080/"');
    expect(lines.join('\n')).not.toContain(token);
  });
});
