// `loggregator bind APP URL`, `unbind APP URL`, `bindings [APP]`: the built CLI as a child process,
// against the file store (a data directory of its own) and against a real etcd.
//
//   bind        → "bound: APP → NAME"            exit 0   (NAME: the URL without userinfo, query)
//   bind again  → "already bound: APP → NAME"    exit 0
//   bindings    → "APP<TAB>NAME" lines, sorted   exit 0
//   unbind      → "unbound: APP → NAME"          exit 0
//   unbind again→ "was not bound: APP → NAME"    exit 1
//   bad app id, bad URL, bad config              exit 2   store unreachable or unusable  exit 1
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { formatBindingsFile } from '../../../src/bindings/bindingsFile';
import { bindingIdOf } from '../../../streams/binding';
import { Run, run } from '../../support/childProcess';
import { EtcdServer, startEtcd } from '../../support/etcdServer';

jest.setTimeout(120_000); // several CLI processes one after another, each bounded by run() at 60 s

const CLI = 'dist/src/cli/main.js';
const TCP = 'syslog://127.0.0.1:5140';
const TLS = 'syslog-tls://logs.example.com:6514';
const SECRET_URL = 'https://user:hunter2@logs.example.com/drain?token=t0p-s3cret#frag';
const SECRETS = /hunter2|t0p-s3cret|frag/;

const APP_ID_RULE = '1-48 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit';

function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return run('node', [CLI, ...args], { env: { LOGGREGATOR_LOG_LEVEL: 'info', ...env }, timeoutMs: 60_000 });
}

interface StoreUnderTest {
  readonly env: NodeJS.ProcessEnv;
  /** Puts a binding into the store directly, not through the CLI. */
  readonly seed: (app: string, url: string) => Promise<void>;
  /** What the store holds: "APP URL", sorted. */
  readonly stored: () => Promise<string[]>;
}

/**
 * The same conversation with either store. Checks that do not depend on the store (the app id
 * and URL are checked before it is asked) run in full once, with the file store, to save the
 * ~1 s a CLI start costs.
 */
