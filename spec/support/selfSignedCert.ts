// A self-signed certificate for localhost and 127.0.0.1, made with the system's openssl into a
// temporary directory, for TLS peers of specs (an HTTPS drain receiver):
//
//   const cert = await makeSelfSignedCert();     // cert.cert, cert.key (PEM), cert.certFile
//   https.createServer({ cert: cert.cert, key: cert.key }, …)   // clients trust cert.cert
//   await cert.remove();
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  remove(): Promise<void>;
}

export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), 'loggregator-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const args = [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ];
  try {
    await new Promise<void>((resolve, reject) =>
      execFile('openssl', args, { timeout: 30_000 }, (err, _stdout, stderr) =>
        err ? reject(new Error(`openssl could not make a self-signed certificate: ${err.message}\n${stderr}`)) : resolve(),
      ),
    );
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { dir, certFile, keyFile, cert, key, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
