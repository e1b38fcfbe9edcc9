import { IncomingMessage, ServerResponse } from 'node:http';
import { AppsList, mergeApps } from '../../streams/appsMerge';
import { parseAppsRequest, sendAppsJson } from '../http/appsRequest';
import { Refusal } from '../http/refusal';
import { MAX_APPS_LISTED } from './recentAppsAnswer';

export interface WorkerAppsOptions {
  readonly shards: number;
  /** The HTTP port of the worker that owns a shard, while it runs. */
  readonly workerPort: (shard: number) => number | undefined;
  /** Answers a refusal, counted. */
  readonly refuse: (refusal: Refusal) => void;
}

/** The longest a worker may take over its /apps answer (it is read from memory). */
const WORKER_TIMEOUT_MS = 10_000;

/** A worker's answer: its list, or the answer to pass on as it came (a refusal the worker counted). */
type WorkerAnswer = { readonly kind: 'list'; readonly list: AppsList } | { readonly kind: 'refused'; readonly status: number; readonly headers: Headers; readonly body: string };

async function askWorker(port: number, limit: number, authorization: string | undefined): Promise<WorkerAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/apps?limit=${limit}`, {
    headers: authorization === undefined ? {} : { Authorization: authorization },
    signal: AbortSignal.timeout(WORKER_TIMEOUT_MS),
  });
  const body = await res.text();
  if (res.status !== 200) return { kind: 'refused', status: res.status, headers: res.headers, body };
  return { kind: 'list', list: JSON.parse(body) as AppsList };
}

/**
 * A multi-worker router's GET /apps: every worker's list (each owns a share of the apps), merged
 * as one router's would be. A worker that refuses (the routers' API token) is answered as it
 * refused; one that is restarting or does not answer makes it a 503, not a list without its apps.
 */
export async function answerWorkersApps(req: IncomingMessage, res: ServerResponse, opts: WorkerAppsOptions): Promise<void> {
  const query = parseAppsRequest(req, { maxLimit: MAX_APPS_LISTED, defaultLimit: MAX_APPS_LISTED });
  if (query instanceof Refusal) return opts.refuse(query);
  const ports = Array.from({ length: opts.shards }, (_, shard) => opts.workerPort(shard));
  if (ports.some(port => port === undefined)) {
    return opts.refuse(new Refusal(503, 'worker_unavailable', `one of the router's workers is restarting; try again in a moment`, { 'Retry-After': '1' }));
  }
  const ask = (port: number | undefined) => askWorker(port as number, query.limit, req.headers.authorization);
  let answers: WorkerAnswer[];
  try {
    // The first worker alone first: a refusal (the routers' API token) is then made, and counted,
    // once per request, not once per worker.
    const first = await ask(ports[0]);
    answers = first.kind === 'refused' ? [first] : [first, ...(await Promise.all(ports.slice(1).map(ask)))];
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return opts.refuse(new Refusal(503, 'worker_unavailable', `one of the router's workers did not answer (${e.cause?.code ?? e.message}); try again`, { 'Retry-After': '1' }));
  }
  if (res.destroyed) return;
  const lists: AppsList[] = [];
  for (const answer of answers) {
    if (answer.kind === 'list') {
      lists.push(answer.list);
      continue;
    }
    // The worker counted its refusal: passed on as it came.
    const type = answer.headers.get('content-type') ?? 'application/json';
    const challenge = answer.headers.get('www-authenticate');
    return void res.writeHead(answer.status, { 'Content-Type': type, ...(challenge === null ? {} : { 'WWW-Authenticate': challenge }) }).end(answer.body);
  }
  sendAppsJson(res, mergeApps(lists, query.limit));
}
