// A traffic controller under test, in-process, with everything around it in the test's hands:
//
//   routers (real, startRouter on loopback)  ◀── UDP lines (UdpSender)
//        ▲ ws /tail, GET /recent  (optionally through a GateProxy that holds connections)
//   traffic controller (startTrafficController, port 0)  ◀── routers$: a BehaviorSubject the test pushes sets into
//        ▲ ws /tail, GET /recent  (TailClient, fetch)        authorizer: a tokens file, or a callout config
//
//   const tc = await startTc(teardown, { routers: [routerInfo('r1', r1)], tokens: { [ADMIN]: '*' } });
//   const client = await tc.tail('app=app-a', ADMIN);      closed by teardown
//   const answer = await tc.get('/recent?app=app-a', { token: ADMIN });
//   tc.logs                                                 every line the TC logged (captured, never printed)
//
// Also here: a router restarted on the same ports, a TCP server that never answers, a fake router
// (a ws /tail and GET /recent that send what the test says), and a proxy that holds connections.
import { randomBytes } from 'node:crypto';
import { IncomingHttpHeaders, Server, createServer as createHttpServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, Socket, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BehaviorSubject } from 'rxjs';
import { WebSocketServer } from 'ws';
import { Authorizer } from '../../src/auth/authorizer';
import { openTokensFileAuthorizer } from '../../src/auth/tokensFile';
import { Config } from '../../src/config/loadConfig';
import { Envelope } from '../../src/envelope/envelope';
import { Logger } from '../../src/logger';
import { Router, startRouter } from '../../src/router/router';
import { TrafficController, startTrafficController } from '../../src/trafficController/trafficController';
import { RouterInfo } from '../../streams/routerInfo';
import { captureLogger } from './drainWriterHarness';
import { metricValue } from './routerMetricValue';
import { routerConfig } from './routerConfig';
import { Teardown } from './teardown';
import { TailClient, refusedTail } from './tailClient';
import { waitFor } from './waitFor';

/** Random, so that any piece of one found in a log line can only have come from the token. */
export const newToken = (label: string): string => `${label}.${randomBytes(24).toString('base64url')}`;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type TcOverrides = DeepPartial<Config['trafficController']>;

/** Who the traffic controller's own in-band lines are from. */
export const TC_SOURCE = 'traffic-controller';

/**
 * The default config with the traffic controller on a free loopback port, reconnecting to routers
 * within tens of ms and giving up on a silent router's /recent after 1 s, plus the overrides.
 */
export function tcConfig(overrides: TcOverrides = {}): Config {
  const base = routerConfig();
  const t = base.trafficController;
  return {
    ...base,
    logLevel: 'debug',
    trafficController: {
      ...t,
      http: { ...t.http, host: '127.0.0.1', port: 0, ...overrides.http },
      tail: { ...t.tail, ...overrides.tail } as Config['trafficController']['tail'],
      firehose: { ...t.firehose, ...overrides.firehose },
      recent: { ...t.recent, timeoutMs: 1000, ...overrides.recent },
      routerReconnect: { initialMs: 20, maxMs: 200, ...overrides.routerReconnect },
      auth: { ...t.auth, ...overrides.auth, callout: { ...t.auth.callout, ...overrides.auth?.callout } },
    },
  };
}

/** A router as the traffic controller finds it: its id and HOST:PORT addresses. */
export function routerInfo(id: string, router: Router, http = `127.0.0.1:${router.httpAddress.port}`): RouterInfo {
  return { id, udp: `127.0.0.1:${router.udpAddress.port}`, http };
}

/** A tokens file in a temporary directory of its own (removed by teardown). */
export function writeTokensFile(teardown: Teardown, tokens: Record<string, '*' | 'firehose' | string[]>): string {
  const dir = teardown.add(mkdtempSync(join(tmpdir(), 'lgr-tc-tokens-')), d => rmSync(d, { recursive: true, force: true }));
  const path = join(dir, 'tokens.json');
  writeFileSync(path, JSON.stringify({ tokens }, null, 2), { mode: 0o600 });
  return path;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The body's NDJSON lines as envelopes (a 200 /recent answer). */
  readonly envelopes: Envelope[];
}

export interface RequestOptions {
  readonly token?: string;
  readonly headers?: Record<string, string>;
  readonly method?: string;
}

