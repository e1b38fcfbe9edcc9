// Configuration: config/default.json, overridden by a --config file, overridden by environment
// variables; the result is validated against config/config.schema.json before anything starts.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import Ajv, { ErrorObject } from 'ajv';
import defaults from '../../config/default.json';
import schema from '../../config/config.schema.json';
import { isHostPort } from '../cluster/routerRecord';
import { EnvKey, envKeys } from './envKeys';
import { SchemaNode } from './schemaNode';

export interface Config {
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  sharedSecret: string | null;
  dataDir: string;
  etcd: { endpoints: string[]; dialTimeoutMs: number };
  bindings: {
    store: 'file' | 'etcd';
    etcdPrefix: string;
    maxPerApp: number;
    reconnect: { initialMs: number; maxMs: number };
  };
  router: {
    id: string | null;
    advertiseHost: string | null;
    udp: { host: string; port: number; maxDatagramBytes: number; receiveBufferBytes: number };
    http: { host: string; port: number };
    recent: { linesPerApp: number; maxApps: number; maxBytes: number };
    tail: TailConfig;
    firehose: { maxClients: number; maxQueuedLines: number; maxQueuedBytes: number };
    drains: DrainConfig;
    shutdownSeconds: number;
    workers: number | 'auto';
    workerQueueBytes: number;
  };
  agent: {
    instancesPath: string | null;
    settleMs: number;
    maxLineChars: number;
    reconnect: { initialMs: number; maxMs: number };
    maxQueuedDatagrams: number;
    batchBytes: number;
    http: { host: string; port: number };
  };
  routers: {
    discovery: 'static' | 'etcd';
    static: StaticRouter[];
    etcdPrefix: string;
    leaseTtlSeconds: number;
    reconnect: { initialMs: number; maxMs: number };
  };
  trafficController: {
    http: { host: string; port: number };
    tail: TailConfig;
    firehose: { maxConsumers: number; maxQueuedLines: number; maxQueuedBytes: number };
    recent: { timeoutMs: number; maxLines: number; maxBytesPerRouter: number };
    routerReconnect: { initialMs: number; maxMs: number };
    auth: {
      mode: 'tokens' | 'callout';
      tokensFile: string | null;
      recheckSeconds: number;
      callout: { url: string | null; timeoutMs: number; cacheSeconds: number; maxCached: number };
    };
  };
}

/** A router as config lists it (routers.static): HOST:PORT addresses. */
export interface StaticRouter {
  id?: string;
  udp: string;
  http?: string;
}

export interface TailConfig {
  maxClients: number;
  maxQueuedLines: number;
  maxQueuedBytes: number;
  socketHighWaterBytes: number;
  keepaliveSeconds: number;
  allowedOrigins: string[];
}

export interface DrainConfig {
  hostname: string | null;
  maxQueuedLines: number;
  maxQueuedBytes: number;
  resendWindowMs: number;
  resendBytes: number;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number };
  flushSeconds: number;
  noticeIntervalSeconds: number;
  tls: { caFile: string | null; insecureSkipVerify: boolean };
  https: { batchLines: number; batchBytes: number; flushMs: number; timeoutMs: number };
}

/** A configuration that cannot be used; the message names the key and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Json, override: Json): Json {
  if (!isObject(base) || !isObject(override)) return override;
  const out: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = key in base ? merge(base[key], value) : value;
  return out;
}

function envValue(key: EnvKey, raw: string): Json {
  if (key.types.includes('null') && raw === '') return null;
  if (key.types.includes('boolean')) {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ConfigError(`${key.name}=${JSON.stringify(raw)}: ${key.path.join('.')} must be true or false`);
  }
  // An array of objects (routers.static) is given as JSON; a list of strings, comma-separated.
  if (key.types.includes('array') && raw.trimStart().startsWith('[')) {
    try {
      return JSON.parse(raw) as Json;
    } catch (err) {
      throw new ConfigError(`${key.name}: not valid JSON (${(err as Error).message})`);
    }
  }
  if (key.types.includes('array')) return raw.split(',').map(item => item.trim()).filter(item => item !== '');
  // A count or a word (router.workers: 4 or "auto").
  if (key.types.includes('integer') && key.types.includes('string')) return /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (key.types.includes('integer') || key.types.includes('number')) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new ConfigError(`${key.name}=${JSON.stringify(raw)}: ${key.path.join('.')} must be a number`);
    }
    return n;
  }
  return raw;
}

function fromEnv(env: NodeJS.ProcessEnv): Json {
  let out: Json = {};
  for (const key of envKeys(schema as SchemaNode)) {
    const raw = env[key.name];
    if (raw === undefined) continue;
    let value: Json = envValue(key, raw);
    for (const segment of [...key.path].reverse()) value = { [segment]: value };
    out = merge(out, value);
  }
  return out;
}

function fromFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (err) {
    throw new ConfigError(`--config ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(value)) throw new ConfigError(`--config ${file}: must hold a JSON object, like config/default.json`);
  return value;
}

// allowUnionTypes: router.workers is a count or "auto".
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, verbose: true });
const validate = ajv.compile<Config>(schema);

function describe(e: ErrorObject): string {
  const key = e.instancePath.slice(1).replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `${key ? key + '.' : ''}${extra}: unknown key`;
  }
  return `${key || '(top level)'}: ${e.message}${e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : ''}`;
}

/**
 * A key that must take one of several forms (anyOf) gets one message saying what they are
 * (its schema's description), not one per form it failed.
 */
