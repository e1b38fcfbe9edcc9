// Syslog into a real router, sent by the system's own util-linux `logger`:
//
//   logger --rfc5424 -t myapp -p user.err --id=42 "hello"  ──UDP──▶ router ──▶ GET /recent?app=myapp
//   logger --rfc3164 -t myapp "hi"                                            myapp APP/42 ERR "hello"
//   raw "<14>1 … myapp [RTR/1] - - GET /health"                               myapp APP/0  OUT "hi"
//   malformed syslog between good lines                 ──▶ bad_syslog counted, good lines all delivered
//
// Needs `logger` (util-linux; Debian/Ubuntu package bsdutils). Without it these specs fail and
// say so: they are the proof that what real programs send is understood.
import { routerApiHeaders, routerApiToken } from '../../../src/auth/routerApiToken';
import { spawn, spawnSync } from 'node:child_process';
import { encodeDatagram } from '../../../src/envelope/codec';
import { Envelope, nowNs } from '../../../src/envelope/envelope';
import { Router } from '../../../src/router/router';
import { httpGet, recent } from '../../support/httpGet';
import { datagramsSeen, metricValue, rejectedByReason } from '../../support/routerMetricValue';
import { Teardown } from '../../support/teardown';
import { numbered } from '../../support/udpSender';
import { waitFor } from '../../support/waitFor';

const SECRET = 'sixteen-chars-secret!';
/** Tolerance between logger's clock reading and ours (same machine, different clocks). */
const CLOCK_SLACK_NS = 2_000_000_000n;

function requireLogger(): void {
  const probe = spawnSync('logger', ['--help'], { encoding: 'utf8' });
  if (probe.error || !/--rfc5424/.test(probe.stdout ?? '')) {
    throw new Error(
      'these specs send syslog with the system\'s util-linux `logger`, which is missing or too old ' +
        `(${probe.error?.message ?? 'no --rfc5424 in logger --help'}): install it, e.g. \`apt-get install bsdutils\` ` +
        '(Debian/Ubuntu; util-linux elsewhere)',
    );
  }
}

