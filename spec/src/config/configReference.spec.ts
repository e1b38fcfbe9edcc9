import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCS_COMMAND, configReference } from '../../../src/config/configReference';
import { envKeys } from '../../../src/config/envKeys';
import { SchemaNode, schemaKeys } from '../../../src/config/schemaNode';
import schema from '../../../config/config.schema.json';
import defaults from '../../../config/default.json';
import { PROJECT_ROOT } from '../../support/childProcess';

const REFERENCE = join(PROJECT_ROOT, 'docs', 'configuration.md');

/** The row of `key` in the reference, as its cells. */
function rowOf(page: string, key: string): string[] {
  const line = page.split('\n').find(l => l.startsWith(`| \`${key}\` |`));
  if (line === undefined) throw new Error(`no row for ${key}`);
  return line.slice(2, -2).split(' | ');
}

describe('configuration reference (docs/configuration.md)', () => {
  const page = configReference(schema as SchemaNode, defaults);

  it(`is what \`${DOCS_COMMAND}\` makes of config/config.schema.json and config/default.json`, () => {
    const committed = readFileSync(REFERENCE, 'utf8');
    if (committed === page) return;
    const [was, is] = [committed.split('\n'), page.split('\n')];
    const line = was.findIndex((text, i) => text !== is[i]);
    const at = line < 0 ? is.length : line;
    throw new Error(
      `docs/configuration.md is out of date: run \`${DOCS_COMMAND}\` and commit it.\n` +
        `First difference at line ${at + 1}:\n  committed: ${JSON.stringify(was[at])}\n  generated: ${JSON.stringify(is[at])}`,
    );
  });

  it('finds a description for every key of the schema, objects and array items included', () => {
    const undescribed = schemaKeys(schema as SchemaNode)
      .filter(k => typeof k.node.description !== 'string' || k.node.description.trim() === '')
      .map(k => k.name);
    expect(undescribed).toEqual([]);
  });

  it('refuses to make a reference from a schema with an undescribed key, naming it', () => {
    const partial: SchemaNode = { properties: { a: { description: 'described', type: 'integer' }, b: { properties: { c: { type: 'string' } } } } };
    expect(() => configReference(partial, { a: 1, b: { c: 'x' } })).toThrow('config/config.schema.json: no description for b, b.c');
  });

  it('gives every leaf key a row with its default, bounds, environment variable and meaning', () => {
    expect(rowOf(page, 'router.udp.port')).toEqual([
      '`router.udp.port`',
      '`3456`',
      'integer from `0` to `65535`',
      '`LOGGREGATOR_ROUTER_UDP_PORT`',
      schema.properties.router.properties.udp.properties.port.description,
    ]);
    expect(rowOf(page, 'router.drains.maxQueuedBytes').slice(1, 3)).toEqual(['`16777216` (16 MiB)', 'integer from `65536` (64 KiB) to `4294967296` (4 GiB)']);
    expect(rowOf(page, 'sharedSecret').slice(1, 4)).toEqual(['`null`', 'string of 16 to 1024 characters, or null', '`LOGGREGATOR_SHARED_SECRET` (empty: null)']);
    expect(rowOf(page, 'router.workers')[2]).toBe('integer from `1` to `256`, or `"auto"`');
    expect(rowOf(page, 'routers.static[].udp')[2]).toMatch(/^required; string of up to 300 characters matching `\^\(.*\\\|.*\)/);
    for (const { name } of envKeys(schema as SchemaNode)) expect(page).toContain(`\`${name}\``);
  });

  it('starts with how the configuration is loaded, then the environment, then one section per top-level object', () => {
    const headings = page.split('\n').filter(l => /^##? /.test(l));
    expect(headings).toEqual([
      '# Configuration',
      '## Environment variables',
      '## Top-level keys',
      ...Object.entries(schema.properties)
        .filter(([, node]) => 'properties' in node)
        .map(([name]) => `## \`${name}\``),
    ]);
    expect(page.slice(0, page.indexOf('## Environment variables'))).toContain('`--config FILE`');
  });

  it('links only to pages that exist in docs/', () => {
    const targets = [...page.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map(m => m[1]);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter(t => !existsSync(join(PROJECT_ROOT, 'docs', t)))).toEqual([]);
  });
});
