// Bundle the CLI (dist/src/cli/main.js, built by tsc) into dist/bundle/ so
// `berth` starts from a handful of files instead of ~100 modules: module
// loading was a fifth of a no-op `berth plan`. Heavy libraries that only some
// commands need (dockerode, simple-git, pino, prom-client, chokidar) stay
// external and load lazily; ajv stays external because the precompiled
// validators (dist/generated) require its runtime.
//
// The bundle is ES modules named .mjs; dist/bundle/main.js, what `berth` and
// the tests start, is a small CommonJS file (dist/bundle/package.json says
// so) that answers `berth --version` itself and otherwise imports main.mjs.
// Node starts a CommonJS file faster than an ES module, and the version needs
// neither commander nor the 130 KB of main.mjs: `berth --version` went from
// 1.8× to ~1.2× the CPU of `node -e 0`.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Chunk names carry content hashes: clear the old ones so dist/bundle holds one build.
rmSync(join(root, 'dist/bundle'), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist/src/cli/main.js')],
  outdir: join(root, 'dist/bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['dockerode', 'simple-git', 'pino', 'prom-client', 'chokidar', 'ajv'],
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
const { VERSION } = await import(join(root, 'dist/src/cli/version.js'));
writeFileSync(join(root, 'dist/bundle/package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync(
  join(root, 'dist/bundle/main.js'),
  `#!/usr/bin/env node
'use strict';
// Written by scripts/bundle.mjs: the start-up file of the bundled CLI.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(${JSON.stringify(VERSION + '\n')});
} else {
  import('./main.mjs').then(
    (m) => m.runAsProcess(argv),
    (e) => {
      process.stderr.write('berth: ' + (e && e.stack ? e.stack : String(e)) + '\\n');
      process.exit(1);
    },
  );
}
`,
  { mode: 0o755 },
);
console.log('[bundle] wrote dist/bundle/main.js and main.mjs');
