// A real syslog receiver for drain specs: syslog-ng (the Debian syslog-ng-core package) listening
// on 127.0.0.1 for RFC 5424 over TCP with RFC 6587 octet counting, or over TLS per RFC 5425.
//
//   const receiver = teardown.add(await startSyslogReceiver({ tls: true }), r => r.stop());
//   … send to 127.0.0.1:receiver.port (trusting receiver.caFile, servername "localhost") …
//   const [frame] = await receiver.waitForMessages(1);
//
// Files in `dir`:
//   messages.tsv  one line per frame syslog-ng parsed, 9 tab-separated fields:
//                   PRI  TIMESTAMP  b64(HOSTNAME)  b64(APP-NAME)  b64(PROCID)  b64(MSGID)  b64(SD)  b64(MSG)  b64(RAW)
//                 PRI is a number and TIMESTAMP syslog-ng's ISO form of the frame's own time
//                 (2026-11-25T18:00:00.123456+00:00: 6 fraction digits, "Z" written +00:00); every
//                 other field is base64 of its bytes, because that is the only escaping syslog-ng
//                 3.38 offers that loses nothing: $(format-json) drops DEL and writes NUL as the
//                 four characters \x00, and template-escape() leaves tabs and newlines alone.
//                 RAW is the whole frame as received (syslog-ng drops trailing newlines of it).
//                 syslog-ng reports a NILVALUE ("-") as an empty field.
//   errors.log    one JSON line {"time","message"} per frame syslog-ng could not parse
//                 ("Error processing log message: <14>1>@< notatime …", >@< marking where).
//   internal.log  syslog-ng's own notices: start, connections, TLS errors.
//   cert.pem, key.pem (TLS): a self-signed certificate for localhost and 127.0.0.1; cert.pem is
//                 the CA a client trusts (caFile).
//
// Beware: syslog-ng is lenient where RFC 5424 is strict. A frame without PRI is read as RFC
// 3164, "<999>" is accepted, a second space shifts the header fields by one, and non-ASCII
// header fields are kept. So assert every field of what arrived, not only that errors.log is empty.
//
// stop() ends syslog-ng (SIGTERM, SIGKILL after 5 s) and deletes `dir` when the harness made it.
// kill(signal) only signals (SIGKILL: a crash; SIGSTOP / SIGCONT: a hang). restart() starts it
// again on the same port, appending to the same files. It runs without root: its persist file,
// PID file and control socket live in `dir`.
//
// A spec that fails before its teardown, or a test process that dies, never leaves syslog-ng
// behind: it is spawned directly (no shell) in the test's process group (Ctrl-C ends it too),
// unreferenced and with its output in DIR/syslog-ng.out rather than a pipe (so it never keeps
// jest from exiting), and watched by a tiny `sh` loop that SIGKILLs it and removes a temporary
// dir once the test process is gone. (An 'exit' listener cannot do that job: jest gives each
// test file its own `process` object, whose 'exit' never fires.)
import { execFile, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Child } from './childProcess';
import { LocalPeer, freeLoopbackPorts, isRunning } from './peerProcess';

export interface ReceivedFrame {
  /** PRI as a number (facility × 8 + severity). */
  readonly pri: number;
  /** The frame's TIMESTAMP as syslog-ng writes it: `2026-11-25T18:00:00.123456+00:00`. */
  readonly timestamp: string;
  readonly host: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  /** STRUCTURED-DATA as sent, "" for "-". */
  readonly sdata: string;
  /** MSG, without a leading BOM (syslog-ng strips one) and trailing newlines. */
  readonly message: string;
  /** The whole frame as received, without trailing newlines. */
  readonly raw: string;
}

export interface SyslogReceiverOptions {
  /** Listen with TLS (RFC 5425) instead of plain TCP. */
  readonly tls?: boolean;
  /** Default: a port that is free on 127.0.0.1. */
  readonly port?: number;
  /** Default: a new temporary dir, removed by stop(). */
  readonly dir?: string;
}

export interface SyslogReceiver {
  readonly port: number;
  /** The PID of the syslog-ng now running (a restart changes it). */
  readonly pid: number;
  readonly dir: string;
  /** With `tls`: the certificate to trust (self-signed, for localhost and 127.0.0.1). */
  readonly caFile?: string;
  /** Every frame parsed so far, in arrival order. */
  messages(): Promise<ReceivedFrame[]>;
  /** syslog-ng's message for every frame it could not parse. */
  errors(): Promise<string[]>;
  /** Resolves with the frames once there are at least `n`; rejects after `timeoutMs` saying what did arrive. */
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedFrame[]>;
  /** SIGTERM, wait for the exit (SIGKILL after 5 s), remove a temporary dir. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to syslog-ng by its PID; no wait. */
  kill(signal: NodeJS.Signals): void;
  /** Ends syslog-ng if it runs, starts it again on the same port and files, waits until it listens. */
  restart(): Promise<void>;
}

