// Every leaf key of the configuration can be set by an environment variable named after its path.
import { SchemaNode, typesOf } from './schemaNode';

export const ENV_PREFIX = 'LOGGREGATOR_';

export interface EnvKey {
  readonly name: string;
  readonly path: string[];
  /** The key's JSON types; a key whose schema names none (an enum) is read as a string. */
  readonly types: string[];
}

/** `['router', 'recent', 'maxApps']` → LOGGREGATOR_ROUTER_RECENT_MAX_APPS. */
export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map(p => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** One variable for every leaf of the schema (an array, of objects too, is one leaf). */
export function envKeys(node: SchemaNode, path: string[] = []): EnvKey[] {
  if (node.properties) {
    return Object.entries(node.properties).flatMap(([key, child]) => envKeys(child, [...path, key]));
  }
  const types = typesOf(node);
  return [{ name: envName(path), path, types: types.length === 0 ? ['string'] : [...types] }];
}
