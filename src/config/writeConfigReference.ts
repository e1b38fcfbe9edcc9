// npm run docs: writes the configuration reference (docs/configuration.md, or the path given)
// from config/config.schema.json and config/default.json.
import { writeFileSync } from 'node:fs';
import defaults from '../../config/default.json';
import schema from '../../config/config.schema.json';
import { configReference } from './configReference';
import { SchemaNode } from './schemaNode';

const target = process.argv[2] ?? 'docs/configuration.md';
writeFileSync(target, configReference(schema as SchemaNode, defaults));
process.stdout.write(`wrote ${target}\n`);
