import { Command } from 'commander';
import { parseDrainUrl } from '../../streams/drainUrl';
import { openBindingStore } from '../bindings/bindingStore';
import { Config } from '../config/loadConfig';
import { createLogger } from '../logger';

export interface BindingsCommandDeps {
  readonly config: (file: string | undefined) => Config;
  readonly checkApp: (app: string) => string;
  readonly fail: (message: string, code?: number) => never;
}

/**
 * `bind`, `unbind` and `bindings`, against whichever store the config names (the data
 * directory's bindings.json, or etcd). A running router follows the store: no restart.
 */
export function registerBindingCommands(program: Command, deps: BindingsCommandDeps): void {
  const withStore = async (configFile: string | undefined, work: (store: ReturnType<typeof openBindingStore>) => Promise<number>) => {
    const cfg = deps.config(configFile);
    let store;
    try {
      store = openBindingStore(cfg, createLogger(cfg.logLevel === 'debug' ? 'debug' : 'error', 'cli'));
    } catch (err) {
      deps.fail((err as Error).message);
    }
    try {
      process.exitCode = await work(store);
    } catch (err) {
      process.stderr.write(`loggregator: ${store.description}: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await store.close();
    }
  };
  const checkUrl = (url: string): string => {
    const parsed = parseDrainUrl(url);
    if (!parsed.ok) deps.fail(`invalid drain URL: ${parsed.reason}`);
    return url;
  };

  program
    .command('bind')
    .description("forward APP's lines to the drain at URL (syslog://host:port, syslog-tls://host:port, https://…)")
    .argument('<app>', 'app id')
    .argument('<url>', 'drain URL')
    .option('--config <file>', 'JSON config file (for the binding store)')
    .action(async (app: string, url: string, opts: { config?: string }) =>
      withStore(opts.config, async store => {
        const added = await store.bind(deps.checkApp(app), checkUrl(url));
        process.stdout.write(`${added ? 'bound' : 'already bound'}: ${app} → ${nameOf(url)}\n`);
        return 0;
      }),
    );

  program
    .command('unbind')
    .description("stop forwarding APP's lines to URL (what the drain holds is flushed for router.drains.flushSeconds)")
    .argument('<app>', 'app id')
    .argument('<url>', 'drain URL, as bound')
    .option('--config <file>', 'JSON config file (for the binding store)')
    .action(async (app: string, url: string, opts: { config?: string }) =>
      withStore(opts.config, async store => {
        const removed = await store.unbind(deps.checkApp(app), checkUrl(url));
        process.stdout.write(`${removed ? 'unbound' : 'was not bound'}: ${app} → ${nameOf(url)}\n`);
        return removed ? 0 : 1;
      }),
    );

  program
    .command('bindings')
    .description('list the drains bound to APP (or to every app); URLs are shown without credentials and query')
    .argument('[app]', 'app id')
    .option('--config <file>', 'JSON config file (for the binding store)')
    .action(async (app: string | undefined, opts: { config?: string }) =>
      withStore(opts.config, async store => {
        const list = await store.list(app === undefined ? undefined : deps.checkApp(app));
        for (const b of list.sort((x, y) => x.appId.localeCompare(y.appId) || x.url.localeCompare(y.url))) {
          process.stdout.write(`${b.appId}\t${nameOf(b.url)}\n`);
        }
        return 0;
      }),
    );
}

function nameOf(url: string): string {
  const parsed = parseDrainUrl(url);
  return parsed.ok ? parsed.target.name : '(invalid URL)';
}
