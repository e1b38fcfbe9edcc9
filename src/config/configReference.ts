// docs/configuration.md, made from config/config.schema.json and config/default.json (npm run
// docs): every key's meaning, bounds and default come from where the code validates them, so the
// reference cannot drift from it. What is not per key (how a configuration is loaded, how
// environment variables are read) is the text below.
import { envName } from './envKeys';
import { SchemaKey, SchemaNode, schemaKeys, typesOf } from './schemaNode';

/** The command that writes the reference, for the notice in it and for specs that find it stale. */
export const DOCS_COMMAND = 'npm run docs';

interface Section {
  /** The object's path; none for the top-level keys. */
  readonly name?: string;
  readonly level: 2 | 3;
  readonly description?: string;
  readonly keys: readonly SchemaKey[];
}

/** The Markdown of docs/configuration.md for this schema and these defaults. */
export function configReference(schema: SchemaNode, defaults: unknown): string {
  const keys = schemaKeys(schema);
  const undescribed = keys.filter(k => !k.node.description?.trim()).map(k => k.name);
  if (undescribed.length > 0) throw new Error(`config/config.schema.json: no description for ${undescribed.join(', ')}`);
  const known = new Set(keys.map(k => k.name));
  // The introduction names keys; one the schema no longer has would make it lie.
  const key = (name: string) => {
    if (!known.has(name)) throw new Error(`the configuration reference's introduction names ${name}, which config/config.schema.json does not have`);
    return code(name);
  };
  const sections = sectionsOf(schema);
  const listed = new Set(sections.flatMap(s => s.keys.map(k => k.name)));
  const unlisted = keys.filter(k => k.node.properties === undefined && !listed.has(k.name)).map(k => k.name);
  if (unlisted.length > 0) throw new Error(`the configuration reference has no row for ${unlisted.join(', ')}`);
  return [
    `<!-- Generated from config/config.schema.json and config/default.json by \`${DOCS_COMMAND}\` (src/config/configReference.ts): edit those and run it, not this file. -->`,
    '# Configuration',
    '',
    'Every process (`serve`, `router`, `traffic-controller`, `agent`, and the commands that find routers or bindings) reads its configuration once, at start:',
    '',
    '1. `config/default.json`: the defaults below;',
    '2. overridden key by key by the file given with `--config FILE`: JSON, any subset of the same keys (`{"router": {"udp": {"port": 5514}}}` changes that key alone);',
    '3. overridden by [environment variables](#environment-variables), one per key.',
    '',
    'The result is checked against `config/config.schema.json` before anything starts: an invalid configuration exits 2 naming every bad key and why (`invalid configuration: router.udp.port: must be <= 65535; router.extra: unknown key`).',
    `A few rules span keys (${key('router.drains.flushSeconds')} less than ${key('router.shutdownSeconds')}, for one): the keys concerned state them, and a configuration that breaks one exits 2 too.`,
    '',
    `Sections: ${sections.filter(s => s.level === 2).map(s => link(headingOf(s))).join(', ')}.`,
    '',
    '## Environment variables',
    '',
    `Every key below has one: \`${envName([])}\` and the key's path in upper snake case (${key('router.udp.port')} is \`${envName(['router', 'udp', 'port'])}\`). Its value is read as the key's type:`,
    '',
    `- a number as a number (\`${envName(['router', 'http', 'port'])}=eighty\` exits 2);`,
    '- a boolean as `true` or `false`;',
    `- an empty value, for a key that may be null, as null (\`${envName(['sharedSecret'])}=\` turns signing off);`,
    `- a list comma-separated (\`${envName(['etcd', 'endpoints'])}=http://10.0.0.1:2379,http://10.0.0.2:2379\`) or as a JSON array; a list of objects (${key('routers.static')}) as a JSON array only.`,
    '',
    `Three more variables are read, and are not configuration keys: \`LOGGREGATOR_TARGET\` and \`LOGGREGATOR_TOKEN\`, by the \`logs\` command (its \`--target\` and \`--token\`; see [the logs client](cli.md)), and node's \`NODE_EXTRA_CA_CERTS\`, whose CAs TLS drains trust too (see ${link(key('router.drains.tls'))}).`,
    '',
    ...sections.flatMap(section => sectionText(section, defaults)),
  ].join('\n');
}

/** The top-level scalars, then one section per object, each nested object a section of its own. */
function sectionsOf(schema: SchemaNode): Section[] {
  const objects = (node: SchemaNode, prefix: string, level: 2 | 3): Section[] =>
    Object.entries(node.properties ?? {})
      .filter(([, child]) => child.properties !== undefined)
      .flatMap(([name, child]) => [
        { name: prefix + name, level, description: child.description, keys: leavesOf(child, `${prefix}${name}.`) },
        ...objects(child, `${prefix}${name}.`, 3),
      ]);
  return [{ level: 2, keys: leavesOf(schema, '') }, ...objects(schema, '', 2)];
}

/** An object's own keys that are not objects, each array of objects followed by its items' keys. */
function leavesOf(node: SchemaNode, prefix: string): SchemaKey[] {
  return schemaKeys(node, prefix).filter(
    k =>
      k.node.properties === undefined &&
      k.name
        .slice(prefix.length)
        .split('[].')
        .every(part => !part.includes('.')),
  );
}

