import { datagramOverhead } from './codec';
import { Envelope } from './envelope';

/** Bytes a code point takes inside a JSON string (UTF-8, after JSON.stringify's escaping). */
function jsonBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2; // \" \\
  if (cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) return 2; // \b \t \n \f \r
  if (cp < 0x20) return 6; // \u00XX
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp >= 0xd800 && cp <= 0xdfff) return 6; // a lone surrogate is escaped as \uXXXX
  if (cp < 0x10000) return 3;
  return 4;
}

/**
 * One envelope, or several whose messages together are the original, each fitting in a datagram
 * of at most `maxDatagramBytes` (signed when a secret is given). Splits between code points,
 * never inside one, and never drops a character.
 */
export function splitMessage(e: Envelope, maxDatagramBytes: number, secret?: string): Envelope[] {
  const budget = maxDatagramBytes - datagramOverhead(e, secret);
  if (budget < 8) throw new RangeError(`datagram limit ${maxDatagramBytes} leaves no room for a message`);
  const parts: Envelope[] = [];
  let start = 0;
  let used = 0;
  let i = 0;
  while (i < e.message.length) {
    const cp = e.message.codePointAt(i) as number;
    const units = cp > 0xffff ? 2 : 1;
    const bytes = jsonBytes(cp);
    if (used + bytes > budget) {
      parts.push({ ...e, message: e.message.slice(start, i) });
      start = i;
      used = 0;
    }
    used += bytes;
    i += units;
  }
  if (parts.length === 0) return [e];
  parts.push({ ...e, message: e.message.slice(start) });
  return parts;
}
