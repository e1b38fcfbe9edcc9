// The tokens file authorizer, on real files watched with chokidar:
//
//   tokens.json:  {A: "*", L: [app-1]} ── edited: {A, N: [app-2]} ── "not valid" ── deleted
//   authorize:    A any app ✓, L app-1 ✓ app-2 403,   N ✓, L 401,   unchanged (error logged),   all 401
//
// ensureTokensFile creates a missing file (0600, one random admin token), never overwrites one,
// and two processes starting at once end up with one token; readAdminToken finds it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { AuthDecision } from '../../../src/auth/authDecision';
import { Authorizer, openAuthorizer } from '../../../src/auth/authorizer';
import { ensureTokensFile, openTokensFileAuthorizer, readAdminToken } from '../../../src/auth/tokensFile';
import { loadConfig } from '../../../src/config/loadConfig';
import { captureLogger } from '../../support/drainWriterHarness';
import { PROJECT_ROOT } from '../../support/childProcess';
import { Teardown } from '../../support/teardown';
import { waitFor, within } from '../../support/waitFor';

// Random, so that any piece of one found in a log line can only have come from the token.
const ADMIN = `admin.${randomBytes(24).toString('base64url')}`;
const LISTED = `listed.${randomBytes(24).toString('base64url')}`;
const NEW = `new.${randomBytes(24).toString('base64url')}`;

const SOON = { timeoutMs: 5_000 };
/** The first 6 characters in a row of a token's random part that `text` contains, if any. */
function pieceOf(token: string, text: string): string | undefined {
  const secret = token.slice(token.indexOf('.') + 1);
  for (let i = 0; i + 6 <= secret.length; i++) if (text.includes(secret.slice(i, i + 6))) return secret.slice(i, i + 6);
  return undefined;
}

const fileOf = (tokens: Record<string, string[] | '*' | 'firehose'>) => JSON.stringify({ tokens }, null, 2);

