import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheFileBytes, cachePathFor, codeCacheAccepted, compile, requireWithCodeCache, run } from '../../src/compose/code-cache.js';

/**
 * The code cache beside a CommonJS file is used when it was made from that
 * very source by this V8, and ignored otherwise — the file then runs as if
 * there were no cache.
 */
const dir = mkdtempSync(join(tmpdir(), 'berth-code-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A new module file (the loader keeps each file's exports, as require does); its cache written as the build writes it. */
function moduleWithCache(source: string, cacheSource = source): string {
  const file = join(dir, `m${n++}.cjs`);
  writeFileSync(file, cacheSource);
  const script = compile(file, cacheSource, undefined);
  (run(script, file) as { answer: () => number }).answer();
  writeFileSync(cachePathFor(file), cacheFileBytes(Buffer.from(cacheSource), script));
  writeFileSync(file, source);
  return file;
}

const SOURCE = "const path = require('node:path'); exports.answer = () => 42; exports.sep = path.sep; exports.file = __filename;";

describe('requireWithCodeCache', () => {
  it('runs the file with its cache: exports, require and __filename as in CommonJS; the same exports on a second call', () => {
    const file = moduleWithCache(SOURCE);
    expect(codeCacheAccepted(file)).toBe(true);
    const m = requireWithCodeCache(file) as { answer: () => number; sep: string; file: string };
    expect(m.answer()).toBe(42);
    expect(m.sep).toBe('/');
    expect(m.file).toBe(file);
    expect(requireWithCodeCache(file)).toBe(m);
  });

  it('ignores a cache made from other source of the same length, and runs the new source', () => {
    const file = moduleWithCache(SOURCE.replace('42', '43'), SOURCE);
    expect(codeCacheAccepted(file)).toBe(false);
    expect((requireWithCodeCache(file) as { answer: () => number }).answer()).toBe(43);
  });

  it('ignores a damaged or missing cache', () => {
    const damaged = moduleWithCache(SOURCE);
    writeFileSync(cachePathFor(damaged), 'x'.repeat(200));
    expect(codeCacheAccepted(damaged)).toBe(false);
    expect((requireWithCodeCache(damaged) as { answer: () => number }).answer()).toBe(42);
    const missing = moduleWithCache(SOURCE);
    rmSync(cachePathFor(missing));
    expect(codeCacheAccepted(missing)).toBe(false);
    expect((requireWithCodeCache(missing) as { answer: () => number }).answer()).toBe(42);
  });

  const built = join(import.meta.dirname, '..', '..', 'dist', 'generated', 'validators.cjs');
  it.skipIf(!existsSync(built))('npm run build leaves a cache V8 takes beside the generated validators', () => {
    expect(codeCacheAccepted(built)).toBe(true);
  });
});
