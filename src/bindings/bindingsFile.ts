// bindings.json, the file binding store of a single router (`npm run serve`):
//   { "bindings": [ { "app": "my-app", "url": "syslog://logs.example.com:514" }, … ] }
import { InvalidBinding, StoreEntry, bindingIdOf } from '../../streams/binding';
import { BindingStoreEvent } from '../../streams/bindingSets';

/** The bindings the file lists, as the CLI shows and changes them. */
export interface FileBinding {
  readonly app: string;
  readonly url: string;
}

/** Largest bindings.json read: at 20 drains per app this is tens of thousands of apps. */
export const MAX_BINDINGS_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The file's text (null: no file) → a snapshot of its bindings, or why the whole file cannot be
 * used (then the last good set stays in effect). Each item becomes a store record keyed like
 * etcd's, `<app>/<binding id>`, so both stores are validated by the same code; items that are not
 * even objects with two strings are reported by position.
 */
export function parseBindingsFile(text: string | null): { readonly ok: true; readonly event: BindingStoreEvent } | { readonly ok: false; readonly reason: string } {
  if (text === null) return { ok: true, event: { kind: 'snapshot', entries: [] } };
  if (text.length > MAX_BINDINGS_FILE_BYTES) return { ok: false, reason: `larger than ${MAX_BINDINGS_FILE_BYTES} bytes` };
  if (text.trim() === '') return { ok: true, event: { kind: 'snapshot', entries: [] } };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // Node quotes the file's text around the error ("…token=abc…" is not valid JSON): a drain's
    // token must not reach the log that way, so only the first clause is kept.
    return { ok: false, reason: `not JSON (${(err as Error).message.split(/, (?:\.\.\.)?"/)[0].slice(0, 80)})` };
  }
  const list = (doc as { bindings?: unknown } | null)?.bindings;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(list)) {
    return { ok: false, reason: 'expected {"bindings": [{"app": "APP", "url": "syslog://host:port"}, …]}' };
  }
  const entries: StoreEntry[] = [];
  const invalid: InvalidBinding[] = [];
  list.forEach((item: unknown, i) => {
    const { app, url } = (item ?? {}) as { app?: unknown; url?: unknown };
    if (typeof item !== 'object' || item === null || typeof app !== 'string' || typeof url !== 'string') {
      invalid.push({ key: `bindings[${i}]`, reason: 'expected {"app": "APP", "url": "…"} with two strings' });
      return;
    }
    entries.push({ key: `${app}/${bindingIdOf(url)}`, value: JSON.stringify({ url }) });
  });
  return { ok: true, event: { kind: 'snapshot', entries, invalid } };
}

/** The file's bindings as a list, for the CLI to change (malformed items are kept as they are). */
export function bindingsFileItems(text: string | null): { readonly ok: true; readonly items: unknown[] } | { readonly ok: false; readonly reason: string } {
  if (text === null || text.trim() === '') return { ok: true, items: [] };
  const parsed = parseBindingsFile(text);
  if (!parsed.ok) return parsed;
  return { ok: true, items: (JSON.parse(text) as { bindings: unknown[] }).bindings };
}

export function formatBindingsFile(items: readonly unknown[]): string {
  return `${JSON.stringify({ bindings: items }, null, 2)}\n`;
}

export function isFileBinding(item: unknown): item is FileBinding {
  return typeof item === 'object' && item !== null && typeof (item as FileBinding).app === 'string' && typeof (item as FileBinding).url === 'string';
}