export interface RefusedUpgrade {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface TcRun {
  readonly tc: TrafficController;
  readonly routers$: BehaviorSubject<readonly RouterInfo[]>;
  /** The traffic controller's log, JSON lines (level debug). */
  readonly logs: string[];
  readonly address: AddressInfo;
  /** An HTTP request with fetch; the token, if any, as an Authorization: Bearer header. */
  get(pathAndQuery: string, opts?: RequestOptions): Promise<HttpAnswer>;
  /** A websocket client on /tail?<query> (closed by teardown); rejects if refused. */
  tail(query: string, token?: string, headers?: Record<string, string>): Promise<TailClient>;
  /** A firehose consumer of `subscription` (closed by teardown); rejects if refused. */
  firehose(subscription: string, token?: string): Promise<TailClient>;
  /** A websocket upgrade that should be refused: what the refusal said. */
  refusedUpgrade(pathAndQuery: string, headers?: Record<string, string>): Promise<RefusedUpgrade>;
  /** One of the TC's metrics, summed over the series matching `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export interface TcStart {
  readonly routers?: readonly RouterInfo[];
  /** The tokens file's content (tokens mode, openTokensFileAuthorizer); ignored when `authorizer` is 'config'. */
  readonly tokens?: Record<string, '*' | 'firehose' | string[]>;
  /** 'config': no authorizer dep; the TC opens the one trafficController.auth names (callout). */
  readonly authorizer?: 'config';
  readonly config?: TcOverrides;
  /** sharedSecret: the TC then sends the routers' API token (routerApiToken) to the routers. */
  readonly sharedSecret?: string;
}

export async function startTc(teardown: Teardown, opts: TcStart = {}): Promise<TcRun> {
  const { logger, lines } = captureLogger('debug');
  const routers$ = new BehaviorSubject<readonly RouterInfo[]>(opts.routers ?? []);
  let authorizer: Authorizer | undefined;
  if (opts.authorizer !== 'config') {
    const path = writeTokensFile(teardown, opts.tokens ?? {});
    authorizer = teardown.add(await openTokensFileAuthorizer(path, logger), a => a.close());
  }
  const tc = await startTrafficController({ ...tcConfig(opts.config), sharedSecret: opts.sharedSecret ?? null }, logger, { routers$, authorizer });
  teardown.add(tc, t => t.close());
  const address = tc.httpAddress;
  const base = `http://127.0.0.1:${address.port}`;
  return {
    tc,
    routers$,
    logs: lines,
    address,
    async get(pathAndQuery, { token, headers = {}, method = 'GET' } = {}) {
      const res = await fetch(base + pathAndQuery, {
        method,
        headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.text();
      const ndjson = res.status === 200 && (res.headers.get('content-type') ?? '').startsWith('application/x-ndjson');
      const envelopes = ndjson && body !== '' ? body.trimEnd().split('\n').map(line => JSON.parse(line) as Envelope) : [];
      return { status: res.status, headers: res.headers, body, envelopes };
    },
    async tail(query, token, headers = {}) {
      const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const client = await TailClient.open(address, query, { headers: { ...auth, ...headers }, handshakeTimeout: 5_000 });
      return teardown.add(client, c => c.terminate());
    },
    async firehose(subscription, token) {
      const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const client = await TailClient.openPath(address, `/firehose?subscription=${encodeURIComponent(subscription)}`, { headers: auth, handshakeTimeout: 5_000 });
      return teardown.add(client, c => c.terminate());
    },
    refusedUpgrade(pathAndQuery, headers = {}) {
      return refusedUpgrade(address, pathAndQuery, headers);
    },
    async metric(name, labels = {}) {
      const metric = tc.metrics.registry.getSingleMetric(name);
      if (!metric) throw new Error(`no metric ${name}`);
      const { values } = await metric.get();
      return values.filter(v => Object.entries(labels).every(([k, value]) => v.labels[k] === value)).reduce((sum, v) => sum + v.value, 0);
    },
  };
}

/** Tries a websocket upgrade that should be refused; the status, headers and body of the refusal. */
export function refusedUpgrade(address: AddressInfo, pathAndQuery: string, headers: Record<string, string> = {}): Promise<RefusedUpgrade> {
  return refusedTail({ ...address, address: '127.0.0.1' }, pathAndQuery, headers);
}

/** Lines ingested by a router so far. */
export function ingested(router: Router): Promise<number> {
  return metricValue(router, 'loggregator_ingested_total');
}

/** Waits until the router has `n` tail clients (the traffic controller's streams from it). */
export async function routerTailClients(router: Router, n: number, what = `${n} tail client(s) at the router`): Promise<void> {
  await waitFor(async () => (await metricValue(router, 'loggregator_tail_clients')) === n, { what });
}

/**
 * A router started again on the ports of one that was closed (as a restarted process would be);
 * retried for a while if a port is not free yet (an outgoing connection may hold it briefly).
 */
export async function restartRouter(teardown: Teardown, old: Router, logger?: Logger): Promise<Router> {
  const config = routerConfig({ router: { udp: { port: old.udpAddress.port }, http: { port: old.httpAddress.port } } });
  const log = logger ?? captureLogger('error').logger;
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      const router = await startRouter(config, log);
      return teardown.add(router, r => r.close());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }
}

/** A TCP server on loopback that accepts connections and never says a word. */
export class SilentServer {
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer(socket => {
    this.accepted++;
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    // Read (and drop) what comes, so that the peer's FIN is seen and counted in `closed`.
    socket.resume();
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.closed++;
    });
  });
  accepted = 0;
  /** Connections the other side has closed (or that broke). */
  closed = 0;

