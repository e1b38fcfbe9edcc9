// End to end, the drain scenario of issue 4 with real processes: a real etcd, two real syslog-ng
// receivers (TCP and TLS), the router (`serve`, bindings in etcd), and the CLI binding,
// emitting and unbinding. Receivers and etcd are stopped and restarted by PID mid-stream.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, run } from '../support/childProcess';
import { EtcdServer, startEtcd } from '../support/etcdServer';
import { fixedLoopbackPorts } from '../support/fixedPorts';
import { ReceivedFrame, SyslogReceiver, startSyslogReceiver } from '../support/syslogReceiver';
import { UdpSender, envelope } from '../support/udpSender';
import { waitFor } from '../support/waitFor';

jest.setTimeout(120_000);

const CLI = 'dist/src/cli/main.js';
const APP = 'e2e-drained';

/** The numbers of the `line N` messages a receiver got (a line may come twice: at least once). */
function numbers(frames: readonly ReceivedFrame[]): Set<number> {
  return new Set(frames.map(f => /^line (\d+)$/.exec(f.message)).filter(m => m !== null).map(m => Number(m![1])));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('drains bound in etcd, end to end', () => {
  let etcd: EtcdServer;
  let tcp: SyslogReceiver;
  let tlsReceiver: SyslogReceiver;
  let router: Child;
  let udp: string;
  let env: NodeJS.ProcessEnv;

  // Upper limits only (a CLI start-up on a loaded 2-core machine can take seconds); a run that passes returns at once.
  const cli = (...args: string[]) => run('node', [CLI, ...args], { env, timeoutMs: 60_000 });
  const cliWithInput = (input: string, ...args: string[]) => run('node', [CLI, ...args], { env, input, timeoutMs: 60_000 });
  /** Emits `line from` … `line to`, as the CLI does from stdin. */
  const emit = async (from: number, to: number) => {
    const res = await cliWithInput(range(from, to).map(n => `line ${n}`).join('\n'), 'emit', APP, '--target', udp);
    expect(res.code).toBe(0);
  };

  beforeAll(async () => {
    // The TCP receiver is killed and restarted on its port while the router keeps reconnecting to
    // it: a port outside the ephemeral range, so that meanwhile no other socket can be given it
    // (nor the router's reconnect connect to itself on it).
    const [tcpPort] = await fixedLoopbackPorts(1);
    [etcd, tcp, tlsReceiver] = await Promise.all([startEtcd(), startSyslogReceiver({ port: tcpPort }), startSyslogReceiver({ tls: true })]);
    env = {
      LOGGREGATOR_BINDINGS_STORE: 'etcd',
      LOGGREGATOR_ETCD_ENDPOINTS: etcd.endpoint,
      LOGGREGATOR_ETCD_DIAL_TIMEOUT_MS: '1000',
      LOGGREGATOR_BINDINGS_RECONNECT_INITIAL_MS: '50',
      LOGGREGATOR_BINDINGS_RECONNECT_MAX_MS: '500',
      LOGGREGATOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'lgr-e2e-drains-')),
      LOGGREGATOR_ROUTER_UDP_PORT: '0',
      LOGGREGATOR_ROUTER_HTTP_PORT: '0',
      LOGGREGATOR_TRAFFIC_CONTROLLER_HTTP_PORT: '0',
      LOGGREGATOR_ROUTER_DRAINS_HOSTNAME: 'e2e-router',
      LOGGREGATOR_ROUTER_DRAINS_TLS_CA_FILE: tlsReceiver.caFile!,
      LOGGREGATOR_ROUTER_DRAINS_RECONNECT_INITIAL_MS: '20',
      LOGGREGATOR_ROUTER_DRAINS_RECONNECT_MAX_MS: '300',
    };
    router = Child.start('node', [CLI, 'serve'], env);
    udp = (JSON.parse((await router.waitFor(/^\{.*"message":"router listening".*$/m))[0]) as { udp: string }).udp;
  });

  afterAll(async () => {
    await router?.kill();
    await Promise.all([etcd?.stop(), tcp?.stop(), tlsReceiver?.stop()]);
  });

  it('forwards every line to drains bound with the CLI, over TCP and TLS, with the right fields', async () => {
    expect(await cli('bind', APP, `syslog://127.0.0.1:${tcp.port}`)).toMatchObject({ code: 0, stdout: `bound: ${APP} → syslog://127.0.0.1:${tcp.port}\n` });
    expect(await cli('bind', APP, `syslog-tls://localhost:${tlsReceiver.port}`)).toMatchObject({ code: 0 });
    await router.waitFor(/"drain":"syslog-tls:[^\n]*"message":"drain connected"/);
    await router.waitFor(/"drain":"syslog:[^\n]*"message":"drain connected"/);

    await emit(1, 500);
    expect(await cliWithInput('a router line', 'emit', APP, '--stderr', '--source-type', 'RTR', '--instance', '3', '--target', udp)).toMatchObject({ code: 0 });
    for (const receiver of [tcp, tlsReceiver]) {
      const frames = await receiver.waitForMessages(501, 20_000);
      expect(frames.slice(0, 500).map(f => f.message)).toEqual(range(1, 500).map(n => `line ${n}`));
      expect(new Set(frames.slice(0, 500).map(f => [f.pri, f.host, f.appName, f.procId, f.msgId, f.sdata].join(' ')))).toEqual(
        new Set([`14 e2e-router ${APP} [APP/0]  `]),
      );
      expect(frames[500]).toMatchObject({ pri: 11, appName: APP, procId: '[RTR/3]', message: 'a router line' });
      expect(await receiver.errors()).toEqual([]);
    }
  });

  it('loses nothing when the TCP receiver hangs, is killed by PID mid-stream and restarted (fails without the resend)', async () => {
    // Lines keep coming (20 every 10 ms) while the receiver hangs and dies.
    const [host, port] = udp.split(':');
    const sender = new UdpSender({ address: host, port: Number(port), family: 'IPv4' });
    let killed = false;
    try {
      for (let batch = 0; batch < 100; batch++) {
        const first = 1001 + batch * 20;
        await sender.sendEnvelopes(range(first, first + 19).map(n => envelope(APP, `line ${n}`)));
        await new Promise(resolve => setTimeout(resolve, 10));
        // Hung first, so that what it has not read yet dies with it: only a resend saves that.
        if (batch === 30) tcp.kill('SIGSTOP');
        if (batch === 40) {
          tcp.kill('SIGKILL');
          killed = true;
        }
        if (batch === 60) await tcp.restart();
      }
    } finally {
      await sender.close();
    }
    expect(killed).toBe(true);
    const want = range(1001, 3000);
    await waitFor(
      async () => {
        const got = numbers(await tcp.messages());
        return want.every(n => got.has(n));
      },
      { timeoutMs: 30_000, what: 'lines 1001-3000 at the restarted TCP receiver' },
    );
    const got = numbers(await tlsReceiver.waitForMessages(501 + 2000, 20_000));
    expect(want.filter(n => !got.has(n))).toEqual([]);
  });

  it('keeps forwarding on the last known bindings while etcd is down', async () => {
    etcd.kill('SIGKILL');
    await emit(5001, 5100);
    for (const receiver of [tcp, tlsReceiver]) {
      await waitFor(async () => {
        const got = numbers(await receiver.messages());
        return range(5001, 5100).every(n => got.has(n));
      }, {
        timeoutMs: 20_000,
        what: 'lines sent while etcd was down',
      });
    }
    await router.waitFor(/binding store unavailable/);
    await etcd.restart();
  });

  it('stops forwarding to a drain once it is unbound, and keeps the others', async () => {
    expect(await cli('unbind', APP, `syslog://127.0.0.1:${tcp.port}`)).toMatchObject({ code: 0 });
    // The router resyncs with etcd after the restart and then sees the unbind.
    await router.waitFor(/"message":"drains changed"[^\n]*"removed":1/, 30_000);
    await emit(6001, 6050);
    await waitFor(async () => numbers(await tlsReceiver.messages()).has(6050), { timeoutMs: 20_000, what: 'line 6050 at the TLS receiver' });
    expect([...numbers(await tcp.messages())].filter(n => n > 6000)).toEqual([]);
    expect(await cli('bindings', APP)).toMatchObject({ code: 0, stdout: `${APP}\tsyslog-tls://localhost:${tlsReceiver.port}\n` });
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await router.stop('SIGTERM')).toBe(0);
  });
});
