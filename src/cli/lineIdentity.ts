import { createHash } from 'node:crypto';
import { Envelope } from '../envelope/envelope';

/**
 * What identifies a line in a replay (see PrintedLines): timestamp, source, instance, stream and
 * the message's hash. Not the frame's text (an encoder may order fields differently); the message
 * hashed, so memory per remembered line is bounded however long lines are.
 */
export function lineIdentity(e: Envelope): string {
  const digest = createHash('sha256').update(e.message).digest('base64').slice(0, 22);
  return `${e.timestamp} ${e.sourceType}/${e.sourceInstance} ${e.messageType} ${digest}`;
}
