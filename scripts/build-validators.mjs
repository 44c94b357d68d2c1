// Compile berth's JSON schemas (the Compose Specification from the installed
// dclint package, x-berth, berth.yaml) into standalone ajv validator code, so
// the CLI does not spend ~0.4 s compiling them on every run. Runs after tsc;
// the output lives in dist/ and is never committed.
//
// Then a V8 code cache of that file (dist/generated/validators.cjs.v8cache,
// see src/compose/code-cache.ts): the validators are run once on the example
// repository's Compose files so the bytecode of what a load calls is in it.
// The CLI compiles the file without it when it is missing, stale or refused.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const { parse } = require('yaml');
const { compile, run, cacheFileBytes, cachePathFor, codeCacheAccepted } = await import(join(root, 'dist/src/compose/code-cache.js'));
const fileBytes = readFileSync(out);
const script = compile(out, fileBytes.toString('utf8'), undefined);
const validators = run(script, out);
const stacks = join(root, 'desired-state', 'stacks');
for (const stack of readdirSync(stacks)) {
  for (const name of readdirSync(join(stacks, stack)).filter((n) => /^(docker-)?compose\.ya?ml$/.test(n))) {
    validators.compose(parse(readFileSync(join(stacks, stack, name), 'utf8')));
  }
}
validators.xBerth({});
validators.berthYaml({});
const bytes = cacheFileBytes(fileBytes, script);
writeFileSync(cachePathFor(out), bytes);
// A cache this node refuses helps no one: say so at build time rather than be silently slow (not an error: the CLI works without it).
if (!codeCacheAccepted(out)) console.warn('[build-validators] WARNING: V8 refuses the code cache it just wrote; the CLI will compile the validators on each run');
console.log(`[build-validators] wrote ${cachePathFor(out)} (${(bytes.length / 1024).toFixed(0)} KiB)`);