function describeCommands(store: () => StoreUnderTest, full: boolean) {
  it('binds, says so when already bound, lists all or one app, unbinds, and fails to unbind twice', async () => {
    const { env, seed, stored } = store();
    await seed('api', TCP);
    expect(await cli(env, 'bind', 'web', TCP)).toEqual({ code: 0, stdout: `bound: web → ${TCP}\n`, stderr: '' });
    expect(await cli(env, 'bind', 'web', TCP)).toEqual({ code: 0, stdout: `already bound: web → ${TCP}\n`, stderr: '' });
    expect(await cli(env, 'bind', 'web', TLS)).toEqual({ code: 0, stdout: `bound: web → ${TLS}\n`, stderr: '' });
    expect(await stored()).toEqual([`api ${TCP}`, `web ${TLS}`, `web ${TCP}`]); // ("-" sorts before ":")

    const [all, web, nobody] = await Promise.all([cli(env, 'bindings'), cli(env, 'bindings', 'web'), cli(env, 'bindings', 'nobody')]);
    expect(all).toEqual({ code: 0, stdout: `api\t${TCP}\nweb\t${TLS}\nweb\t${TCP}\n`, stderr: '' });
    expect(web).toEqual({ code: 0, stdout: `web\t${TLS}\nweb\t${TCP}\n`, stderr: '' });
    expect(nobody).toEqual({ code: 0, stdout: '', stderr: '' });

    expect(await cli(env, 'unbind', 'web', TCP)).toEqual({ code: 0, stdout: `unbound: web → ${TCP}\n`, stderr: '' });
    expect(await cli(env, 'unbind', 'web', TCP)).toEqual({ code: 1, stdout: `was not bound: web → ${TCP}\n`, stderr: '' });
    expect(await stored()).toEqual([`api ${TCP}`, `web ${TLS}`]);
  });

  it('refuses an invalid app id or drain URL with exit 2 and the reason, changing nothing', async () => {
    const { env, stored } = store();
    const cases = [
      { args: ['bind', 'bad/app', TCP], stderr: `loggregator: invalid app id "bad/app": ${APP_ID_RULE}\n` },
      { args: ['bind', 'web', 'ftp://x'], stderr: 'loggregator: invalid drain URL: url: unsupported scheme "ftp" (use syslog://, syslog-tls:// or https://)\n' },
      { args: ['bindings', '_app'], stderr: `loggregator: invalid app id "_app": ${APP_ID_RULE}\n` },
      { args: ['bind', 'web', 'not a url'], stderr: 'loggregator: invalid drain URL: url: not a URL\n' },
      { args: ['unbind', 'web', 'syslog://'], stderr: 'loggregator: invalid drain URL: url: missing host\n' },
    ].slice(0, full ? undefined : 2);
    const results = await Promise.all(cases.map(c => cli(env, ...c.args)));
    expect(results).toEqual(cases.map(c => ({ code: 2, stdout: '', stderr: c.stderr })));
    expect(await stored()).toEqual([]);
  });

  it('never prints the credentials, query or fragment of a drain URL', async () => {
    const { env } = store();
    const bound = await cli(env, 'bind', 'web', SECRET_URL);
    expect(bound).toEqual({ code: 0, stdout: 'bound: web → https://logs.example.com (path 1bfe7fee)\n', stderr: '' });
    const invalidUrls = ['ftp://user:hunter2@logs.example.com/?token=t0p-s3cret', 'user:hunter2@logs.example.com', 'syslog://user:hunter2@/?token=t0p-s3cret'];
    const [listed, again, ...invalid] = await Promise.all([
      cli(env, 'bindings'),
      ...(full ? [SECRET_URL, ...invalidUrls] : []).map(url => cli(env, 'bind', 'web', url)),
    ]);
    expect(listed).toEqual({ code: 0, stdout: 'web\thttps://logs.example.com (path 1bfe7fee)\n', stderr: '' });
    if (full) {
      expect(again).toEqual({ code: 0, stdout: 'already bound: web → https://logs.example.com (path 1bfe7fee)\n', stderr: '' });
      expect(invalid.map(r => r.code)).toEqual([2, 2, 2]);
    }
    const unbound = await cli(env, 'unbind', 'web', SECRET_URL);
    expect(unbound).toEqual({ code: 0, stdout: 'unbound: web → https://logs.example.com (path 1bfe7fee)\n', stderr: '' });
    for (const r of [bound, listed, ...(again ? [again] : []), ...invalid, unbound]) expect(r.stdout + r.stderr).not.toMatch(SECRETS);
  });
}

