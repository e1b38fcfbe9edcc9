// The CAs TLS drains (syslog-tls://, https://) trust. A TLS context given its own `ca` list
// trusts that list alone, not node's default store, so the list holds everything node would
// trust by itself and more:
//   node's bundled roots;
//   the host's bundle (node does not read it by itself, so a CA an operator added with
//     update-ca-certificates would not count);
//   the file NODE_EXTRA_CA_CERTS names (node adds it to its default store only, which the
//     list replaces);
//   router.drains.tls.caFile.
// Read once, when the router starts.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../config/loadConfig';
import { Logger } from '../logger';

/** The host's CA bundle (Debian's; what update-ca-certificates maintains), if it has one. */
export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface TrustSources {
  /** router.drains.tls.caFile: a file that cannot be used is a configuration error. */
  readonly caFile: string | null;
  /** What NODE_EXTRA_CA_CERTS names: a file that cannot be used is warned about and left out, as node does. */
  readonly extraCaCerts: string | undefined;
  readonly hostBundle?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The CAs for TLS drains, or undefined (node's default store) when there is nothing to add to node's roots. */
export function trustedCas(sources: TrustSources, logger: Logger): string[] | undefined {
  const extra: string[] = [];
  try {
    extra.push(readFileSync(sources.hostBundle ?? HOST_CA_BUNDLE, 'utf8'));
  } catch {
    // no host bundle: node's roots and the files given
  }
  extra.push(...nodeExtraCaCerts(sources.extraCaCerts, logger));
  if (sources.caFile !== null) extra.push(configuredCas(sources.caFile));
  return extra.length === 0 ? undefined : [...rootCertificates, ...extra];
}

function configuredCas(caFile: string): string {
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`router.drains.tls.caFile ${caFile}: cannot read it (${reasonOf(err)})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`router.drains.tls.caFile ${caFile}: holds no PEM certificate`);
  return pem;
}

/**
 * The certificates of the PEM file NODE_EXTRA_CA_CERTS names. One that cannot be read, holds no
 * certificate or holds some that are not valid is warned about with its path and why; drains
 * keep the other CAs (node, too, only warns about that file).
 */
function nodeExtraCaCerts(path: string | undefined, logger: Logger): string[] {
  if (path === undefined || path === '') return [];
  const warn = (reason: string, trusted = 'the other CAs') =>
    logger.warn(`NODE_EXTRA_CA_CERTS=${path}: ${reason}; TLS drains trust ${trusted}`, { variable: 'NODE_EXTRA_CA_CERTS', path, reason });
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    warn(`cannot read it (${reasonOf(err)})`);
    return [];
  }
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  const valid = blocks.filter(isCertificate);
  if (valid.length === 0) {
    warn(blocks.length === 0 ? 'holds no PEM certificate' : `none of its ${blocks.length} PEM certificates can be read`);
  } else if (valid.length < blocks.length) {
    warn(`${blocks.length - valid.length} of its ${blocks.length} PEM certificates cannot be read`, 'its others and the other CAs');
  }
  return valid;
}

function isCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

function reasonOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}
