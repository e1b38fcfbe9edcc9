import { startAgent } from '../agent/agent';
import { tokensFilePath } from '../auth/authorizer';
import { Config, routerWorkers } from '../config/loadConfig';
import { Logger, createLogger } from '../logger';
import { startRouter } from '../router/router';
import { startTrafficController } from '../trafficController/trafficController';
import { startTrafficControllerThread } from '../trafficController/trafficControllerThread';
import { connectHost, hostPort } from './addresses';
import { announceConsole } from './consoleAddress';
import { Component, describeStartError, runUntilSignalled } from './lifecycle';

/** Starts each component in order; on a failure, stops those started, logs why, and exits 1. */
async function startAll(logger: Logger, steps: Step[]): Promise<Component[] | undefined> {
  const components: Component[] = [];
  for (const step of steps) {
    try {
      components.push(await step.start());
    } catch (err) {
      logger.error(describeStartError(step.name, err));
      for (const c of components.reverse()) await c.close().catch(() => undefined);
      process.exitCode = 1;
      return undefined;
    }
  }
  return components;
}

type Step = { name: string; start: () => Promise<Component> };

/** Starts the steps, then runs them until SIGTERM/SIGINT (a bounded clean shutdown, exit 0). */
async function runAll(logger: Logger, config: Config, steps: Step[]): Promise<void> {
  const components = await startAll(logger, steps);
  if (components) runUntilSignalled(components, logger, config.router.shutdownSeconds);
}

/**
 * A router; it logs where it can be reached (a wildcard bind as loopback), and tells `started`
 * those addresses.
 */
function routerStep(config: Config, logger: Logger, started?: (id: string, udp: string, http: string) => void): Step {
  return {
    name: 'router',
    start: async () => {
      const router = await startRouter(config, logger);
      const udp = hostPort({ ...router.udpAddress, address: connectHost(router.udpAddress.address) });
      const http = hostPort({ ...router.httpAddress, address: connectHost(router.httpAddress.address) });
      logger.info('router listening', { id: router.id, udp, http: `http://${http}`, signed: config.sharedSecret !== null });
      started?.(router.id, udp, http);
      return { name: 'router', close: () => router.close() };
    },
  };
}

/**
 * The traffic controller (its config read when it starts: serve sets it after the router's);
 * in a thread of its own when `ownThread`, so that it runs on another core than the router's reader.
 */
function trafficControllerStep(config: () => Config, logger: Logger, ownThread = false): Step {
  return {
    name: 'traffic controller',
    start: async () => {
      const cfg = config();
      const tc = ownThread ? await startTrafficControllerThread(cfg, logger) : await startTrafficController(cfg, logger);
      logger.info('traffic controller listening', {
        http: `http://${hostPort(tc.httpAddress)}`,
        auth: cfg.trafficController.auth.mode === 'tokens' ? `tokens file ${tokensFilePath(cfg)}` : `callout ${cfg.trafficController.auth.callout.url}`,
      });
      announceConsole(cfg, tc.httpAddress, logger);
      return { name: 'traffic controller', close: () => tc.close() };
    },
  };
}

function agentStep(config: () => Config, logger: Logger): Step {
  return {
    name: 'agent',
    start: async () => {
      const cfg = config();
      const agent = await startAgent(cfg, logger);
      logger.info('agent watching', { instances: cfg.agent.instancesPath, http: `http://${hostPort(agent.httpAddress)}` });
      return { name: 'agent', close: () => agent.close() };
    },
  };
}

/**
 * `loggregator serve`: the embedded default, one process with a router and the traffic
 * controller in front of it (and an agent when an instances file is configured), until
 * SIGTERM/SIGINT, then a bounded clean shutdown (exit 0). With static discovery the traffic
 * controller and the agent use this process's router, wherever its ports ended up; with etcd
 * discovery, every registered router.
 */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'serve');
  let local = config;
  const useLocalRouter = (id: string, udp: string, http: string) => {
    if (config.routers.discovery === 'static') local = { ...config, routers: { ...config.routers, static: [{ id, udp, http }] } };
  };
  await runAll(logger, config, [
    routerStep(config, logger.child({ component: 'router' }), useLocalRouter),
    // With router workers, the router uses several cores: so does the traffic controller beside it.
    trafficControllerStep(() => local, logger.child({ component: 'traffic-controller' }), routerWorkers(config) > 1),
    ...(config.agent.instancesPath === null ? [] : [agentStep(() => local, logger.child({ component: 'agent' }))]),
  ]);
}

/** `loggregator router`: a router alone (in a cluster: routers.discovery etcd, to register). */
export async function router(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'router');
  await runAll(logger, config, [routerStep(config, logger)]);
}

/** `loggregator traffic-controller`: the front door alone, merging the routers config finds. */
export async function trafficController(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'traffic-controller');
  await runAll(logger, config, [trafficControllerStep(() => config, logger)]);
}

/** `loggregator agent`: the agent alone. */
export async function agent(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'agent');
  await runAll(logger, config, [agentStep(() => config, logger)]);
}
