// The CAs a whole router's TLS drains trust, with NODE_EXTRA_CA_CERTS read when the router starts
// (on one thread, or by the reader for every worker): a syslog-tls:// drain to a real syslog-ng
// whose certificate is trusted only through that variable delivers; a variable naming a file
// that cannot be used is warned about, with its path and why, and the drains go on with the
// other CAs (router.drains.tls.caFile here).
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Router, startRouter } from '../../../src/router/router';
import { DrainOverrides, captureLogger, expectedFrame, fields } from '../../support/drainWriterHarness';
import { routerConfig } from '../../support/routerConfig';
import { metricValue } from '../../support/routerMetricValue';
import { startSyslogReceiver } from '../../support/syslogReceiver';
import { Teardown } from '../../support/teardown';
import { UdpSender, numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const HOST = 'trust-spec-host';
const QUICK: DrainOverrides = { hostname: HOST, reconnect: { initialMs: 20, maxMs: 200 }, flushSeconds: 1, connectTimeoutMs: 2000 };

describe('router drains: the CAs TLS drains trust', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  /** Sets NODE_EXTRA_CA_CERTS (as the router's environment) until the test ends. */
  function extraCaCerts(path: string): void {
    const before = process.env.NODE_EXTRA_CA_CERTS;
    process.env.NODE_EXTRA_CA_CERTS = path;
    teardown.add(before, value => (value === undefined ? delete process.env.NODE_EXTRA_CA_CERTS : (process.env.NODE_EXTRA_CA_CERTS = value)));
  }

  /** A router whose bindings.json binds `app` to `url`, logging into `lines`. */
  async function start(app: string, url: string, caFile: string | null = null) {
    const config = routerConfig({ router: { drains: { ...QUICK, tls: { caFile, insecureSkipVerify: false } } } });
    teardown.add(config.dataDir, dir => rm(dir, { recursive: true, force: true }));
    const temp = join(config.dataDir, `.bindings.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(temp, JSON.stringify({ bindings: [{ app, url }] }));
    await rename(temp, join(config.dataDir, 'bindings.json'));
    const { logger, lines } = captureLogger('debug');
    const router: Router = teardown.add(await startRouter(config, logger), r => r.close());
    const sender = teardown.add(new UdpSender(router.udpAddress), s => s.close());
    // A drain gets the lines that come once it runs.
    await waitFor(async () => (await metricValue(router, 'loggregator_drains')) === 1, { what: 'the drain to run' });
    return { router, sender, logs: lines };
  }

  it('trusts the CA NODE_EXTRA_CA_CERTS names (no caFile): lines arrive parsed', async () => {
    const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
    extraCaCerts(receiver.caFile!);
    const { router, sender, logs } = await start('extra-ca-app', `syslog-tls://localhost:${receiver.port}`);
    await waitFor(() => logs.some(line => line.includes('drain connected')), { timeoutMs: 15_000, what: 'the drain to connect' });

    const sent = numbered('extra-ca-app', 50);
    await sender.sendEnvelopes(sent);
    expect(fields(await receiver.waitForMessages(50, 15_000))).toEqual(sent.map(e => expectedFrame(e, HOST)));
    expect(await receiver.errors()).toEqual([]);
    expect(await metricValue(router, 'loggregator_drain_errors_total')).toBe(0);
  });

  it('warns about a NODE_EXTRA_CA_CERTS file that does not exist, naming it and why, and its drains still deliver', async () => {
    const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
    const missing = join(receiver.dir, 'no-such-ca.pem');
    extraCaCerts(missing);
    const { sender, logs } = await start('bad-extra-app', `syslog-tls://localhost:${receiver.port}`, receiver.caFile!);
    await waitFor(() => logs.some(line => line.includes('drain connected')), { timeoutMs: 15_000, what: 'the drain to connect' });

    const sent = numbered('bad-extra-app', 50);
    await sender.sendEnvelopes(sent);
    expect(fields(await receiver.waitForMessages(50, 15_000))).toEqual(sent.map(e => expectedFrame(e, HOST)));
    const warnings = logs.map(line => JSON.parse(line) as Record<string, unknown>).filter(r => r.level === 'warn' && r.variable === 'NODE_EXTRA_CA_CERTS');
    // Read once, when the router starts: one warning, however many workers it has.
    expect(warnings).toEqual([
      expect.objectContaining({ message: `NODE_EXTRA_CA_CERTS=${missing}: cannot read it (ENOENT); TLS drains trust the other CAs`, path: missing, reason: 'cannot read it (ENOENT)' }),
    ]);
  });

  it('without it, the same drain fails its handshakes, counted and logged, and nothing arrives', async () => {
    const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
    extraCaCerts('');
    const { router, sender, logs } = await start('no-ca-app', `syslog-tls://localhost:${receiver.port}`);

    await sender.sendEnvelopes(numbered('no-ca-app', 10));
    await waitFor(async () => (await metricValue(router, 'loggregator_drain_errors_total')) >= 2, { timeoutMs: 15_000, what: 'two failed handshakes' });
    await waitFor(() => logs.some(line => line.includes('TLS handshake failed')), { what: 'the failed handshake logged' });
    expect(await receiver.messages()).toEqual([]);
    expect(await metricValue(router, 'loggregator_drain_sent_total')).toBe(0);
  });
});