describe('bind, unbind and bindings with the file store', () => {
  let dataDir: string;
  const env = () => ({ LOGGREGATOR_DATA_DIR: dataDir });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lgr-cli-bindings-'));
  });

  describeCommands(() => ({
    env: env(),
    seed: async (app, url) => writeFileSync(join(dataDir, 'bindings.json'), formatBindingsFile([{ app, url }])),
    stored: async () => {
      const path = join(dataDir, 'bindings.json');
      if (!existsSync(path)) return [];
      const { bindings } = JSON.parse(readFileSync(path, 'utf8')) as { bindings: { app: string; url: string }[] };
      return bindings.map(b => `${b.app} ${b.url}`).sort();
    },
  }), true);

  it('keeps every binding when several `bind`s run at the same time', async () => {
    // Two operators binding at once must not lose one of the bindings while both are told "bound".
    // (Whether the processes overlap is up to the scheduler, so a lost one may not show every run.)
    const urls = range(1, 6).map(i => `syslog://10.0.0.${i}:514`);
    const results = await Promise.all(urls.map(url => cli(env(), 'bind', 'web', url)));
    expect(results.map(r => r.code)).toEqual(urls.map(() => 0));
    const listed = await cli(env(), 'bindings', 'web');
    expect(listed).toEqual({ code: 0, stdout: urls.map(url => `web\t${url}\n`).join(''), stderr: '' });
  });

  it('exits 1 naming the file when bindings.json cannot be used, and leaves it alone', async () => {
    const path = join(dataDir, 'bindings.json');
    writeFileSync(path, '{"bindings": [');
    const results = await Promise.all([cli(env(), 'bindings'), cli(env(), 'bind', 'web', TCP)]);
    for (const r of results) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^loggregator: file ${escape(path)}: ${escape(path)}: not JSON \\(.+\\); fix or remove it first\\n$`));
    }
    expect(readFileSync(path, 'utf8')).toBe('{"bindings": [');
  });
});

describe('bind, unbind and bindings with the etcd store', () => {
  let etcd: EtcdServer;
  let client: Etcd3;
  let prefix: string;
  let prefixes = 0;
  const env = (): NodeJS.ProcessEnv => ({
    LOGGREGATOR_BINDINGS_STORE: 'etcd',
    LOGGREGATOR_ETCD_ENDPOINTS: etcd.endpoint,
    LOGGREGATOR_ETCD_DIAL_TIMEOUT_MS: '1000',
    LOGGREGATOR_BINDINGS_ETCD_PREFIX: prefix,
  });

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoint });
  });
  beforeEach(() => {
    prefix = `/lgr-cli-${process.pid}-${++prefixes}/`;
  });
  afterAll(async () => {
    client?.close();
    await etcd?.stop();
  });

  describeCommands(() => ({
    env: env(),
    seed: async (app, url) => void (await client.put(`${prefix}${app}/${bindingIdOf(url)}`).value(JSON.stringify({ url }))),
    stored: async () => {
      const kvs = await client.getAll().prefix(prefix).strings();
      return Object.entries(kvs)
        .map(([key, value]) => {
          const [app, id] = key.slice(prefix.length).split('/');
          const { url } = JSON.parse(value) as { url: string };
          expect(id).toBe(bindingIdOf(url));
          return `${app} ${url}`;
        })
        .sort();
    },
  }), false);

  it('exits 2 naming etcd.endpoints when the etcd store is chosen without endpoints', async () => {
    expect(await cli({ ...env(), LOGGREGATOR_ETCD_ENDPOINTS: '' }, 'bind', 'web', TCP)).toEqual({
      code: 2,
      stdout: '',
      stderr: 'loggregator: invalid configuration: bindings.store is "etcd", but etcd.endpoints is empty: set LOGGREGATOR_ETCD_ENDPOINTS=http://127.0.0.1:2379 or etcd.endpoints in the config file\n',
    });
  });

  it('exits 1 promptly, naming etcd, when nothing listens at the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const results = await Promise.all([
      cli({ ...env(), LOGGREGATOR_ETCD_ENDPOINTS: endpoint }, 'bindings'),
      cli({ ...env(), LOGGREGATOR_ETCD_ENDPOINTS: endpoint }, 'bind', 'web', TCP),
    ]);
    for (const r of results) {
      expect(r.code).toBe(1); // not null: it ended by itself, well within run()'s 60 s
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^loggregator: etcd ${escape(endpoint)} ${escape(prefix)}: .*ECONNREFUSED`));
    }
  });

  it('exits 1 within about the dial timeout when etcd accepts connections but never answers', async () => {
    const silent = await silentServer();
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const r = await cli({ ...env(), LOGGREGATOR_ETCD_ENDPOINTS: endpoint }, 'bind', 'web', TCP);
      expect(r.code).toBe(1); // not null: it ended by itself, well within run()'s 60 s
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^loggregator: etcd ${escape(endpoint)} ${escape(prefix)}: .*DEADLINE_EXCEEDED`));
    } finally {
      await closeServer(silent);
    }
  });
});

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** Accepts TCP connections and never says a word, like a hung etcd. */
async function silentServer(): Promise<Server & { held: Set<Socket> }> {
  const held = new Set<Socket>();
  const server = Object.assign(
    createServer(socket => {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      socket.on('error', () => undefined);
    }),
    { held },
  );
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function closeServer(server: Server & { held: Set<Socket> }): Promise<void> {
  for (const s of server.held) s.destroy();
  await new Promise(resolve => server.close(resolve));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
