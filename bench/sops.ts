// SOPS decryption cost (issue 16): loading a stack whose 20 `secrets:` files
// are SOPS files (the ../shared/sops-vectors files: YAML, JSON, binary, INI,
// five data keys) against the same stack with the files in plaintext. Loading
// is the whole difference a no-op plan sees: observing Docker and planning do
// not depend on whether a file was encrypted. Cold = a fresh keyring, as each
// `berth plan` process has (age unwrap of every data key); warm = the keyring
// `berth run` keeps between passes.
//
//   npm run build && node dist/bench/sops.js [runs]   (also part of `npm run bench`)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadDesiredState } from '../src/compose/load.js';
import { loadDesiredStateWithSecrets } from '../src/compose/load-secrets.js';
import { createValidators } from '../src/compose/schema.js';
import { decryptSopsFile } from '../src/secrets/decrypt-file.js';
import { SopsKeyring } from '../src/secrets/keyring.js';
import type { SopsPart } from './report-model.js';

const RUNS = Number(process.argv[2] ?? 7);
const FILES = 20;
const here = dirname(new URL(import.meta.url).pathname);
const root = [resolve(here, '..', '..'), resolve(here, '..')].find((r) => existsSync(join(r, 'package.json')))!;
const vectors = ['../shared/sops-vectors', '../../shared/sops-vectors'].map((p) => resolve(root, p)).find((p) => existsSync(p));
if (!vectors) throw new Error('../shared/sops-vectors not found');
const names = ['secrets.enc.yaml', 'secrets.enc.json', 'binary.enc.txt', 'secrets.enc.ini', 'minimal.enc.yaml'];
const ids = readFileSync(join(vectors!, 'keys.txt'), 'utf8').split('\n').filter((l) => l.startsWith('AGE-SECRET-KEY-'));

/** The encrypted stack: 20 secrets, cycling through the five vectors (each keeps its extension, so its store). */
function encryptedRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-sops-'));
  const stack = join(dir, 'stacks', 's');
  mkdirSync(stack, { recursive: true });
  const decls: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const src = names[i % names.length]!;
    const name = `s${i}${src.slice(src.lastIndexOf('.'))}`;
    writeFileSync(join(stack, name), readFileSync(join(vectors!, src)));
    decls.push(`  s${i}: {file: ./${name}}`);
  }
  const refs = Array.from({ length: FILES }, (_, i) => `s${i}`).join(', ');
  writeFileSync(join(stack, 'compose.yaml'), `services:\n  app:\n    image: berth-test/busybox:1\n    secrets: [${refs}]\nsecrets:\n${decls.join('\n')}\n`);
  return dir;
}

async function plainBytes(name: string, bytes: Buffer): Promise<Buffer> {
  const k = new SopsKeyring(ids);
  decryptSopsFile(name, bytes, k);
  await k.unwrapPending();
  const r = decryptSopsFile(name, bytes, k);
  if (r.kind !== 'decrypted') throw new Error(`${name} does not decrypt`);
  return r.plaintext;
}

async function main(): Promise<void> {
  const enc = encryptedRepo();
  // The plaintext twin: same file names, decrypted contents.
  const plain = mkdtempSync(join(tmpdir(), 'berth-bench-plain-'));
  mkdirSync(join(plain, 'stacks', 's'), { recursive: true });
  writeFileSync(join(plain, 'stacks', 's', 'compose.yaml'), readFileSync(join(enc, 'stacks', 's', 'compose.yaml')));
  for (let i = 0; i < FILES; i++) {
    const src = names[i % names.length]!;
    const name = `s${i}${src.slice(src.lastIndexOf('.'))}`;
    writeFileSync(join(plain, 'stacks', 's', name), await plainBytes(name, readFileSync(join(enc, 'stacks', 's', name))));
  }
  const validators = createValidators();
  const ctx = (keyring: SopsKeyring) => ({ env: {}, validators, secrets: { keyring, salt: 'bench', materialDir: '/run/berth/bench' } });
  const time = async (f: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await f();
      xs.push(performance.now() - t);
    }
    xs.sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  };
  const check = (r: { state: unknown; diagnostics: { severity: string; message: string }[] }) => {
    if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  };
  await time(async () => check(loadDesiredState(plain, { env: {}, validators })));
  const plainMs = await time(async () => check(loadDesiredState(plain, { env: {}, validators })));
  const coldMs = await time(async () => check(await loadDesiredStateWithSecrets(enc, ctx(new SopsKeyring(ids)))));
  const warm = new SopsKeyring(ids);
  check(await loadDesiredStateWithSecrets(enc, ctx(warm)));
  const warmMs = await time(async () => check(await loadDesiredStateWithSecrets(enc, ctx(warm))));
  const f = (n: number) => `${n.toFixed(1)} ms`;
  const markdown = [
    '## SOPS decryption cost (issue 16)',
    '',
    `A stack whose ${FILES} \`secrets:\` files are SOPS files (the ../shared/sops-vectors files: YAML, JSON, binary, INI; five data keys), loaded as a no-op plan loads it, ` +
      'against the same stack with the files in plaintext. Loading is the whole difference a no-op plan sees: observing Docker and planning do not depend on whether a file was encrypted. ' +
      `Median of ${RUNS} loads each; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    '| load | median | extra over plaintext |',
    '|---|---:|---:|',
    `| plaintext files | ${f(plainMs)} | – |`,
    `| SOPS files, cold keyring (each \`berth plan\` process: age unwrap of every data key) | ${f(coldMs)} | +${f(coldMs - plainMs)} |`,
    `| SOPS files, warm keyring (\`berth run\` keeps the data keys between passes) | ${f(warmMs)} | +${f(warmMs - plainMs)} |`,
    '',
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  const part: SopsPart = { section: 'sops', date: new Date().toISOString(), markdown, targets: [], settings: { files: FILES, runs: RUNS }, medians: { plainMs, coldMs, warmMs } };
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2));
  for (const d of [enc, plain]) rmSync(d, { recursive: true, force: true });
}

await main();
