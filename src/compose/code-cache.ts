import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/**
 * A CommonJS file run with a V8 code cache: the bytecode of its functions,
 * written next to it at build time after a warm-up run, so a short-lived
 * process does not parse and compile them again. Used for the generated
 * schema validators (450 KB of ajv code): compiling the Compose validator on
 * its first call was an eighth of `berth validate` on a 50-service stack.
 *
 * The cache names the source it was made from (its SHA-256) and V8 checks
 * its own version and flags; a cache that is missing, stale or refused
 * is ignored and the file compiles as usual, so nothing depends on it.
 */
const HASH_HEX = 64;

/** The module wrapper, the same for the build and the run: V8 only accepts a cache for identical source. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
}

/** Of the file's bytes, not of the decoded string: hashing a string would first encode it again. */
function sourceHash(fileBytes: Buffer): string {
  return createHash('sha256').update(fileBytes).digest('hex');
}

export function cachePathFor(file: string): string {
  return `${file}.v8cache`;
}

export function compile(file: string, source: string, cachedData: Buffer | undefined): Script {
  return new Script(wrap(source), { filename: file, cachedData });
}

export function run(script: Script, file: string): unknown {
  const module = { exports: {} as unknown };
  const fn = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: { exports: unknown }, f: string, d: string) => void;
  fn(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/** The bytes of a cache file for the file `fileBytes` compiled as `script` (after its warm-up): the file's hash, then V8's data. */
export function cacheFileBytes(fileBytes: Buffer, script: Script): Buffer {
  return Buffer.concat([Buffer.from(sourceHash(fileBytes), 'latin1'), script.createCachedData()]);
}

/** The cache beside `file` (whose bytes are `fileBytes`), or undefined when there is none or it was made from other bytes. */
function readCache(file: string, fileBytes: Buffer): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(cachePathFor(file));
  } catch {
    return undefined;
  }
  if (bytes.length <= HASH_HEX || bytes.toString('latin1', 0, HASH_HEX) !== sourceHash(fileBytes)) return undefined;
  return bytes.subarray(HASH_HEX);
}

/** Like require's module cache: a file runs once per process, every caller gets the same exports. */
const loaded = new Map<string, unknown>();

/**
 * `require(file)`, compiled from the code cache beside it when that cache
 * fits. scripts/build-validators.mjs writes the cache with compile, run and
 * cacheFileBytes from here.
 */
export function requireWithCodeCache(file: string): unknown {
  if (loaded.has(file)) return loaded.get(file);
  const fileBytes = readFileSync(file);
  const exports = run(compile(file, fileBytes.toString('utf8'), readCache(file, fileBytes)), file);
  loaded.set(file, exports);
  return exports;
}

/** For tests and the build: whether V8 takes the cache beside `file` (false: none, stale or refused). */
export function codeCacheAccepted(file: string): boolean {
  const fileBytes = readFileSync(file);
  const cached = readCache(file, fileBytes);
  if (!cached) return false;
  return !compile(file, fileBytes.toString('utf8'), cached).cachedDataRejected;
}
