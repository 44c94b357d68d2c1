// Bundle the CLI (dist/src/cli/main.js, built by tsc) into dist/bundle/ so
// `berth` starts from a handful of files instead of ~100 modules: module
// loading was a fifth of a no-op `berth plan`. Heavy libraries that only some
// commands need (dockerode, simple-git, pino, prom-client, chokidar) stay
// external and load lazily; ajv stays external because the precompiled
// validators (dist/generated) require its runtime.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
  logLevel: 'warning',
});
console.log('[bundle] wrote dist/bundle/main.js');
