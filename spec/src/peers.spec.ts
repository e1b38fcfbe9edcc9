// The real peers other specs run against, as their harnesses promise them:
//
//   startEtcd()            → healthy on a free port; etcdctl and the etcd3 client both talk to it;
//                            restart() keeps the data (after a crash too); stop() leaves no process
//                            and no data dir; an etcd that cannot start is reported with its log.
//   startSyslogReceiver()  → restart() listens on the same port and appends to the same files;
//                            stop() leaves no process, even a hung one; a taken port is reported.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { encodeSyslogMessage, octetCounted } from '../../src/envelope/rfc5424';
import { run } from '../support/childProcess';
import { EtcdServer, startEtcd } from '../support/etcdServer';
import { startSyslogReceiver, SyslogReceiver } from '../support/syslogReceiver';
import { Teardown } from '../support/teardown';

const teardown = new Teardown();
afterEach(() => teardown.run());

function etcdctl(etcd: EtcdServer, ...args: string[]) {
  return run('etcdctl', [`--endpoints=${etcd.endpoint}`, '--command-timeout=5s', ...args], { env: { ETCDCTL_API: '3' } });
}

/** Whether a process with this PID exists (signal 0 checks without signalling). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

describe('startEtcd', () => {
  it('serves the v3 API on a loopback port: etcdctl writes, the etcd3 client reads', async () => {
    const etcd = teardown.add(await startEtcd(), e => e.stop());
    expect(etcd.endpoint).toBe(`http://127.0.0.1:${etcd.port}`);
    expect(await etcdctl(etcd, 'put', '/drains/my-app', 'syslog://127.0.0.1:514')).toMatchObject({ code: 0, stdout: 'OK\n' });
    const client = teardown.add(new Etcd3({ hosts: etcd.endpoint }), c => c.close());
    expect(await client.get('/drains/my-app').string()).toBe('syslog://127.0.0.1:514');
  });

  it('stop() ends the process and removes the data dir it made', async () => {
    const etcd = await startEtcd();
    const { pid, dir } = etcd;
    expect(processExists(pid)).toBe(true);
    expect(existsSync(join(dir, 'data'))).toBe(true);
    await etcd.stop();
    expect(processExists(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await etcd.stop(); // again: nothing to do
  });

  it('restart() keeps the data and the endpoint, after a clean stop and after a crash', async () => {
    const etcd = teardown.add(await startEtcd(), e => e.stop());
    const first = etcd.pid;
    expect((await etcdctl(etcd, 'put', 'k', 'v1')).code).toBe(0);

    await etcd.restart();
    expect(etcd.pid).not.toBe(first);
    expect(processExists(first)).toBe(false);
    expect((await etcdctl(etcd, 'get', 'k', '--print-value-only')).stdout).toBe('v1\n');

    expect((await etcdctl(etcd, 'put', 'k', 'v2')).code).toBe(0);
    const second = etcd.pid;
    etcd.kill('SIGKILL');
    await etcd.restart();
    expect(processExists(second)).toBe(false);
    expect((await etcdctl(etcd, 'get', 'k', '--print-value-only')).stdout).toBe('v2\n');
  });

  it('rejects with the tail of etcd\'s log when etcd exits at start, and leaves a given dir in place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loggregator-etcd-spec-'));
    teardown.add(dir, d => rm(d, { recursive: true, force: true }));
    await writeFile(join(dir, 'data'), 'a file where etcd wants its data dir');
    await expect(startEtcd(dir)).rejects.toThrow(/etcd exited \(1\) before it was healthy[\s\S]*data/);
    expect(existsSync(join(dir, 'data'))).toBe(true);
  });
});

describe('startSyslogReceiver', () => {
  async function send(receiver: SyslogReceiver, message: string): Promise<void> {
    const socket = connect(receiver.port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const line = { appId: 'my-app', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', timestamp: '1795624927574444999', message } as const;
    await new Promise<void>(resolve => socket.end(octetCounted(encodeSyslogMessage(line, 'host')), resolve));
  }

  it('restart() listens on the same port and appends to the same files; stop() leaves no process', async () => {
    const receiver = await startSyslogReceiver();
    try {
      await send(receiver, 'before');
      expect((await receiver.waitForMessages(1)).map(f => f.message)).toEqual(['before']);

      const first = receiver.pid;
      receiver.kill('SIGKILL');
      await receiver.restart();
      expect(processExists(first)).toBe(false);
      await send(receiver, 'after');
      expect((await receiver.waitForMessages(2)).map(f => f.message)).toEqual(['before', 'after']);
    } finally {
      const { pid, dir } = receiver;
      await receiver.stop();
      expect(processExists(pid)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('stop() ends a receiver that hangs (SIGSTOP) at once, not after the grace period', async () => {
    const receiver = await startSyslogReceiver();
    const { pid } = receiver;
    receiver.kill('SIGSTOP');
    const started = Date.now();
    await receiver.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(processExists(pid)).toBe(false);
  });

  it("rejects with syslog-ng's reason when another process holds the port (which would accept for it)", async () => {
    const holder = teardown.add(createServer(), s => new Promise(resolve => s.close(resolve)));
    await new Promise<void>(resolve => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    await expect(startSyslogReceiver({ port })).rejects.toThrow(/syslog-ng exited \(\d+\) before it listened[\s\S]*Address already in use/);
  });

  it('waitForMessages() rejects after its timeout, saying how many frames came', async () => {
    const receiver = teardown.add(await startSyslogReceiver(), r => r.stop());
    await send(receiver, 'only one');
    await expect(receiver.waitForMessages(2, 300)).rejects.toThrow(/1 of 2 frames within 300 ms[\s\S]*only one/);
  });
});
