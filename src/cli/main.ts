#!/usr/bin/env node
// The `loggregator` command. Exit codes: 0 ok, 1 failure at run time, 2 bad usage or config.
import { randomBytes } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import { Config, ConfigError, loadConfig } from '../config/loadConfig';
import { parseUdpTarget } from '../emitter/udpEmitter';
import { isValidAppId } from '../envelope/codec';
import { emit } from './emit';
import { logs } from './logs';
import { firehose } from './firehose';
import { SUBSCRIPTION_PATTERN, SUBSCRIPTION_RULE } from '../trafficController/firehoseSubscription';
import { connectHost, isLoopbackUrl } from './addresses';
import { TOKEN_RULE, isWellFormedToken } from '../auth/bearerToken';
import { readAdminToken, tokensFilePath } from '../auth/adminToken';
import { routerApiToken } from '../auth/routerApiToken';
import { version } from '../../package.json';

// The processes' wiring is loaded only by the commands that run it: `logs` and `emit` start fast.
const processes = () => import('./serve');
import { registerBindingCommands } from './bindingsCommand';
import { registerSimulateDea } from './simulateDeaCommand';

const USAGE = 2;

function fail(message: string, code = USAGE): never {
  process.stderr.write(`loggregator: ${message}\n`);
  process.exit(code);
}

function config(file: string | undefined): Config {
  try {
    return loadConfig({ file });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

function checkApp(app: string): string {
  if (!isValidAppId(app)) {
    fail(`invalid app id ${JSON.stringify(app.slice(0, 64))}: 1-48 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`);
  }
  return app;
}


function httpTarget(text: string | undefined, cfg: Config): URL {
  const host = connectHost(cfg.trafficController.http.host);
  const given = text ?? process.env.LOGGREGATOR_TARGET ?? `http://${host.includes(':') ? `[${host}]` : host}:${cfg.trafficController.http.port}`;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    fail(`invalid --target ${JSON.stringify(given)}: expected a URL such as http://127.0.0.1:8080`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) fail(`invalid --target ${given}: use http://, https://, ws:// or wss://`);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  return url;
}

const program = new Command()
  .name('loggregator')
  .description('A log router for application platforms: UDP ingest, recent logs over HTTP, live tail over websocket, syslog drains.')
  .version(version)
  .showHelpAfterError()
  .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : USAGE));

program
  .command('serve')
  .description('run a router and the traffic controller in front of it (and an agent, with agent.instancesPath) until SIGTERM or SIGINT')
  .option('--config <file>', 'JSON config file, merged over config/default.json')
  .action(async (opts: { config?: string }) => (await processes()).serve(config(opts.config)));

program
  .command('router')
  .description('run a router alone (UDP ingest, HTTP /recent and websocket /tail for the traffic controller, drains); registers in etcd with routers.discovery "etcd"')
  .option('--config <file>', 'JSON config file')
  .action(async (opts: { config?: string }) => (await processes()).router(config(opts.config)));

program
  .command('traffic-controller')
  .description('run the traffic controller alone: authenticated websocket /tail and GET /recent, merged across every router')
  .option('--config <file>', 'JSON config file')
  .action(async (opts: { config?: string }) => (await processes()).trafficController(config(opts.config)));

program
  .command('router-token')
  .description("print the routers' API token (derived from sharedSecret): what a router's /recent and /tail want as a bearer token when sharedSecret is set")
  .option('--config <file>', 'JSON config file')
  .action((opts: { config?: string }) => {
    const cfg = config(opts.config);
    if (cfg.sharedSecret === null) fail('sharedSecret is not set (LOGGREGATOR_SHARED_SECRET): without it a router\'s API needs no token');
    process.stdout.write(routerApiToken(cfg.sharedSecret) + '\n');
  });

program
  .command('agent')
  .description("watch a DEA's instances.json and send every instance's stdout/stderr lines to the routers")
  .option('--instances <path>', 'the instances.json to watch (default: agent.instancesPath from config)')
  .option('--router <host:port...>', 'router UDP address; repeat for several (default: the routers config finds, routers.static or etcd)')
  .option('--config <file>', 'JSON config file')
  .action(async (opts: { instances?: string; router?: string[]; config?: string }) => {
    const cfg = config(opts.config);
    const instancesPath = opts.instances ?? cfg.agent.instancesPath;
    if (instancesPath === null || instancesPath === '') fail('no instances file: give --instances PATH or set agent.instancesPath');
    const routers = opts.router ? opts.router.map(udp => ({ udp })) : cfg.routers.static;
    for (const r of routers) {
      try {
        parseUdpTarget(r.udp);
      } catch (err) {
        fail((err as Error).message);
      }
    }
    // --router replaces discovery with the routers given.
    const discovery = opts.router ? 'static' : cfg.routers.discovery;
    await (await processes()).agent({ ...cfg, routers: { ...cfg.routers, discovery, static: routers }, agent: { ...cfg.agent, instancesPath } });
  });