function headingOf(section: Section): string {
  return section.name === undefined ? 'Top-level keys' : code(section.name);
}

function sectionText(section: Section, defaults: unknown): string[] {
  const heading = headingOf(section);
  const rows = section.keys.map(k => row([code(k.name), defaultText(k, defaults), allowedText(k), envText(k), k.node.description ?? '']));
  return [
    `${'#'.repeat(section.level)} ${heading}`,
    '',
    ...(section.description ? [inline(section.description), ''] : []),
    ...(rows.length > 0 ? ['| key | default | allowed | environment variable | meaning |', '|---|---|---|---|---|', ...rows, ''] : []),
  ];
}

function defaultText(k: SchemaKey, defaults: unknown): string {
  if (k.inArray) return '—';
  const value = k.name.split('.').reduce<unknown>((at, segment) => (isRecord(at) ? at[segment] : undefined), defaults);
  if (value === undefined) return 'none';
  return typeof value === 'number' ? numberText(value, isBytes(k)) : code(JSON.stringify(value));
}

function allowedText(k: SchemaKey): string {
  const allowed = allowedBy(k.node, isBytes(k));
  return k.inArray && k.required ? `required; ${allowed}` : allowed;
}

function allowedBy(node: SchemaNode, bytes: boolean): string {
  if (node.anyOf) return node.anyOf.map(alternative => allowedBy(alternative, bytes)).join(', or ');
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (node.enum) return `one of ${node.enum.map(v => code(JSON.stringify(v))).join(', ')}`;
  const types = typesOf(node);
  const text = types
    .filter(t => t !== 'null')
    .map(type => typeText(type, node, bytes))
    .join(', or ');
  return types.includes('null') ? `${text}, or null` : text;
}

function typeText(type: string, node: SchemaNode, bytes: boolean): string {
  switch (type) {
    case 'integer':
    case 'number':
      return [type, rangeText(node, bytes)].filter(part => part !== '').join(' ');
    case 'string':
      return ['string', lengthText(node), node.pattern === undefined ? '' : `matching ${code(node.pattern)}`].filter(part => part !== '').join(' ');
    case 'boolean':
      return '`true` or `false`';
    case 'array': {
      const count = node.maxItems === undefined ? '' : `up to ${node.maxItems} `;
      if (node.items?.properties) return `list of ${count}objects with the keys below`;
      const each = node.items === undefined ? '' : `, each ${withArticle(allowedBy(node.items, bytes))}`;
      return `list of ${count}items${each}${node.uniqueItems ? ', no repeats' : ''}`;
    }
    default:
      return type;
  }
}

function rangeText(node: SchemaNode, bytes: boolean): string {
  const n = (value: number) => numberText(value, bytes);
  if (node.minimum !== undefined && node.maximum !== undefined) return `from ${n(node.minimum)} to ${n(node.maximum)}`;
  const lower = node.minimum !== undefined ? `≥ ${n(node.minimum)}` : node.exclusiveMinimum !== undefined ? `> ${n(node.exclusiveMinimum)}` : '';
  const upper = node.maximum !== undefined ? `≤ ${n(node.maximum)}` : node.exclusiveMaximum !== undefined ? `< ${n(node.exclusiveMaximum)}` : '';
  return [lower, upper].filter(part => part !== '').join(' and ');
}

function lengthText(node: SchemaNode): string {
  if (node.minLength !== undefined && node.maxLength !== undefined) return `of ${node.minLength} to ${node.maxLength} characters`;
  if (node.maxLength !== undefined) return `of up to ${node.maxLength} characters`;
  if (node.minLength !== undefined) return `of at least ${node.minLength} characters`;
  return '';
}

function envText(k: SchemaKey): string {
  if (k.inArray) return `— (within ${code(envName(k.name.slice(0, k.name.indexOf('[]')).split('.')))})`;
  const name = code(envName(k.name.split('.')));
  const types = typesOf(k.node);
  if (types.includes('array')) return `${name} (${k.node.items?.properties ? 'a JSON array' : 'comma-separated'})`;
  return types.includes('null') ? `${name} (empty: null)` : name;
}

/** Keys counted in bytes get their size in binary units too: `16777216 (16 MiB)`. */
function isBytes(k: SchemaKey): boolean {
  return /Bytes/.test(k.name.slice(k.name.lastIndexOf('.') + 1));
}

function numberText(value: number, bytes: boolean): string {
  const units: [number, string][] = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ];
  const unit = bytes ? units.find(([size]) => value >= size && value % size === 0) : undefined;
  return unit === undefined ? code(String(value)) : `${code(String(value))} (${value / unit[0]} ${unit[1]})`;
}

function withArticle(text: string): string {
  if (/^(string|number|list)/.test(text)) return `a ${text}`;
  return /^integer/.test(text) ? `an ${text}` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** A link to a heading of this page, to the anchor GitHub makes of it. */
function link(heading: string): string {
  const anchor = heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
  return `[${heading}](#${anchor})`;
}

/** Text as it may stand in Markdown prose: `<` outside code spans is not taken for HTML. */
function inline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;')))
    .join('')
    .replace(/\s*\n\s*/g, ' ');
}

/** A table row; a `|` in a cell, in a code span too, is escaped as GitHub's tables want. */
function row(cells: string[]): string {
  return `| ${cells.map(cell => inline(cell).replace(/\|/g, '\\|')).join(' | ')} |`;
}