function describeAll(errors: ErrorObject[]): string[] {
  const alternatives = new Map(errors.filter(e => e.keyword === 'anyOf').map(e => [e.instancePath, e]));
  return errors
    .filter(e => e.keyword === 'anyOf' || !alternatives.has(e.instancePath))
    .map(e => {
      if (e.keyword !== 'anyOf') return describe(e);
      const key = e.instancePath.slice(1).replace(/\//g, '.');
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      return `${key}: ${JSON.stringify(e.data)} is none of the forms it may take${description ? ` (${description})` : ''}`;
    });
}

/** The effective configuration, or a ConfigError naming every bad key and why. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  let config: Json = structuredClone(defaults) as Json;
  if (opts.file !== undefined) config = merge(config, fromFile(opts.file));
  config = merge(config, fromEnv(opts.env ?? process.env));
  if (!validate(config)) {
    const problems = [...new Set(describeAll(validate.errors ?? []))];
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  // A batch larger than the queue could never be held for a retry.
  const drains = config.router.drains;
  if (drains.https.batchLines > drains.maxQueuedLines || drains.https.batchBytes > drains.maxQueuedBytes) {
    throw new ConfigError('invalid configuration: router.drains.https.batchLines and batchBytes must not exceed router.drains.maxQueuedLines and maxQueuedBytes');
  }
  // With etcd discovery a router first revokes its lease (at most 0.75 s) and keeps ingesting
  // 0.5 s while agents catch up; the drains' flush comes after that.
  const deregistration = config.routers.discovery === 'etcd' ? 1.25 : 0;
  if (drains.flushSeconds + deregistration >= config.router.shutdownSeconds && deregistration > 0) {
    throw new ConfigError(
      `invalid configuration: router.drains.flushSeconds (${drains.flushSeconds}) + 1.25 s to deregister from etcd must be less than router.shutdownSeconds (${config.router.shutdownSeconds})`,
    );
  }
  if (drains.flushSeconds >= config.router.shutdownSeconds) {
    throw new ConfigError(
      `invalid configuration: router.drains.flushSeconds (${drains.flushSeconds}) must be less than router.shutdownSeconds (${config.router.shutdownSeconds}), or a shutdown cuts drains off uncounted`,
    );
  }
  const needsEtcd = [
    config.bindings.store === 'etcd' ? 'bindings.store is "etcd"' : undefined,
    config.routers.discovery === 'etcd' ? 'routers.discovery is "etcd"' : undefined,
  ].filter(reason => reason !== undefined);
  if (needsEtcd.length > 0 && config.etcd.endpoints.length === 0) {
    throw new ConfigError(`invalid configuration: ${needsEtcd.join(' and ')}, but etcd.endpoints is empty: set LOGGREGATOR_ETCD_ENDPOINTS=http://127.0.0.1:2379 or etcd.endpoints in the config file`);
  }
  config.routers.static.forEach((r, i) => {
    for (const kind of ['udp', 'http'] as const) {
      const address = r[kind];
      if (address !== undefined && !isHostPort(address)) {
        throw new ConfigError(`invalid configuration: routers.static.${i}.${kind} ${JSON.stringify(address)}: must be HOST:PORT with a port from 1 to 65535 (an IPv6 host in brackets)`);
      }
    }
  });
  const ids = config.routers.static.map((r, i) => r.id ?? r.udp ?? String(i));
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) throw new ConfigError(`invalid configuration: routers.static lists router ${JSON.stringify(repeated)} twice (ids, or UDP addresses where no id is given, must be unique)`);
  if (config.trafficController.auth.mode === 'callout' && config.trafficController.auth.callout.url === null) {
    throw new ConfigError('invalid configuration: trafficController.auth.mode is "callout" but trafficController.auth.callout.url is not set');
  }
  return config;
}

/** The worker threads router.workers asks for: "auto" is one per CPU the process may use. */
export function routerWorkers(config: Config): number {
  const workers = config.router.workers;
  return workers === 'auto' ? Math.max(1, availableParallelism()) : workers;
}
