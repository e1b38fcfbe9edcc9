// Where the web console is, told when the traffic controller starts: in the log (no token), and
// for the person at this machine, on stdout, an address that signs in with its admin token.
import { AddressInfo } from 'node:net';
import { readAdminToken, tokensFilePath } from '../auth/adminToken';
import { Config } from '../config/loadConfig';
import { Logger } from '../logger';
import { connectHost, hostPort, isLoopbackUrl } from './addresses';

/**
 * The console's address, and with "tokens" auth on a traffic controller bound to loopback, the
 * same with this machine's admin token in the fragment (`#token=…`): opening it signs in, and a
 * fragment is never sent to a server. Bound elsewhere, no token is offered: the address would
 * carry the admin token to wherever the reader opens it.
 */
export function consoleAddresses(config: Config, address: AddressInfo): { readonly url: string; readonly signInUrl?: string } {
  const url = `http://${hostPort({ ...address, address: connectHost(address.address) })}/`;
  if (config.trafficController.auth.mode !== 'tokens' || !isLoopbackUrl(new URL(`http://${hostPort(address)}/`))) return { url };
  const token = readAdminToken(tokensFilePath(config));
  return token === undefined ? { url } : { url, signInUrl: `${url}#token=${encodeURIComponent(token)}` };
}

/**
 * Logs the console's address (never a token: logs are shipped and kept) and prints the sign-in
 * address, when there is one, on stdout, where only whoever started the process reads it.
 */
export function announceConsole(config: Config, address: AddressInfo, logger: Logger, out: (text: string) => void = t => process.stdout.write(t)): void {
  const { url, signInUrl } = consoleAddresses(config, address);
  logger.info('web console', { url });
  if (signInUrl !== undefined) out(`web console: ${signInUrl}\n  (signs in with this machine's admin token: keep this address private)\n`);
}