describe('tokens file', () => {
  const teardown = new Teardown();
  let dir: string;
  let path: string;
  let logs: { lines: string[] };

  beforeEach(() => {
    dir = teardown.add(mkdtempSync(join(tmpdir(), 'lgr-tokens-')), d => rmSync(d, { recursive: true, force: true }));
    path = join(dir, 'tokens.json');
  });
  afterEach(() => teardown.run());

  async function open(): Promise<Authorizer> {
    const { logger, lines } = captureLogger('info');
    logs = { lines };
    return teardown.add(await openTokensFileAuthorizer(path, logger), a => a.close());
  }

  /** Writes a whole file the way a deploy tool replaces one: temporary file, then rename. */
  function replaceFile(text: string): void {
    writeFileSync(`${path}.new`, text);
    renameSync(`${path}.new`, path);
  }

  const allowed = async (a: Authorizer, token: string, app: string) => (await a.authorize(token, app)).allowed;
  const statusOf = async (a: Authorizer, token: string, app: string) => {
    const decision: AuthDecision = await a.authorize(token, app);
    return decision.allowed ? 200 : decision.status;
  };

  describe('authorize', () => {
    it('allows "*" every app and a listed token its apps only, at once after opening', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*', [LISTED]: ['app-1', 'app.two'] }));
      const authorizer = await open();

      expect(await authorizer.authorize(ADMIN, 'app-1')).toEqual({ allowed: true });
      expect(await authorizer.authorize(ADMIN, 'anything-else')).toEqual({ allowed: true });
      expect(await authorizer.authorize(LISTED, 'app-1')).toEqual({ allowed: true });
      expect(await authorizer.authorize(LISTED, 'app.two')).toEqual({ allowed: true });
      expect(await authorizer.authorize(LISTED, 'app-3')).toEqual({ allowed: false, status: 403, reason: 'forbidden', message: 'token may not read app "app-3"' });
    });

    it('lets "*", "firehose" and a list naming "firehose" read the firehose; refuses a list without it, 403', async () => {
      const NOZZLE = `nozzle.${randomBytes(24).toString('base64url')}`;
      writeFileSync(path, fileOf({ [ADMIN]: '*', [NOZZLE]: 'firehose', [NEW]: ['app-1', 'firehose'], [LISTED]: ['app-1'] }));
      const authorizer = await open();

      expect(await authorizer.authorizeFirehose(ADMIN)).toEqual({ allowed: true });
      expect(await authorizer.authorizeFirehose(NOZZLE)).toEqual({ allowed: true });
      expect(await authorizer.authorizeFirehose(NEW)).toEqual({ allowed: true });
      expect(await authorizer.authorize(NEW, 'app-1')).toEqual({ allowed: true });
      expect(await statusOf(authorizer, NOZZLE, 'app-1')).toBe(403); // the firehose scope is not a grant of each app
      const refused = await authorizer.authorizeFirehose(LISTED);
      expect(refused).toEqual({ allowed: false, status: 403, reason: 'forbidden', message: `token may not read the firehose (grant it "firehose" in ${path})` });
      expect(await authorizer.authorizeFirehose(`${ADMIN}x`)).toMatchObject({ allowed: false, status: 401 });
    });

    it('refuses a file that maps a token to a string other than "*" or "firehose", saying what is allowed', async () => {
      writeFileSync(path, JSON.stringify({ tokens: { [ADMIN]: 'all' } }));
      const authorizer = await open();
      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(401);
      await waitFor(() => logs.lines.some(l => l.includes('must map to \\"*\\", \\"firehose\\" or a list of app ids')), { what: 'the error naming the allowed values', ...SOON });
    });

    it('answers an unknown token 401', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*' }));
      const authorizer = await open();
      expect(await authorizer.authorize(NEW, 'app-1')).toEqual({ allowed: false, status: 401, reason: 'unknown_token', message: 'unknown or expired token' });
      // Near misses are not matches.
      expect(await statusOf(authorizer, ADMIN.slice(0, -1), 'app-1')).toBe(401);
      expect(await statusOf(authorizer, `${ADMIN}x`, 'app-1')).toBe(401);
    });

    it('holds tokens only as digests', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*', [LISTED]: ['app-1'] }));
      const authorizer = await open();
      const state = inspect(authorizer, { depth: 10, showHidden: true, maxStringLength: null, maxArrayLength: null });
      expect(state).toContain('app-1'); // the grants are in there…
      expect(state).not.toContain(ADMIN); // …but not the tokens
      expect(state).not.toContain(LISTED);
    });

    it('follows edits while running: a new token works, a removed one stops working', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*', [LISTED]: ['app-1'] }));
      const authorizer = await open();
      expect(await statusOf(authorizer, NEW, 'app-2')).toBe(401);

      replaceFile(fileOf({ [ADMIN]: '*', [NEW]: ['app-2'] }));
      await waitFor(() => allowed(authorizer, NEW, 'app-2'), { ...SOON, what: 'the new token to work' });
      expect(await statusOf(authorizer, LISTED, 'app-1')).toBe(401);
      expect(await statusOf(authorizer, NEW, 'app-1')).toBe(403);

      // Edited in place (not renamed over) works too.
      writeFileSync(path, fileOf({ [ADMIN]: '*', [NEW]: ['app-1', 'app-2'] }));
      await waitFor(() => allowed(authorizer, NEW, 'app-1'), { ...SOON, what: 'the in-place edit' });
      expect(await statusOf(authorizer, ADMIN, 'app-9')).toBe(200);
    });

    it('keeps the last valid tokens when the file becomes invalid, and logs why without a token', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*', [LISTED]: ['app-1'] }));
      const authorizer = await open();

      // Not JSON, with a token right beside the mistake: V8's message would quote it.
      replaceFile(`{"tokens": {"${NEW}": *, "${LISTED}": ["app-1"]}}`);
      await waitFor(() => logs.lines.some(l => l.includes('not valid JSON')), { ...SOON, what: 'the JSON error to be logged' });
      // Valid JSON, wrong shape: a bad app id beside a token, and a malformed token.
      replaceFile(JSON.stringify({ tokens: { [NEW]: ['not an app id!'], 'bad token with spaces': '*' } }));
      await waitFor(() => logs.lines.some(l => l.includes('1st token: app 1 of its list is not a valid app id')), { ...SOON, what: 'the shape error' });
      expect(logs.lines.some(l => l.includes('2nd token is not a well-formed token'))).toBe(true);

      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(200);
      expect(await statusOf(authorizer, LISTED, 'app-1')).toBe(200);
      expect(await statusOf(authorizer, NEW, 'app-1')).toBe(401);
      const errors = logs.lines.filter(l => JSON.parse(l).level === 'error');
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors.every(l => l.includes('the last valid tokens stay in effect') && l.includes(path))).toBe(true);
      for (const token of [ADMIN, LISTED, NEW]) expect(pieceOf(token, logs.lines.join('\n'))).toBeUndefined();
      expect(logs.lines.join('\n')).not.toContain('bad token with spaces');

      // Fixed: applies again.
      replaceFile(fileOf({ [NEW]: '*' }));
      await waitFor(() => allowed(authorizer, NEW, 'app-1'), { ...SOON, what: 'the fixed file' });
      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(401);
    });

    it('starts with no valid token from an invalid file, and says so', async () => {
      writeFileSync(path, `{"tokens": {"${ADMIN}": "*"`);
      const authorizer = await open();
      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(401);
      expect(logs.lines.some(l => l.includes('no token is valid until it is fixed'))).toBe(true);
      expect(pieceOf(ADMIN, logs.lines.join('\n'))).toBeUndefined();
    });

    it('allows no token once the file is deleted, and again once it is back', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*' }));
      const authorizer = await open();
      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(200);

      unlinkSync(path);
      await waitFor(async () => (await statusOf(authorizer, ADMIN, 'app-1')) === 401, { ...SOON, what: 'the deletion to revoke the token' });
      expect(logs.lines.some(l => l.includes('does not exist'))).toBe(true);

      replaceFile(fileOf({ [ADMIN]: ['app-1'] }));
      await waitFor(() => allowed(authorizer, ADMIN, 'app-1'), { ...SOON, what: 'the file to be back' });
    });

    it('opens at once on a path whose directory does not exist (yet): no token is valid', async () => {
      // watchedFileEvents waits for the directory (checking every second) before it says anything.
      path = join(dir, 'later', 'tokens.json');
      const authorizer = await within(open(), 500, 'opening');
      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(401);
      expect(logs.lines.some(l => l.includes('does not exist'))).toBe(true);
    });

    it('answers 503 once closed', async () => {
      writeFileSync(path, fileOf({ [ADMIN]: '*' }));
      const authorizer = await open();
      await authorizer.close();
      expect(await authorizer.authorize(ADMIN, 'app-1')).toMatchObject({ allowed: false, status: 503, reason: 'authorizer_unavailable' });
    });
  });

  describe('ensureTokensFile', () => {
    it('creates a missing file and its directory: mode 0600, one admin token', () => {
      const nested = join(dir, 'data', 'auth', 'tokens.json');
      expect(ensureTokensFile(nested)).toEqual({ created: true, path: nested });

      expect(statSync(nested).mode & 0o777).toBe(0o600);
      const { tokens } = JSON.parse(readFileSync(nested, 'utf8')) as { tokens: Record<string, unknown> };
      const entries = Object.entries(tokens);
      expect(entries).toHaveLength(1);
      const [token, apps] = entries[0];
      expect(apps).toBe('*');
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      expect(readdirSync(join(dir, 'data', 'auth'))).toEqual(['tokens.json']); // no temporary file left
    });

    it('makes a different token each time', () => {
      ensureTokensFile(join(dir, 'a.json'));
      ensureTokensFile(join(dir, 'b.json'));
      expect(readAdminToken(join(dir, 'a.json'))).not.toBe(readAdminToken(join(dir, 'b.json')));
    });

    it('leaves an existing file as it is, even an invalid one', () => {
      writeFileSync(path, fileOf({ [LISTED]: ['app-1'] }));
      chmodSync(path, 0o640);
      expect(ensureTokensFile(path)).toEqual({ created: false, path });
      expect(readFileSync(path, 'utf8')).toBe(fileOf({ [LISTED]: ['app-1'] }));
      expect(statSync(path).mode & 0o777).toBe(0o640);

      writeFileSync(path, 'not json');
      expect(ensureTokensFile(path).created).toBe(false);
      expect(readFileSync(path, 'utf8')).toBe('not json');
    });

    it('makes one token when several processes start at once', async () => {
      // Two other processes and this one wait at a barrier (a file), then all create at once.
      const go = join(dir, 'go');
      const script = [
        `const { ensureTokensFile } = require(${JSON.stringify(join(PROJECT_ROOT, 'src/auth/adminToken'))});`,
        `const { existsSync } = require('node:fs');`,
        `process.stdout.write('ready\\n');`,
        // Spin, not sleep: they all leave the barrier within microseconds of each other.
        `while (!existsSync(${JSON.stringify(go)})) {}`,
        `process.stdout.write(JSON.stringify(ensureTokensFile(${JSON.stringify(path)})) + '\\n');`,
      ].join('\n');
      const others = Array.from({ length: 2 }, () => {
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        teardown.add(child, c => c.exitCode === null && c.signalCode === null && c.kill());
        const run = { out: '', err: '', exited: new Promise<number | null>(resolve => child.on('exit', resolve)) };
        child.stdout.setEncoding('utf8').on('data', (d: string) => (run.out += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (run.err += d));
        return run;
      });
      await waitFor(() => others.every(r => r.out.startsWith('ready') || r.err !== ''), { timeoutMs: 30_000, what: 'every process at the barrier' });
      writeFileSync(go, '');
      const mine = ensureTokensFile(path);
      const codes = await Promise.all(others.map(r => r.exited));
      expect({ codes, errors: others.map(r => r.err) }).toEqual({ codes: [0, 0], errors: ['', ''] });

      const results = [mine, ...others.map(r => JSON.parse(r.out.split('\n')[1]) as { created: boolean; path: string })];
      expect(results.filter(r => r.created)).toHaveLength(1);
      expect(results.every(r => r.path === path)).toBe(true);
      const { tokens } = JSON.parse(readFileSync(path, 'utf8')) as { tokens: Record<string, unknown> };
      expect(Object.keys(tokens)).toHaveLength(1);
      expect(readdirSync(dir).sort()).toEqual(['go', 'tokens.json']); // no temporary file left behind
    }, 60_000); // two ts-node start-ups on a loaded 2-core machine: up to 30 s to reach the barrier
  });

  describe('readAdminToken', () => {
    it('finds the first token mapped to "*"', () => {
      writeFileSync(path, fileOf({ [LISTED]: ['app-1'], [ADMIN]: '*', [NEW]: '*' }));
      expect(readAdminToken(path)).toBe(ADMIN);
    });

    it('finds the token ensureTokensFile created, and it is an admin token for the authorizer', async () => {
      ensureTokensFile(path);
      const token = readAdminToken(path);
      expect(token).toBeDefined();
      const authorizer = await open();
      expect(await authorizer.authorize(token as string, 'any-app')).toEqual({ allowed: true });
    });

    it('is undefined for a missing, unreadable or invalid file, or one without an admin token', () => {
      expect(readAdminToken(path)).toBeUndefined();
      writeFileSync(path, `{"tokens": {"${ADMIN}": "*"`);
      expect(readAdminToken(path)).toBeUndefined();
      writeFileSync(path, fileOf({ [LISTED]: ['app-1'] }));
      expect(readAdminToken(path)).toBeUndefined();
      expect(readAdminToken(dir)).toBeUndefined(); // a directory: EISDIR
    });
  });

  describe('openAuthorizer in "tokens" mode', () => {
    it('uses <dataDir>/tokens.json, creating it with an admin token on first start', async () => {
      const config = loadConfig({ env: { LOGGREGATOR_DATA_DIR: join(dir, 'data') } });
      const { logger, lines } = captureLogger('info');
      const authorizer = teardown.add(await openAuthorizer(config, logger), a => a.close());

      const created = join(dir, 'data', 'tokens.json');
      expect(existsSync(created)).toBe(true);
      expect(authorizer.description).toBe(`tokens file ${created}`);
      const token = readAdminToken(created) as string;
      expect(await authorizer.authorize(token, 'my-app')).toEqual({ allowed: true });
      expect(lines.some(l => l.includes('created a tokens file'))).toBe(true);
      expect(lines.join('\n')).not.toContain(token);
    });

    it('uses trafficController.auth.tokensFile when set', async () => {
      writeFileSync(path, fileOf({ [LISTED]: ['app-1'] }));
      const config = loadConfig({ env: { LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_TOKENS_FILE: path, LOGGREGATOR_DATA_DIR: join(dir, 'unused') } });
      const authorizer = teardown.add(await openAuthorizer(config, captureLogger().logger), a => a.close());
      expect(authorizer.description).toBe(`tokens file ${path}`);
      expect(await authorizer.authorize(LISTED, 'app-1')).toEqual({ allowed: true });
      expect(existsSync(join(dir, 'unused'))).toBe(false);
    });

    it('does not create a configured tokens file that is missing: no token is valid', async () => {
      const config = loadConfig({ env: { LOGGREGATOR_TRAFFIC_CONTROLLER_AUTH_TOKENS_FILE: path } });
      const authorizer = teardown.add(await openAuthorizer(config, captureLogger().logger), a => a.close());
      expect(existsSync(path)).toBe(false);
      expect(await statusOf(authorizer, ADMIN, 'app-1')).toBe(401);
    });
  });
});
