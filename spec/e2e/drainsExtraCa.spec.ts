// End to end, a syslog-tls:// drain whose receiver (a real syslog-ng with a self-signed
// certificate) is trusted only through NODE_EXTRA_CA_CERTS: `loggregator router` as a child
// process with that variable and no router.drains.tls.caFile delivers the lines, parsed; the
// same router without the variable fails every handshake (counted, logged) and delivers none.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, run } from '../support/childProcess';
import { ReceivedFrame, SyslogReceiver, startSyslogReceiver } from '../support/syslogReceiver';
import { UdpSender, numbered } from '../support/udpSender';
import { waitFor } from '../support/waitFor';

jest.setTimeout(120_000);

const CLI = 'dist/src/cli/main.js';

describe('a TLS drain trusted through NODE_EXTRA_CA_CERTS, end to end', () => {
  let receiver: SyslogReceiver;
  /** The router of the running test, killed (its process group) if the test failed before stopping it. */
  let running: Child | undefined;

  beforeAll(async () => {
    receiver = await startSyslogReceiver({ tls: true });
  });
  afterEach(() => running?.kill());
  afterAll(() => receiver?.stop());

  /** `loggregator router` on free loopback ports with `app` bound to the receiver, and where it listens. */
  async function startRouter(app: string, extraCaCerts: string) {
    const env = {
      LOGGREGATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'lgr-e2e-extra-ca-')),
      LOGGREGATOR_ROUTER_UDP_PORT: '0',
      LOGGREGATOR_ROUTER_HTTP_PORT: '0',
      LOGGREGATOR_ROUTER_DRAINS_HOSTNAME: 'e2e-router',
      LOGGREGATOR_ROUTER_DRAINS_TLS_CA_FILE: '',
      LOGGREGATOR_ROUTER_DRAINS_RECONNECT_INITIAL_MS: '50',
      LOGGREGATOR_ROUTER_DRAINS_RECONNECT_MAX_MS: '300',
      NODE_EXTRA_CA_CERTS: extraCaCerts,
    };
    const bound = await run('node', [CLI, 'bind', app, `syslog-tls://localhost:${receiver.port}`], { env, timeoutMs: 60_000 });
    expect(bound).toMatchObject({ code: 0 });
    const router = (running = Child.start('node', [CLI, 'router'], env));
    const listening = JSON.parse((await router.waitFor(/^\{.*"message":"router listening".*$/m))[0]) as { udp: string; http: string };
    const [host, port] = listening.udp.split(':');
    return { router, udp: { address: host, port: Number(port), family: 'IPv4' }, http: listening.http };
  }

  const framesOf = (app: string, frames: readonly ReceivedFrame[]) => frames.filter(f => f.appName === app);

  it('delivers every line, parsed, with the receiver\'s CA given only in NODE_EXTRA_CA_CERTS', async () => {
    const app = 'e2e-extra-ca';
    const { router, udp } = await startRouter(app, receiver.caFile!);
    await router.waitFor(/"message":"drain connected"/);

    const sent = numbered(app, 200);
    const sender = new UdpSender(udp);
    try {
      await sender.sendEnvelopes(sent);
    } finally {
      await sender.close();
    }
    await waitFor(async () => framesOf(app, await receiver.messages()).length >= 200, { timeoutMs: 20_000, what: `200 lines of ${app} at the receiver` });
    const frames = framesOf(app, await receiver.messages());
    expect(frames.map(f => f.message)).toEqual(sent.map(e => e.message));
    expect(new Set(frames.map(f => [f.pri, f.host, f.procId].join(' ')))).toEqual(new Set(['14 e2e-router [APP/0]']));
    expect(await receiver.errors()).toEqual([]);
    expect(router.stderr).not.toMatch(/TLS handshake failed|NODE_EXTRA_CA_CERTS=/);
    expect(await router.stop('SIGTERM')).toBe(0);
  });

  it('without it, the handshakes fail (counted and logged) and no line arrives', async () => {
    const app = 'e2e-no-extra-ca';
    const { router, udp, http } = await startRouter(app, '');
    const sender = new UdpSender(udp);
    try {
      await sender.sendEnvelopes(numbered(app, 20));
    } finally {
      await sender.close();
    }
    await router.waitFor(/TLS handshake failed/);
    const errors = async () => {
      const text = await (await fetch(`${http}/metrics`)).text();
      return [...text.matchAll(/^loggregator_drain_errors_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    };
    await waitFor(async () => (await errors()) >= 2, { timeoutMs: 20_000, what: 'two failed handshakes counted' });
    expect(framesOf(app, await receiver.messages())).toEqual([]);
    expect(await router.stop('SIGTERM')).toBe(0);
  });
});
