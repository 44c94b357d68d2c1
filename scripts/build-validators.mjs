// Compile berth's JSON schemas (the Compose Specification from the installed
// dclint package, x-berth, berth.yaml) into standalone ajv validator code, so
// the CLI does not spend ~0.4 s compiling them on every run. Runs after tsc;
// the output lives in dist/ and is never committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv');
const standaloneCode = require('ajv/dist/standalone').default;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { allSchemas, AJV_OPTIONS } = await import(join(root, 'dist/src/compose/schema.js'));

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const schemas = allSchemas();
const refs = {};
for (const [name, schema] of Object.entries(schemas)) {
  ajv.addSchema(schema, name);
  refs[name] = name;
}
const out = join(root, 'dist/generated/validators.cjs');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, standaloneCode(ajv, refs));
console.log(`[build-validators] wrote ${out}`);
