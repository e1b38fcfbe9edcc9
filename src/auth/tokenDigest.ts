import { createHash } from 'node:crypto';

/**
 * A token as the authorizers hold and key it: its sha256, hex. Raw tokens are never stored or
 * compared, so neither a heap dump nor a lookup's timing gives one away.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