program
  .command('logs')
  .description("print an app's lines live (or its recent lines with --recent)")
  .argument('<app>', 'app id')
  .option('--recent', 'print the recent lines and exit')
  .option('--json', 'print each line as its envelope JSON')
  .option('--target <url>', "the traffic controller's HTTP address (default: $LOGGREGATOR_TARGET, or trafficController.http from config)")
  .option('--token <token>', "the token to read the app with (default: $LOGGREGATOR_TOKEN, or, for a traffic controller on this machine, its admin token in the tokens file)")
  .option('--config <file>', 'JSON config file')
  .action(async (app: string, opts: { recent?: boolean; json?: boolean; target?: string; token?: string; config?: string }) => {
    const cfg = config(opts.config);
    const target = httpTarget(opts.target, cfg);
    // This machine's admin token goes only to a traffic controller on this machine: never to
    // whatever host --target names.
    const token = opts.token ?? process.env.LOGGREGATOR_TOKEN ?? (isLoopbackUrl(target) ? readAdminToken(tokensFilePath(cfg)) : undefined);
    if (token !== undefined && !isWellFormedToken(token)) fail(`invalid token: ${TOKEN_RULE}`);
    process.exitCode = await logs({
      app: checkApp(app),
      recent: opts.recent ?? false,
      json: opts.json ?? false,
      target,
      token,
      colour: process.stdout.isTTY === true && !('NO_COLOR' in process.env),
    });
  });

program
  .command('firehose')
  .description("print every app's lines live, each with its app id (needs a token allowed the firehose)")
  .option('--subscription <id>', 'share the lines with the other consumers of this id (each app\'s lines go to one of them); default: an id of this run\'s own, so it gets every line')
  .option('--json', 'print each line as its envelope JSON')
  .option('--target <url>', "the traffic controller's HTTP address (default: $LOGGREGATOR_TARGET, or trafficController.http from config)")
  .option('--token <token>', "a token allowed the firehose (default: $LOGGREGATOR_TOKEN, or, for a traffic controller on this machine, its admin token in the tokens file)")
  .option('--config <file>', 'JSON config file')
  .action(async (opts: { subscription?: string; json?: boolean; target?: string; token?: string; config?: string }) => {
    const cfg = config(opts.config);
    const target = httpTarget(opts.target, cfg);
    const token = opts.token ?? process.env.LOGGREGATOR_TOKEN ?? (isLoopbackUrl(target) ? readAdminToken(tokensFilePath(cfg)) : undefined);
    if (token !== undefined && !isWellFormedToken(token)) fail(`invalid token: ${TOKEN_RULE}`);
    const subscription = opts.subscription ?? `cli-${randomBytes(9).toString('base64url')}`;
    if (!SUBSCRIPTION_PATTERN.test(subscription)) fail(`invalid subscription id ${JSON.stringify(subscription.slice(0, 140))}: ${SUBSCRIPTION_RULE}`);
    process.exitCode = await firehose({
      subscription,
      json: opts.json ?? false,
      target,
      token,
      colour: process.stdout.isTTY === true && !('NO_COLOR' in process.env),
    });
  });

program
  .command('emit')
  .description('send MESSAGE, or every line of stdin, as log lines of APP')
  .argument('<app>', 'app id')
  .argument('[message]', 'the line to send; without it, every line of stdin')
  .addOption(new Option('--source-type <type>', 'who produced the lines (APP, RTR, STG, API, ...)').default('APP'))
  .addOption(new Option('--instance <id>', 'instance index or component id').default('0'))
  .option('--stderr', 'mark the lines as stderr (ERR)')
  .option('--target <host:port>', 'router UDP address (default: the routers config finds, routers.static or etcd)')
  .option('--config <file>', 'JSON config file (for the address and shared secret)')
  .action(
    async (
      app: string,
      message: string | undefined,
      opts: { sourceType: string; instance: string; stderr?: boolean; target?: string; config?: string },
    ) => {
      const cfg = config(opts.config);
      if (opts.target !== undefined) {
        try {
          parseUdpTarget(opts.target);
        } catch (err) {
          fail((err as Error).message);
        }
      }
      // --target replaces discovery with that one router.
      const routing = opts.target === undefined ? cfg : { ...cfg, routers: { ...cfg.routers, discovery: 'static' as const, static: [{ udp: opts.target }] } };
      process.exitCode = await emit(
        {
          app: checkApp(app),
          message,
          sourceType: opts.sourceType,
          instance: opts.instance,
          stderr: opts.stderr ?? false,
          routing,
          secret: cfg.sharedSecret ?? undefined,
          maxDatagramBytes: cfg.router.udp.maxDatagramBytes,
        },
        t => process.stderr.write(`loggregator: ${t}\n`),
      );
    },
  );

registerBindingCommands(program, { config, checkApp, fail });
registerSimulateDea(program);

program.parseAsync(process.argv).catch(err => {
  process.stderr.write(`loggregator: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