const LISTENING_WITHIN_MS = 10_000;
const POLL_MS = 20;
/** What syslog-ng logs once its configuration is up, sockets bound. */
const STARTING_UP = 'syslog-ng starting up;';

export async function startSyslogReceiver(opts: SyslogReceiverOptions = {}): Promise<SyslogReceiver> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'loggregator-syslog-')));
  const port = opts.port ?? (await freeLoopbackPorts(1))[0];
  const receiver = new LocalSyslogNg(dir, ownDir, port, opts.tls ? join(dir, 'cert.pem') : undefined);
  try {
    await receiver.configure();
    await receiver.start();
  } catch (err) {
    await receiver.stop();
    throw err;
  }
  return receiver;
}

class LocalSyslogNg extends LocalPeer implements SyslogReceiver {
  constructor(
    dir: string,
    ownDir: boolean,
    readonly port: number,
    readonly caFile: string | undefined,
  ) {
    super(dir, ownDir, () => `the syslog receiver on ${port}`);
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  /** Writes the certificate (TLS), the config, and empty output files. */
  async configure(): Promise<void> {
    const q = (name: string) => JSON.stringify(this.path(name));
    let transport = 'transport("tcp")';
    if (this.caFile !== undefined) {
      await makeCertificate(this.path('key.pem'), this.caFile);
      transport = `transport("tls") tls(key-file(${q('key.pem')}) cert-file(${q('cert.pem')}) peer-verify(optional-untrusted))`;
    }
    const b64 = (macro: string) => `$(base64-encode \${${macro}})`;
    const fields = ['${PRI}', '${S_ISODATE}', ...['HOST', 'PROGRAM', 'PID', 'MSGID', 'SDATA', 'MESSAGE', 'RAWMSG'].map(b64)];
    // The file writer flushes whenever its queue runs empty, so a frame is in the file within
    // milliseconds of arriving; flush-lines() only matters under sustained load.
    const config = `@version: ${await configVersion()}
options { stats_freq(0); log-msg-size(1048576); keep-hostname(yes); use-dns(no); dns-cache(no); frac-digits(6); };
source s_drain { syslog(ip("127.0.0.1") port(${this.port}) ${transport} log-iw-size(100000) max-connections(100) flags(store-raw-message)); };
source s_self { internal(); };
filter f_bad { program("syslog-ng") and message("Error processing log message"); };
destination d_ok { file(${q('messages.tsv')} template("${fields.join('\\t')}\\n") template-escape(no)); };
destination d_bad { file(${q('errors.log')} template("$(format-json --scope none time=\${ISODATE} message=\${MESSAGE})\\n")); };
destination d_internal { file(${q('internal.log')} template("\${ISODATE} \${MESSAGE}\\n")); };
log { source(s_drain); filter(f_bad); destination(d_bad); flags(final); };
log { source(s_drain); destination(d_ok); };
log { source(s_self); destination(d_internal); };
`;
    await writeFile(this.path('syslog-ng.conf'), config);
    await Promise.all(['messages.tsv', 'errors.log', 'internal.log'].map(name => writeFile(this.path(name), '')));
  }

  /**
   * Spawns syslog-ng and waits until it is ready: its internal log says it started (which it only
   * does once every socket is bound) and the port accepts a connection. The port alone is not
   * enough: when another process holds it, that one accepts while syslog-ng fails to bind.
   */
  async start(): Promise<void> {
    const startsBefore = await this.startUps();
    const args = [
      '-F', '--no-caps',
      '-f', this.path('syslog-ng.conf'),
      '-R', this.path('persist'),
      '-p', this.path('syslog-ng.pid'),
      '-c', this.path('ctl'),
    ];
    const out = openSync(this.path('syslog-ng.out'), 'a');
    let child: Child;
    try {
      child = new Child(spawn(syslogNgPath(), args, { stdio: ['ignore', out, out] }));
    } finally {
      closeSync(out);
    }
    let spawnError: Error | undefined;
    child.process.on('error', err => (spawnError = err));
    child.process.unref();
    this.track('syslog-ng', child);
    const deadline = Date.now() + LISTENING_WITHIN_MS;
    for (;;) {
      if (spawnError) throw new Error(`could not start syslog-ng: ${spawnError.message}; run \`bash spec/support/ensurePeers.sh\``);
      if (!isRunning(child)) {
        await child.exited;
        throw new Error(`syslog-ng exited (${child.process.exitCode ?? child.process.signalCode}) before it listened on ${this.port}:\n${await this.diagnostics()}`);
      }
      if ((await this.startUps()) > startsBefore && (await accepts(this.port))) return;
      if (Date.now() > deadline) throw new Error(`syslog-ng did not listen on 127.0.0.1:${this.port} within ${LISTENING_WITHIN_MS} ms:\n${await this.diagnostics()}`);
      await sleep(POLL_MS);
    }
  }

  /** How many times syslog-ng has written "starting up" to internal.log (restarts append to it). */
  private async startUps(): Promise<number> {
    return (await readOrEmpty(this.path('internal.log'))).split(STARTING_UP).length - 1;
  }

  async messages(): Promise<ReceivedFrame[]> {
    return completeLines(await readOrEmpty(this.path('messages.tsv'))).map(parseFrame);
  }

  async errors(): Promise<string[]> {
    return completeLines(await readOrEmpty(this.path('errors.log'))).map(line => (JSON.parse(line) as { message: string }).message);
  }

  async waitForMessages(n: number, timeoutMs = 5_000): Promise<ReceivedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frames = await this.messages();
      if (frames.length >= n) return frames;
      if (Date.now() > deadline) {
        const shown = frames.slice(-5).map(f => `  ${JSON.stringify(f.raw.length > 300 ? f.raw.slice(0, 300) + '…' : f.raw)}`).join('\n');
        throw new Error(
          `syslog receiver on ${this.port}: ${frames.length} of ${n} frames within ${timeoutMs} ms` +
            (shown ? `; the last ones:\n${shown}` : '') +
            `\n${await this.diagnostics()}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  /** What syslog-ng said: its output, the unparsed frames and its internal log (tails). */
  private async diagnostics(): Promise<string> {
    const tail = (text: string) => text.trimEnd().split('\n').slice(-15).join('\n');
    const output = tail(await readOrEmpty(this.path('syslog-ng.out')));
    const errors = tail(await readOrEmpty(this.path('errors.log')));
    const internal = tail(await readOrEmpty(this.path('internal.log')));
    return [`syslog-ng output: ${output || '(none)'}`, `errors.log: ${errors || '(empty)'}`, `internal.log: ${internal || '(empty)'}`].join('\n');
  }
}

function parseFrame(line: string): ReceivedFrame {
  const f = line.split('\t');
  if (f.length !== 9) throw new Error(`messages.tsv: expected 9 tab-separated fields, got ${f.length}: ${JSON.stringify(line.slice(0, 200))}`);
  const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  return {
    pri: Number(f[0]),
    timestamp: f[1],
    host: text(f[2]),
    appName: text(f[3]),
    procId: text(f[4]),
    msgId: text(f[5]),
    sdata: text(f[6]),
    message: text(f[7]),
    raw: text(f[8]),
  };
}

/** The lines of a file that ends mid-write: only those already ended by "\n". */
function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  return end < 0 ? [] : text.slice(0, end).split('\n');
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** A self-signed certificate for localhost and 127.0.0.1 (P-256: generated in milliseconds, unlike RSA). */
function makeCertificate(keyFile: string, certFile: string): Promise<void> {
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ];
  return new Promise((resolve, reject) =>
    execFile('openssl', args, (err, _stdout, stderr) =>
      err ? reject(new Error(`openssl could not make the receiver's certificate: ${err.message}\n${stderr}`)) : resolve(),
    ),
  );
}

// ── syslog-ng itself ────────────────────────────────────────────────────────────────────────

let executable: string | undefined;

/** syslog-ng from PATH, or /usr/sbin (where Debian puts it, and not on every user's PATH). */
function syslogNgPath(): string {
  if (executable !== undefined) return executable;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'syslog-ng'), constants.X_OK);
      return (executable = join(dir, 'syslog-ng'));
    } catch {
      // not here
    }
  }
  return (executable = 'syslog-ng'); // spawn reports ENOENT with the install hint
}

let version: Promise<string> | undefined;

/** The config version the installed syslog-ng speaks ("Config version: 3.35"), so it does not warn. */
function configVersion(): Promise<string> {
  version ??= new Promise(resolve =>
    execFile(syslogNgPath(), ['--version'], (err, stdout) => resolve((!err && /^Config version: (\d+\.\d+)/m.exec(stdout)?.[1]) || '3.35')),
  );
  return version;
}

// ── Process plumbing ────────────────────────────────────────────────────────────────────────

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/** Whether 127.0.0.1:port accepts a TCP connection (closed at once). */
function accepts(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
