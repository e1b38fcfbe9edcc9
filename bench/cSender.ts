// Picks the bench's UDP sender once per run: the C sender (udpSender.c, sendmmsg in batches),
// compiled here with `cc -O2` into the bench cache dir and checked with three datagrams, or,
// when that is not possible, node's dgram.send in the sender child. Every phase uses the one
// sender picked here, so both sides of every ratio are fed the same way.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { benchCacheDir } from './drains';
import { DatagramTemplate, logTexts, senderSpec } from './proto';

export interface SenderChoice {
  /** The compiled C sender; undefined: the node sender. */
  readonly bin?: string;
  /** For the report's header. */
  readonly description: string;
}

const SOURCE = path.join(__dirname, '..', '..', 'bench', 'udpSender.c');

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise(resolve => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}${err && code === -1 ? err.message : ''}`.trim() });
    });
  });
}

export async function chooseSender(): Promise<SenderChoice> {
  const node = (why: string): SenderChoice => ({ description: `node dgram.send, one call per line (${why})` });
  if (process.env.BENCH_SENDER === 'node') return node('BENCH_SENDER=node');
  if (!existsSync(SOURCE)) return node(`no ${SOURCE}`);
  const cc = process.env.CC ?? 'cc';
  const version = await run(cc, ['--version'], 10_000);
  if (version.code !== 0) return node(`no C compiler: \`${cc} --version\` failed: ${version.out.split('\n')[0] || 'not found'}`);
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).update(version.out).digest('hex').slice(0, 16);
  const dir = path.join(benchCacheDir(), 'udp-sender');
  const bin = path.join(dir, `udpSender-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    const c = await run(cc, ['-O2', '-o', tmp, SOURCE, '-lm'], 60_000);
    if (c.code !== 0) return node(`${cc} -O2 failed: ${c.out.split('\n').slice(0, 3).join(' | ')}`);
    renameSync(tmp, bin);
  }
  const why = await selfTest(bin);
  if (why) return node(`the compiled C sender failed its check: ${why}`);
  return { bin, description: `C sendmmsg, up to 256 datagrams per call (${path.basename(bin)}, \`${cc} -O2\`, in ${dir})` };
}

/** Three lines to a socket here: undefined when all three arrive intact and the C sender reports them, else why not. */
async function selfTest(bin: string): Promise<string | undefined> {
  const socket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', m => got.push(m));
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', () => resolve()));
  const dir = mkdtempSync(path.join(tmpdir(), 'lgb-cc-'));
  try {
    const template = new DatagramTemplate('bench-selftest');
    const spec = path.join(dir, 'spec.bin');
    writeFileSync(spec, senderSpec([template], logTexts(4).map(t => Buffer.from(t, 'latin1'))));
    const out = await new Promise<string>((resolve, reject) => {
      const proc = spawn(bin, [spec, '1000', '3', '7', '2000', String(socket.address().port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      proc.stdout.on('data', (d: Buffer) => (text += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (text += d.toString()));
      const t = setTimeout(() => proc.pid !== undefined && proc.exitCode === null && process.kill(proc.pid, 'SIGKILL'), 10_000);
      proc.on('error', reject);
      proc.on('close', code => {
        clearTimeout(t);
        if (code === 0) resolve(text);
        else reject(new Error(`exit ${code}: ${text.trim()}`));
      });
    });
    const r = JSON.parse(out) as { sent: number };
    for (let i = 0; i < 50 && got.length < 3; i++) await new Promise(res => setTimeout(res, 20));
    if (r.sent !== 3 || got.length !== 3) return `sent ${r.sent}, received ${got.length} of 3`;
    const bad = got.findIndex((g, i) => g.length !== template.bytes.length || !g.toString('latin1').includes(`"message":"#${String(7 + i).padStart(10, '0')} t`));
    return bad >= 0 ? `datagram ${bad} is not the expected line: ${got[bad].toString('latin1').slice(0, 200)}` : undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
