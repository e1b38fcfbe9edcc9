import type { Etcd3 } from 'etcd3';
import { Config } from '../config/loadConfig';

/**
 * An etcd v3 client as every part of loggregator-rx uses it: the client's own retries and
 * circuit breaker off (one retry policy: the caller's, with a resync from a snapshot), a
 * deadline on every unary call, and gRPC keepalive, so that a watch on a connection that went
 * silent (no RST: a load balancer's idle timeout, a partition) ends instead of waiting for ever.
 *
 * The client's own reconnect of a broken watch is not used either (prefixEvents fails on
 * 'disconnected' and cancels its watcher), yet the client arms a timer of its watch backoff
 * whenever a watch stream ends, close() included. Its default backoff grows while etcd is away,
 * and that timer kept a process open after close(); with no delay it runs at once and, with no
 * watcher left, does nothing.
 */
export function createEtcdClient(config: Config): Etcd3 {
  // Loaded here, not at the top: etcd3 and gRPC take over half a second to load, which every
  // process that does not use etcd (an agent with static routers, emit, logs) would pay.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Etcd3: Client } = require('etcd3') as typeof import('etcd3');
  const { ConstantBackoff, noop } = require('cockatiel') as typeof import('cockatiel');
  const deadlineMs = config.etcd.dialTimeoutMs;
  const client = new Client({
    hosts: config.etcd.endpoints,
    dialTimeout: deadlineMs,
    faultHandling: { host: () => noop, global: noop, watchBackoff: new ConstantBackoff(0).next() },
    defaultCallOptions: context => (context.isStream ? {} : { deadline: Date.now() + deadlineMs }),
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 },
  });
  const close = client.close.bind(client);
  client.close = () => {
    closeServiceChannels(client);
    close();
  };
  return client;
}

/**
 * etcd3's close() leaves a channel that is still connecting open for up to a second (waiting
 * for it to connect, around a gRPC bug of 2020 that grpc-js has long fixed), so a process that
 * stops while etcd is away stays up that long. Close every channel at once; calls still pending
 * then fail, which is what closing means.
 */
function closeServiceChannels(client: Etcd3): void {
  const hosts = (client as unknown as { pool?: { hosts?: unknown } }).pool?.hosts;
  if (!Array.isArray(hosts)) return;
  for (const host of hosts) {
    const services = (host as { cachedServices?: Record<string, { close?: () => void } | undefined> }).cachedServices;
    for (const service of Object.values(services ?? {})) service?.close?.();
  }
}

/** gRPC's words ("14 UNAVAILABLE: No connection established…") as an operator's. */
export function describeEtcdError(err: unknown, endpoints: string, deadlineMs: number): Error {
  const text = String((err as Error)?.message ?? err);
  if (/ECONNREFUSED|UNAVAILABLE|No connection established/.test(text)) {
    return new Error(`cannot reach etcd at ${endpoints}: connection refused or unavailable (is etcd running? check etcd.endpoints) [${text.slice(0, 120)}]`);
  }
  if (/DEADLINE_EXCEEDED|deadline/i.test(text)) {
    return new Error(`etcd at ${endpoints} did not answer within ${deadlineMs} ms (etcd.dialTimeoutMs) [${text.slice(0, 120)}]`);
  }
  return err instanceof Error ? err : new Error(text);
}