  static async start(teardown: Teardown): Promise<SilentServer> {
    const silent = new SilentServer();
    await new Promise<void>(resolve => silent.server.listen(0, '127.0.0.1', resolve));
    return teardown.add(silent, s => s.close());
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}

/** A loopback port nothing listens on (it was free a moment ago: listened on, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/** A frame a fake router sends: text, or bytes sent as a binary frame. */
export type FakeFrame = string | Buffer;

/**
 * A router that is not one: ws /tail sends `tailFrames` to each client (then stays open), GET
 * /recent answers `recentBody` as NDJSON. For what a real router never sends.
 */
export class FakeRouter {
  readonly tailRequests: string[] = [];
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(
    readonly tailFrames: FakeFrame[],
    readonly recentBody: string,
  ) {
    this.server = createHttpServer((req, res) => {
      if ((req.url ?? '').startsWith('/recent')) return void res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' }).end(this.recentBody);
      res.writeHead(404).end();
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.tailRequests.push(req.url ?? '');
      this.wss.handleUpgrade(req, socket, head, ws => {
        ws.on('error', () => undefined);
        for (const frame of this.tailFrames) ws.send(frame, { binary: Buffer.isBuffer(frame) });
      });
    });
  }

  static async start(teardown: Teardown, tailFrames: FakeFrame[], recentBody = ''): Promise<FakeRouter> {
    const fake = new FakeRouter(tailFrames, recentBody);
    await new Promise<void>(resolve => fake.server.listen(0, '127.0.0.1', resolve));
    return teardown.add(fake, f => f.close());
  }

  get info(): (id: string) => RouterInfo {
    return id => ({ id, udp: '127.0.0.1:9', http: `127.0.0.1:${(this.server.address() as AddressInfo).port}` });
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}

interface ProxiedConnection {
  /** The first bytes the client sent (an HTTP request's head), as latin1 text. */
  readonly head: string;
  /** Everything the target sent back so far (up to 1 MB), as latin1 text. */
  fromTarget: string;
  held: boolean;
}

/**
 * A loopback TCP proxy in front of a router's HTTP port that can hold new connections whose
 * first bytes (the request head) match, until released: to delay a websocket upgrade or a
 * /recent request and so open the windows that network latency opens, on purpose.
 */
export class GateProxy {
  readonly connections: ProxiedConnection[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly waiting: (() => void)[] = [];
  private holdIf: ((head: string) => boolean) | undefined;
  private readonly server = createServer(client => this.accept(client));

  private constructor(private readonly targetPort: number) {}

  static async start(teardown: Teardown, target: Router): Promise<GateProxy> {
    const proxy = new GateProxy(target.httpAddress.port);
    await new Promise<void>(resolve => proxy.server.listen(0, '127.0.0.1', resolve));
    return teardown.add(proxy, p => p.close());
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** New connections whose request head matches wait until release(). */
  hold(match: (head: string) => boolean): void {
    this.holdIf = match;
  }

  /** Lets every held connection through, and holds no more. */
  release(): void {
    this.holdIf = undefined;
    this.waiting.splice(0).forEach(go => go());
  }

  get held(): number {
    return this.waiting.length;
  }

  /** What the target sent back on connections whose head matches. */
  fromTarget(match: (head: string) => boolean): string {
    return this.connections.filter(c => match(c.head)).map(c => c.fromTarget).join('');
  }

  close(): Promise<void> {
    this.waiting.splice(0);
    for (const s of this.sockets) s.destroy();
    return new Promise(resolve => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.once('data', first => {
      client.pause();
      const conn: ProxiedConnection = { head: first.toString('latin1'), fromTarget: '', held: false };
      this.connections.push(conn);
      const go = () => {
        conn.held = false;
        if (client.destroyed) return;
        const target = createConnection({ host: '127.0.0.1', port: this.targetPort });
        this.track(target);
        target.on('data', chunk => {
          if (conn.fromTarget.length < 1024 * 1024) conn.fromTarget += chunk.toString('latin1');
        });
        target.write(first);
        client.pipe(target).pipe(client);
        client.on('close', () => target.destroy());
        target.on('close', () => client.destroy());
      };
      if (this.holdIf?.(conn.head)) {
        conn.held = true;
        this.waiting.push(go);
      } else go();
    });
  }
}

/** Is this request head a websocket upgrade? */
export const isUpgrade = (head: string): boolean => /^upgrade:\s*websocket/im.test(head);
/** Is this request head a GET /recent? */
export const isRecent = (head: string): boolean => head.startsWith('GET /recent');

/** A metric's value in Prometheus text (summed over series whose labels include `labels`), or undefined. */
export function promValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    found = (found ?? 0) + Number(match[3]);
  }
  return found;
}
