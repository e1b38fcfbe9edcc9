// The admin token of "tokens" auth mode: created with the tokens file on first start, and found
// by the CLI on the same machine so that `logs APP` works without flags.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/loadConfig';
import { formatTokensFile, parseTokensFile } from './tokensFileFormat';

/** The tokens file of trafficController.auth, or <dataDir>/tokens.json when none is set. */
export function tokensFilePath(config: Config): string {
  return resolve(config.trafficController.auth.tokensFile ?? resolve(config.dataDir, 'tokens.json'));
}

/**
 * Creates the tokens file with one random admin token ("*") if there is none, so a fresh install
 * has a token to use (`readAdminToken` finds it). The file is written whole under a temporary
 * name, then hard-linked into place: link, unlike rename, fails when the name exists, so when two
 * processes start at once the first one's file stands and the other uses it.
 */
export function ensureTokensFile(path: string): { created: boolean; path: string } {
  const file = resolve(path);
  if (existsSync(file)) return { created: false, path: file };
  try {
    mkdirSync(dirname(file), { recursive: true });
    const text = formatTokensFile([{ token: randomBytes(32).toString('base64url'), apps: '*' }]);
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeDurably(temp, text);
    try {
      placeExclusively(temp, file);
      return { created: true, path: file };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { created: false, path: file };
      throw err;
    } finally {
      rmSync(temp, { force: true });
    }
  } catch (err) {
    throw new Error(`cannot create the tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Gives `temp`'s file the name `file`, unless `file` exists (EEXIST). */
function placeExclusively(temp: string, file: string): void {
  try {
    linkSync(temp, file);
  } catch (err) {
    // A file system without hard links: an exclusive copy still never overwrites, though a
    // reader may see the file before it is whole (and reads it again on the next change).
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    copyFileSync(temp, file, constants.COPYFILE_EXCL);
  }
}

/** Written, flushed to disk and closed; the file must not exist yet. */
function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The first token the file maps to "*", for the CLI on the same machine; undefined if none can be read. */
export function readAdminToken(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const read = parseTokensFile(text);
  return read.ok ? read.grants.find(g => g.apps === '*')?.token : undefined;
}
