import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { Refusal, parseUrl } from '../http/refusal';

/** Where the page's scripts and styles are served from: /console/<file of dist/console>. */
const ASSET_PREFIX = '/console/';
/** The page itself. */
const PAGE_PATH = '/';
const PAGE_FILE = 'index.html';
/** dist/console holds a handful of files; anything far larger is not the build's. */
const MAX_ASSET_BYTES = 4 * 1024 * 1024;

/**
 * Script and style only from this origin, no inline script or style element, requests (fetch,
 * websocket) only to this origin, no framing, no form posting anywhere. What the page shows
 * comes from apps' logs: an injection that slipped past the page's own escaping could still
 * run nothing, load nothing and send nothing elsewhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/**
 * The built console (dist/console, made by `npm run build`): from the build this file is
 * dist/src/trafficController/webConsole.js, from the sources (the specs) src/trafficController/
 * webConsole.ts; the assets are the build's either way.
 */
export function builtConsoleDir(): string {
  const root = __filename.endsWith('.ts') ? resolve(__dirname, '..', '..') : resolve(__dirname, '..', '..', '..');
  return join(root, 'dist', 'console');
}

/** The files of the console's directory, read once; undefined when it is not built. */
function readAssets(dir: string): Map<string, Asset> | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    const path = join(dir, name);
    if (type === undefined || !statSync(path).isFile() || statSync(path).size > MAX_ASSET_BYTES) continue;
    const body = readFileSync(path);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets.has(PAGE_FILE) ? assets : undefined;
}

/**
 * The web console the traffic controller serves at / (dist/console/index.html) with its assets
 * under /console/: from its own origin, so the page's websocket passes the origin check (see
 * consoleOrigin). Every answer carries the console's security headers; assets are revalidated
 * by ETag, so a rebuilt console is picked up by the next load after a restart.
 */
export class WebConsole {
  private assets: Map<string, Asset> | undefined;
  private read = false;

  constructor(
    private readonly opts: {
      /** Answers a refusal, counted. */
      readonly refuse: (res: ServerResponse, refusal: Refusal) => void;
      readonly dir?: string;
    },
  ) {}

  /** Whether the request is the console's; if so it has been answered. */
  answers(req: IncomingMessage, res: ServerResponse): boolean {
    const url = parseUrl(req);
    if (url instanceof Refusal) return false;
    let name: string;
    if (url.pathname === PAGE_PATH) name = PAGE_FILE;
    else if (url.pathname.startsWith(ASSET_PREFIX)) name = url.pathname.slice(ASSET_PREFIX.length);
    else return false;
    for (const [header, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(header, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.opts.refuse(res, new Refusal(405, 'method_not_allowed', `${req.method} not allowed; use GET`, { Allow: 'GET, HEAD' }));
      return true;
    }
    if (!this.read) {
      this.assets = readAssets(this.opts.dir ?? builtConsoleDir());
      this.read = true;
    }
    if (this.assets === undefined) {
      this.opts.refuse(res, new Refusal(404, 'not_found', 'the web console is not built here: run `npm run build` (it writes dist/console), then restart'));
      return true;
    }
    const asset = this.assets.get(name);
    if (asset === undefined) {
      this.opts.refuse(res, new Refusal(404, 'not_found', `no such file of the web console: ${JSON.stringify(name.slice(0, 64))}`));
      return true;
    }
    const headers = { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', ETag: asset.etag };
    if (req.headers['if-none-match'] === asset.etag) res.writeHead(304, headers).end();
    else res.writeHead(200, { ...headers, 'Content-Length': String(asset.body.length) }).end(asset.body);
    return true;
  }
}
