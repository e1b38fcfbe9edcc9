import { startAgent } from '../agent/agent';
import { Config } from '../config/loadConfig';
import { createLogger } from '../logger';
import { startRouter } from '../router/router';
import { connectHost, hostPort } from './addresses';
import { Component, describeStartError, runUntilSignalled } from './lifecycle';


/**
 * `loggregator serve`: a router, and an agent when an instances file is configured, until
 * SIGTERM/SIGINT, then a bounded clean shutdown (exit 0).
 */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'serve');
  const components: Component[] = [];
  try {
    const router = await startRouter(config, logger.child({ component: 'router' }));
    components.push({ name: 'router', close: () => router.close() });
    logger.info('router listening', {
      udp: hostPort(router.udpAddress),
      http: `http://${hostPort(router.httpAddress)}`,
      signed: config.sharedSecret !== null,
    });
    if (config.agent.instancesPath !== null) {
      // The embedded agent feeds this process's router, wherever its port ended up.
      const udp = router.udpAddress;
      const routers = [{ id: 'local', udp: hostPort({ ...udp, address: connectHost(udp.address) }) }];
      const agent = await startAgent({ ...config, routers: { ...config.routers, discovery: 'static', static: routers } }, logger.child({ component: 'agent' }));
      components.push({ name: 'agent', close: () => agent.close() });
      logger.info('agent watching', { instances: config.agent.instancesPath, routers, http: `http://${hostPort(agent.httpAddress)}` });
    }
  } catch (err) {
    logger.error(describeStartError(components.length === 0 ? 'router' : 'agent', err));
    await Promise.all(components.map(c => c.close()));
    process.exitCode = 1;
    return;
  }
  runUntilSignalled(components, logger, config.router.shutdownSeconds);
}

/** `loggregator agent`: the agent alone. */
export async function agent(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel, 'agent');
  let started;
  try {
    started = await startAgent(config, logger);
  } catch (err) {
    logger.error(describeStartError('agent', err));
    process.exitCode = 1;
    return;
  }
  logger.info('agent watching', { instances: config.agent.instancesPath, routers: config.routers.discovery === 'etcd' ? `etcd ${config.routers.etcdPrefix}` : config.routers.static.map(r => r.udp), http: `http://${hostPort(started.httpAddress)}` });
  runUntilSignalled([{ name: 'agent', close: () => started.close() }], logger, config.router.shutdownSeconds);
}
