// The CAs TLS drains trust: node's roots, the host's bundle, NODE_EXTRA_CA_CERTS's file and
// router.drains.tls.caFile. A TLS context given its own CA list ignores node's default store, so
// what NODE_EXTRA_CA_CERTS names counts only if it is in that list; checked with a real TLS
// handshake against a server whose certificate nothing else trusts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls, { rootCertificates } from 'node:tls';
import { ConfigError } from '../../../src/config/loadConfig';
import { trustedCas } from '../../../src/drain/trustedCas';
import { recordingLogger } from '../../support/recordingLogger';
import { SelfSignedCert, makeSelfSignedCert } from '../../support/selfSignedCert';

/** Whether a TLS client trusting `ca` completes a handshake with `server` as "localhost", or why not. */
async function handshake(server: tls.Server, ca: string[] | undefined): Promise<'ok' | string> {
  const { port } = server.address() as AddressInfo;
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
  try {
    await once(socket, 'secureConnect');
    return 'ok';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  } finally {
    socket.destroy();
  }
}

describe('trustedCas (the CAs of TLS drains)', () => {
  let dir: string;
  let extra: SelfSignedCert;
  let configured: SelfSignedCert;
  let server: tls.Server;
  /** A host bundle of the spec's own: the machine's may or may not exist. */
  let hostBundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lgr-trusted-cas-'));
    [extra, configured] = await Promise.all([makeSelfSignedCert(), makeSelfSignedCert()]);
    hostBundle = join(dir, 'host-bundle.pem');
    await writeFile(hostBundle, rootCertificates.slice(0, 3).join('\n'));
    server = tls.createServer({ cert: extra.cert, key: extra.key }, socket => socket.end());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise(resolve => server?.close(resolve));
    await Promise.all([extra?.remove(), configured?.remove(), dir && rm(dir, { recursive: true, force: true })]);
  });

  it('trusts the certificates of the file NODE_EXTRA_CA_CERTS names, with node\'s roots, the host bundle and caFile', async () => {
    const { logger, records } = recordingLogger();
    const ca = trustedCas({ caFile: configured.certFile, extraCaCerts: extra.certFile, hostBundle }, logger);
    expect(ca).toEqual([...rootCertificates, rootCertificates.slice(0, 3).join('\n'), extra.cert.trim(), configured.cert]);
    expect(await handshake(server, ca)).toBe('ok');
    expect(records).toEqual([]);
  });

  it('without NODE_EXTRA_CA_CERTS (unset or empty) that certificate is not trusted, and nothing is said', async () => {
    for (const extraCaCerts of [undefined, '']) {
      const { logger, records } = recordingLogger();
      const ca = trustedCas({ caFile: configured.certFile, extraCaCerts, hostBundle }, logger);
      expect(ca).toEqual([...rootCertificates, rootCertificates.slice(0, 3).join('\n'), configured.cert]);
      expect(await handshake(server, ca)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(records).toEqual([]);
    }
  });

  it('warns about a NODE_EXTRA_CA_CERTS file that is missing, naming the path and why, and keeps the other CAs', () => {
    const { logger, records } = recordingLogger();
    const missing = join(dir, 'no-such-ca.pem');
    const ca = trustedCas({ caFile: configured.certFile, extraCaCerts: missing, hostBundle }, logger);
    expect(ca).toEqual([...rootCertificates, rootCertificates.slice(0, 3).join('\n'), configured.cert]);
    expect(records).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: `NODE_EXTRA_CA_CERTS=${missing}: cannot read it (ENOENT); TLS drains trust the other CAs`,
        path: missing,
        reason: 'cannot read it (ENOENT)',
      }),
    ]);
  });

  it('warns about one that cannot be read (a directory) or holds no certificate', async () => {
    const notPem = join(dir, 'not-a-certificate.pem');
    await writeFile(notPem, 'just some text\n');
    for (const [path, reason] of [
      [dir, 'cannot read it (EISDIR)'],
      [notPem, 'holds no PEM certificate'],
    ]) {
      const { logger, records } = recordingLogger();
      expect(trustedCas({ caFile: null, extraCaCerts: path, hostBundle }, logger)).toEqual([...rootCertificates, rootCertificates.slice(0, 3).join('\n')]);
      expect(records.map(r => [r.level, r.path, r.reason])).toEqual([['warn', path, reason]]);
    }
  });

  it('leaves out a certificate that cannot be read, warning, and keeps the good ones of the same file', async () => {
    const mixed = join(dir, 'mixed.pem');
    const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----';
    await writeFile(mixed, `${broken}\n${extra.cert}`);
    const { logger, records } = recordingLogger();
    const ca = trustedCas({ caFile: null, extraCaCerts: mixed, hostBundle }, logger);
    expect(ca).toEqual([...rootCertificates, rootCertificates.slice(0, 3).join('\n'), extra.cert.trim()]);
    expect(await handshake(server, ca)).toBe('ok');
    expect(records.map(r => [r.level, r.reason])).toEqual([['warn', '1 of its 2 PEM certificates cannot be read']]);
  });

  it('refuses, as a configuration error, a caFile that cannot be read or holds no certificate (the operator asked for it)', async () => {
    const { logger } = recordingLogger();
    expect(() => trustedCas({ caFile: join(dir, 'missing.pem'), extraCaCerts: undefined, hostBundle }, logger)).toThrow(ConfigError);
    expect(() => trustedCas({ caFile: join(dir, 'missing.pem'), extraCaCerts: undefined, hostBundle }, logger)).toThrow(/router\.drains\.tls\.caFile .*missing\.pem: cannot read it \(ENOENT\)/);
    const text = join(dir, 'text.pem');
    await writeFile(text, 'no certificate here\n');
    expect(() => trustedCas({ caFile: text, extraCaCerts: undefined, hostBundle }, logger)).toThrow(`router.drains.tls.caFile ${text}: holds no PEM certificate`);
  });

  it('is node\'s default store (undefined) when there is no host bundle and nothing else', () => {
    const { logger } = recordingLogger();
    expect(trustedCas({ caFile: null, extraCaCerts: undefined, hostBundle: join(dir, 'no-bundle.pem') }, logger)).toBeUndefined();
  });
});
