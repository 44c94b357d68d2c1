// Bundle the CLI (dist/src/cli/main.js, built by tsc) into one CommonJS file,
// dist/bundle/main.cjs, run from a V8 code cache. Heavy libraries that only
// some commands need (dockerode, simple-git, pino, prom-client, chokidar) stay
// external and load lazily; ajv stays external because the precompiled
// validators (dist/generated) require its runtime.
//
// dist/bundle/main.js, what `berth` and the tests start, is a small CommonJS
// file that answers `berth --version` itself and otherwise runs main.cjs with
// the bytecode V8 wrote for it at build time (main.cjs.v8cache), after a
// warm-up run of `berth validate` and `berth lint` on desired-state/: a
// short-lived process then neither parses nor compiles the functions a pass
// runs. Why one CommonJS file and not the ES module chunks of before: Node 20
// has no code cache for ES modules, and compiling them was the largest single
// cost of `berth validate` on a 50-service stack (15 ms of ~100 ms of berth's
// own time). The bundle is minified (whitespace and syntax, names kept) and
// ASCII only: one non-ASCII character makes V8 hold all 1 MB as a two-byte
// string, in every `berth run` for its lifetime.
//
// The cache names the bundle it was made from (its SHA-256, written into
// main.js); V8 checks its own version and flags. A cache that is missing,
// stale or refused is ignored and main.cjs compiles as usual.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/bundle');
rmSync(out, { recursive: true, force: true });
const bundle = join(out, 'main.cjs');
await build({
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outfile: bundle,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['dockerode', 'simple-git', 'pino', 'prom-client', 'chokidar', 'ajv'],
  // Lazy loads of the external libraries become require() calls (all of them ship CommonJS).
  supported: { 'dynamic-import': false },
  // The modules find files beside themselves (the generated validators) by import.meta.url.
  define: { 'import.meta.url': '__berthImportMetaUrl' },
  banner: { js: "var __berthImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  logLevel: 'warning',
});
// main.ts's hashbang would be a syntax error inside the wrapper; main.js is the executable.
const built = readFileSync(bundle, 'latin1');
writeFileSync(bundle, built.startsWith('#!') ? built.slice(built.indexOf('\n') + 1) : built, 'latin1');
const bytes = readFileSync(bundle);
if (bytes.some((b) => b > 0x7f)) throw new Error('dist/bundle/main.cjs has non-ASCII bytes: escape them in the source (see the header of scripts/bundle.mjs)');
const hash = createHash('sha256').update(bytes).digest('hex');

// The same wrapper as in main.js: V8 takes a cache only for the identical source.
const wrap = (source) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
const script = new Script(wrap(bytes.toString('latin1')), { filename: bundle });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, out);
const quiet = { out: () => undefined, err: () => undefined, env: { ...process.env, NO_COLOR: '1' }, isTTY: false };
const repo = join(root, 'desired-state');
for (const argv of [['validate', '--repo', repo], ['lint', '--repo', repo]]) await module.exports.main(argv, quiet);
writeFileSync(`${bundle}.v8cache`, Buffer.concat([Buffer.from(hash, 'latin1'), script.createCachedData()]));

const { VERSION } = await import(join(root, 'dist/src/cli/version.js'));
writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync(
  join(out, 'main.js'),
  `#!/usr/bin/env node
'use strict';
// Written by scripts/bundle.mjs: the start-up file of the bundled CLI.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(${JSON.stringify(VERSION + '\n')});
} else {
  let cli;
  try {
    const { readFileSync } = require('node:fs');
    const { join } = require('node:path');
    const { Script } = require('node:vm');
    const file = join(__dirname, 'main.cjs');
    let cachedData;
    try {
      const cache = readFileSync(file + '.v8cache');
      if (cache.toString('latin1', 0, 64) === ${JSON.stringify(hash)}) cachedData = cache.subarray(64);
    } catch {}
    const script = new Script('(function (exports, require, module, __filename, __dirname) {' + readFileSync(file, 'latin1') + '\\n})', { filename: file, cachedData });
    const module = { exports: {} };
    script.runInThisContext()(module.exports, require('node:module').createRequire(file), module, file, __dirname);
    cli = module.exports;
  } catch (e) {
    process.stderr.write('berth: ' + (e && e.stack ? e.stack : String(e)) + '\\n');
    process.exit(1);
  }
  cli.runAsProcess(argv);
}
`,
  { mode: 0o755 },
);
console.log('[bundle] wrote dist/bundle/main.js, main.cjs and its code cache');
