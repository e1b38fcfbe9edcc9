import { startAgent } from '../agent/agent';
import { tokensFilePath } from '../auth/authorizer';
import { Config } from '../config/loadConfig';
import { createLogger } from '../logger';
import { startRouter } from '../router/router';
import { startTrafficController } from '../trafficController/trafficController';
import { connectHost, hostPort } from './addresses';
import { Component, describeStartError, runUntilSignalled } from './lifecycle';

/** Starts each component in order; on a failure, stops those started, logs why, and exits 1. */
async function startAll(logger: ReturnType<typeof createLogger>, steps: { name: string; start: () => Promise<Component> }[]): Promise<Component[] | undefined> {
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
  const components = await startAll(logger, [
    {
      name: 'router',
      start: async () => {
        const router = await startRouter(config, logger.child({ component: 'router' }));
        const udp = hostPort({ ...router.udpAddress, address: connectHost(router.udpAddress.address) });
        const http = hostPort({ ...router.httpAddress, address: connectHost(router.httpAddress.address) });
        logger.info('router listening', { id: router.id, udp, http: `http://${http}`, signed: config.sharedSecret !== null });
        if (config.routers.discovery === 'static') local = { ...config, routers: { ...config.routers, static: [{ id: router.id, udp, http }] } };
        return { name: 'router', close: () => router.close() };
      },
    },
    {
      name: 'traffic controller',
      start: async () => {
        const tc = await startTrafficController(local, logger.child({ component: 'traffic-controller' }));
        logger.info('traffic controller listening: tail and recent logs here', {
          http: `http://${hostPort(tc.httpAddress)}`,
          auth: config.trafficController.auth.mode === 'tokens' ? `tokens file ${tokensFilePath(config)}` : `callout ${config.trafficController.auth.callout.url}`,
        });
        return { name: 'traffic controller', close: () => tc.close() };
      },
    },
    ...(config.agent.instancesPath === null
      ? []
      : [
          {
            name: 'agent',
            start: async () => {
              const agent = await startAgent(local, logger.child({ component: 'agent' }));
              logger.info('agent watching', { instances: config.agent.instancesPath, http: `http://${hostPort(agent.httpAddress)}` });
              return { name: 'agent', close: () => agent.close() };
            },
          },
        ]),
  ]);
  if (components) runUntilSignalled(components, logger, config.router.shutdownSeconds);
}

/** `loggregator router`: a router alone (in a cluster: routers.discovery etcd, to register). */
export async function router(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'router');
  const components = await startAll(logger, [
    {
      name: 'router',
      start: async () => {
        const r = await startRouter(config, logger);
        logger.info('router listening', { id: r.id, udp: hostPort(r.udpAddress), http: `http://${hostPort(r.httpAddress)}`, signed: config.sharedSecret !== null });
        return { name: 'router', close: () => r.close() };
      },
    },
  ]);
  if (components) runUntilSignalled(components, logger, config.router.shutdownSeconds);
}

/** `loggregator traffic-controller`: the front door alone, merging the routers config finds. */
export async function trafficController(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'traffic-controller');
  const components = await startAll(logger, [
    {
      name: 'traffic controller',
      start: async () => {
        const tc = await startTrafficController(config, logger);
        logger.info('traffic controller listening', { http: `http://${hostPort(tc.httpAddress)}` });
        return { name: 'traffic controller', close: () => tc.close() };
      },
    },
  ]);
  if (components) runUntilSignalled(components, logger, config.router.shutdownSeconds);
}

/** `loggregator agent`: the agent alone. */
export async function agent(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'agent');
  const components = await startAll(logger, [
    {
      name: 'agent',
      start: async () => {
        const started = await startAgent(config, logger);
        logger.info('agent watching', { instances: config.agent.instancesPath, http: `http://${hostPort(started.httpAddress)}` });
        return { name: 'agent', close: () => started.close() };
      },
    },
  ]);
  if (components) runUntilSignalled(components, logger, config.router.shutdownSeconds);
}