interface LoggerRun {
  readonly pid: number;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs `logger -d -n HOST -P PORT …args` to completion, with optional stdin. */
function logger(router: Router, args: string[], input?: string): Promise<LoggerRun> {
  const { address, port } = router.udpAddress;
  return new Promise((resolve, reject) => {
    const stdin = input === undefined ? 'ignore' : 'pipe';
    const child = spawn('logger', ['-d', '-n', address, '-P', String(port), ...args], { stdio: [stdin, 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', code => {
      clearTimeout(timer);
      resolve({ pid: child.pid ?? -1, code, stderr });
    });
    child.stdin?.end(input);
  });
}

async function loggerOk(router: Router, args: string[], input?: string): Promise<LoggerRun> {
  const result = await logger(router, args, input);
  if (result.code !== 0) throw new Error(`logger ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

/** The app's recent lines, once there are `count` of them. */
async function recentLines(router: Router, appId: string, count: number): Promise<Envelope[]> {
  let lines: Envelope[] = [];
  await waitFor(async () => (lines = await recent(router.httpAddress, `app=${appId}`)).length >= count, {
    what: `${count} recent lines of ${appId}`,
  });
  return lines;
}

function expectWithin(timestamp: string, from: bigint, to: bigint, slack = 0n): void {
  const at = BigInt(timestamp);
  expect({ timestamp, inWindow: at >= from - slack && at <= to + slack }).toEqual({ timestamp, inWindow: true });
}

describe('router syslog ingest', () => {
  const teardown = new Teardown();
  afterEach(() => teardown.run());

  describe('from util-linux logger', () => {
    beforeAll(requireLogger);

    it('delivers RFC 5424 from logger: APP-NAME → appId, --id → instance, user.err → ERR, its timestamp kept', async () => {
      const router = await teardown.router();
      const before = BigInt(nowNs());
      await loggerOk(router, ['--rfc5424', '-t', 'myapp', '-p', 'user.err', '--id=42', 'hello from logger']);
      await loggerOk(router, ['--rfc5424', '-t', 'myapp', '--msgid', 'M1', '--sd-id', 'x@1', '--sd-param', 'a="q\\"b\\]c\\\\"', 'after SD']);
      await loggerOk(router, ['--rfc5424=notime', '-t', 'myapp', '-p', 'local7.warning', 'no timestamp']);
      const after = BigInt(nowNs());

      const lines = await recentLines(router, 'myapp', 3);
      expect(lines.map(({ timestamp, ...rest }) => rest)).toEqual([
        { appId: 'myapp', sourceType: 'APP', sourceInstance: '42', messageType: 'ERR', message: 'hello from logger' },
        { appId: 'myapp', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', message: 'after SD' },
        { appId: 'myapp', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', message: 'no timestamp' },
      ]);
      // logger's own timestamps (microseconds, with its zone offset), then the router's receive time.
      expect(lines[0].timestamp).toMatch(/000$/);
      expectWithin(lines[0].timestamp, before, after, CLOCK_SLACK_NS);
      expectWithin(lines[1].timestamp, before, after, CLOCK_SLACK_NS);
      expectWithin(lines[2].timestamp, before, after);
      expect(await metricValue(router, 'loggregator_ingested_total')).toBe(3);
      expect(await metricValue(router, 'loggregator_rejected_total')).toBe(0);
    });

    it('delivers RFC 3164 from logger: TAG → appId, [PID] → instance, receive time', async () => {
      const router = await teardown.router();
      const before = BigInt(nowNs());
      await loggerOk(router, ['--rfc3164', '-t', 'myapp', 'hi']);
      const withPid = await loggerOk(router, ['--rfc3164', '-t', 'myapp', '-i', '-p', 'user.crit', 'with its pid']);
      await loggerOk(router, ['--rfc3164', '-t', 'myapp', '--id=7', 'with --id']);
      const after = BigInt(nowNs());

      const lines = await recentLines(router, 'myapp', 3);
      expect(lines.map(({ timestamp, ...rest }) => rest)).toEqual([
        { appId: 'myapp', sourceType: 'APP', sourceInstance: '0', messageType: 'OUT', message: 'hi' },
        { appId: 'myapp', sourceType: 'APP', sourceInstance: String(withPid.pid), messageType: 'ERR', message: 'with its pid' },
        { appId: 'myapp', sourceType: 'APP', sourceInstance: '7', messageType: 'OUT', message: 'with --id' },
      ]);
      for (const line of lines) expectWithin(line.timestamp, before, after);
    });

    it('delivers every line of a program piped into logger, in order, non-ASCII intact', async () => {
      const router = await teardown.router();
      const input = 'one\ntwo: with a colon\nżółć 日本語 🚀\n[bracketed] line\n';
      await loggerOk(router, ['--rfc5424', '-t', 'piped-app'], input);
      await loggerOk(router, ['--rfc3164', '-t', 'piped-app'], input);
      const lines = await recentLines(router, 'piped-app', 8);
      const messages = ['one', 'two: with a colon', 'żółć 日本語 🚀', '[bracketed] line'];
      expect(lines.map(e => e.message)).toEqual([...messages, ...messages]);
    });

    it('counts malformed syslog as bad_syslog and delivers the good lines around it', async () => {
      const router = await teardown.router();
      const client = await teardown.tail(router, 'app=app-good');
      const sender = teardown.sender(router);
      const bad = [
        '<999>1 - host app-good - - - bad PRI',
        '<1a>1 - host app-good - - - bad PRI',
        '<13>1 - host app-good',
        '<13>1 2026-02-30T00:00:00Z host app-good - - - no such day',
        '<13>1 2026-11-25T12:00:00 host app-good - - - no offset',
        '<13>1 - host -bad-app - - - invalid app name',
        '<13>1 - host app-good [APP] - - bad PROCID',
        '<13>1 - host app-good - - [x a="unterminated] msg',
        '<13>Oct 32 12:00:00 host app-good: bad day',
        '<13>Oct 11 12:00:00 host just words, no tag',
        '<13>2 - host app-good - - - VERSION 2',
        '<',
      ].map(text => Buffer.from(text, 'utf8'));
      bad.push(Buffer.concat([Buffer.from('<13>app-good: '), Buffer.from([0xc3, 0x28])])); // not UTF-8

      // JSON envelopes, syslog from logger and raw syslog, alternating with the bad ones.
      const good = numbered('app-good', bad.length + 1);
      for (let k = 0; k < good.length; k++) {
        if (k % 3 === 0) await sender.send([encodeDatagram(good[k])]);
        else if (k % 3 === 1) await loggerOk(router, ['--rfc5424', '-t', 'app-good', good[k].message]);
        else await sender.send([Buffer.from(`<14>1 - host app-good - - - ${good[k].message}\n`)]);
        if (k < bad.length) await sender.send([bad[k]]);
      }
      // logger itself sending what the router cannot take: an app name that is not an app id.
      await loggerOk(router, ['--rfc5424', '-t', 'not/an/app', 'rejected']);
      await loggerOk(router, ['--rfc3164', '-t', 'not/an/app', 'rejected']);
      const total = good.length + bad.length + 2;

      await waitFor(async () => (await datagramsSeen(router)) === total, { what: `all ${total} datagrams accounted for` });
      await waitFor(() => client.received.length >= good.length, { what: `${good.length} good lines at the tail client` });
      expect(client.received.map(e => e.message)).toEqual(good.map(e => e.message));
      expect((await recent(router.httpAddress, 'app=app-good')).map(e => e.message)).toEqual(good.map(e => e.message));
      expect(await rejectedByReason(router)).toEqual({
        oversized: 0,
        invalid_utf8: 0,
        not_json: 0,
        invalid_envelope: 0,
        unsigned: 0,
        bad_signature: 0,
        bad_syslog: bad.length + 2,
      });
      const metrics = await httpGet(router.httpAddress, '/metrics');
      expect(metrics.body).toContain(`loggregator_rejected_total{reason="bad_syslog"} ${bad.length + 2}\n`);
    });

    it('with a shared secret, refuses syslog as unsigned (it cannot be signed) and delivers signed envelopes', async () => {
      const router = await teardown.router({ sharedSecret: SECRET });
      const sender = teardown.sender(router);
      await loggerOk(router, ['--rfc5424', '-t', 'app-good', 'forged?']);
      await loggerOk(router, ['--rfc3164', '-t', 'app-good', 'forged?']);
      const good = numbered('app-good', 2);
      await sender.sendEnvelopes(good, SECRET);
      await waitFor(async () => (await datagramsSeen(router)) === 4, { what: 'all 4 datagrams accounted for' });
      expect(await recent(router.httpAddress, 'app=app-good', routerApiHeaders(routerApiToken(SECRET)))).toEqual(good);
      expect(await metricValue(router, 'loggregator_rejected_total', { reason: 'unsigned' })).toBe(2);
    });
  });

  describe('raw datagrams', () => {
    it('maps a PROCID "[RTR/1]" to sourceType RTR, instance 1, and keeps the sender\'s timestamp', async () => {
      const router = await teardown.router();
      await teardown.sender(router).send([
        Buffer.from('<14>1 2026-11-25T12:00:00.123456Z gorouter.example myapp [RTR/1] - - GET /health 200 0.002s', 'utf8'),
        Buffer.from('<11>1 2026-11-25T13:00:00.5+01:00 cell-7 myapp [APP/PROC/WEB/0] - [x@1 k="v\\]"] \ufeffcrashed\n', 'utf8'),
        Buffer.from('<14>Nov 25 12:00:01 gorouter myapp[RTR/2]: GET / 200', 'utf8'),
      ]);
      const lines = await recentLines(router, 'myapp', 3);
      expect(lines[0]).toEqual({
        appId: 'myapp',
        sourceType: 'RTR',
        sourceInstance: '1',
        messageType: 'OUT',
        timestamp: '1795608000123456000', // 2026-11-25T12:00:00.123456Z
        message: 'GET /health 200 0.002s',
      });
      expect(lines[1]).toEqual({
        appId: 'myapp',
        sourceType: 'APP/PROC/WEB',
        sourceInstance: '0',
        messageType: 'ERR',
        timestamp: '1795608000500000000', // 13:00:00.5+01:00
        message: 'crashed',
      });
      expect([lines[2].sourceType, lines[2].sourceInstance, lines[2].message]).toEqual(['RTR', '2', 'GET / 200']);
    });

    it('shows bad_syslog at 0 from the start', async () => {
      const router = await teardown.router();
      const metrics = await httpGet(router.httpAddress, '/metrics');
      expect(metrics.body).toContain('loggregator_rejected_total{reason="bad_syslog"} 0\n');
    });
  });
});
