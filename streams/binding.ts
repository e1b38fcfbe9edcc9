import { createHash } from 'node:crypto';
import { isValidAppId } from '../src/envelope/codec';
import { DrainTarget, drainName, parseDrainUrl } from './drainUrl';

/**
 * One app → drain binding, as the router runs it. Its key is its identity: the same URL bound to
 * the same app twice (under two binding ids) is one drain, and one writer.
 */
export interface Binding {
  readonly key: string;
  readonly appId: string;
  readonly drain: DrainTarget;
}

/** One record of a binding store: `<appId>/<bindingId>` → JSON `{"url": "..."}`. */
export interface StoreEntry {
  readonly key: string;
  readonly value: string;
}

/** A store record that cannot be a binding, and why; `key` names it (the value is never shown: URLs carry tokens). */
export interface InvalidBinding {
  readonly key: string;
  readonly reason: string;
}

/** Longest binding value accepted (a JSON object with a URL of at most 2,048 characters). */
export const MAX_BINDING_VALUE_CHARS = 4096;
const BINDING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A binding's identity: the app and a digest of the drain's canonical URL (the URL itself may carry a token). */
export function bindingKey(appId: string, url: string): string {
  return `${appId} ${bindingIdOf(url)}`;
}

/**
 * The binding id the CLI and the file store give a URL: derived from the URL in its canonical
 * form, so binding the same drain twice (however spelled) is one binding, and unbinding finds it
 * without a lookup.
 */
export function bindingIdOf(url: string): string {
  const parsed = parseDrainUrl(url);
  return createHash('sha256')
    .update(parsed.ok ? parsed.target.url : url)
    .digest('hex')
    .slice(0, 16);
}

/** A store record → a binding, or why not. */
export function parseStoreEntry(entry: StoreEntry): { readonly ok: true; readonly binding: Binding } | ({ readonly ok: false } & InvalidBinding) {
  const invalid = (reason: string) => ({ ok: false as const, key: entry.key, reason });
  const slash = entry.key.indexOf('/');
  const appId = slash < 0 ? entry.key : entry.key.slice(0, slash);
  const bindingId = slash < 0 ? '' : entry.key.slice(slash + 1);
  if (!isValidAppId(appId)) return invalid('key: not <appId>/<bindingId> with a valid app id (1-48 of A-Z a-z 0-9 . _ -, first a letter or digit)');
  if (!BINDING_ID.test(bindingId)) return invalid('key: binding id must be 1-64 of A-Z a-z 0-9 . _ -');
  if (entry.value.length > MAX_BINDING_VALUE_CHARS) return invalid(`value: longer than ${MAX_BINDING_VALUE_CHARS} characters`);
  // Bytes that are not UTF-8 arrive as U+FFFD: repaired, they would make a different URL.
  if (entry.value.includes('\uFFFD')) return invalid('value: not valid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(entry.value);
  } catch {
    return invalid('value: not JSON (expected {"url": "syslog://host:port"})');
  }
  const url = (value as { url?: unknown } | null)?.url;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof url !== 'string') {
    return invalid('value: expected a JSON object with a "url" string');
  }
  const parsed = parseDrainUrl(url);
  if (!parsed.ok) return invalid(`${parsed.reason} (${drainName(url)})`);
  return { ok: true, binding: { key: bindingKey(appId, parsed.target.url), appId, drain: parsed.target } };
}
