import type { Diagnostic } from '../model/errors.js';
import { composeTags } from './composite-source.js';
import { parseDotenv } from './dotenv.js';
import type { ComposeFile } from './extends.js';
import { composeStack } from './include.js';
import type { Lookup } from './interpolate.js';
import { interpolateTree } from './interpolate-tree.js';
import { schemaDiagnostics, type Validators } from './schema.js';
import type { YamlSource } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The file reading behind `include` and `extends` for one stack: each
 * other file is read like the main one (inside the repository only,
 * interpolated with its own variables, checked against the Compose schema
 * in its own right, so its mistakes are reported in it). A stack without
 * `include`, `extends` or merge tags is returned as it is.
 */
export function composeStackFiles(
  raw: YamlSource,
  entry: { dir: string; file: string },
  lookup: Lookup,
  env: Record<string, string | undefined>,
  validators: Validators,
  parseFile: (abs: string) => YamlSource | null,
  readRepoFile: (abs: string) => { text: string } | { error: Diagnostic },
  rel: (abs: string) => string,
  out: Diagnostic[],
  /** Filled with the variables of the include that brought each `secrets:`/`configs:` declaration. */
  declLookups?: Map<string, Lookup>,
): YamlSource {
  const tags = composeTags(raw);
  if (!needsComposition(raw.value) && tags.size === 0) return raw;
  const main: ComposeFile = { abs: entry.file, source: raw, dir: entry.dir, tags };
  const cache = new Map<string, YamlSource | null>();
  const composed = composeStack(
    main,
    {
      read(abs, fileLookup, dir) {
        let parsed = cache.get(abs);
        if (parsed === undefined) {
          parsed = parseFile(abs);
          cache.set(abs, parsed);
        }
        if (!parsed) return null;
        const it = interpolateTree(parsed, fileLookup);
        out.push(...it.diagnostics);
        const source: YamlSource = { ...parsed, value: it.value };
        if (!isObj(source.value)) return null;
        out.push(...schemaDiagnostics(validators.compose, source, source.value, [], 'the Compose Specification'));
        return { abs, source, dir, tags: composeTags(parsed) };
      },
      lookupFor(envFiles) {
        const values: Record<string, string> = {};
        for (const f of envFiles) {
          const read = readRepoFile(f);
          if ('error' in read) {
            out.push(read.error);
            continue;
          }
          const parsed = parseDotenv(read.text, (n) => env[n] ?? values[n]);
          for (const e of parsed.errors) out.push({ severity: 'error', code: 'dotenv', file: rel(f), line: e.line, col: e.col, path: '', message: e.message });
          Object.assign(values, parsed.values);
        }
        // No env_file named: the included project sees the process environment and the including stack's variables.
        return envFiles.length === 0 ? lookup : (n) => env[n] ?? values[n];
      },
    },
    out,
  );
  for (const [k, l] of composed.declLookups) declLookups?.set(k, l);
  return composed.source;
}

function needsComposition(value: unknown): boolean {
  if (!isObj(value)) return false;
  if (value.include !== undefined) return true;
  const services = value.services;
  return isObj(services) && Object.values(services).some((s) => isObj(s) && s.extends !== undefined);
}
