import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv as AjvType, ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../model/errors.js';
import { BERTH_YAML_SCHEMA, X_BERTH_SCHEMA } from './berth-schema.js';
import { requireWithCodeCache } from './code-cache.js';
import type { PathSeg, YamlSource } from './yaml-source.js';

/**
 * Validation against the official Compose Specification schema (as shipped by
 * the maintained `dclint` package, resolved from the installed package so an
 * upgrade brings the current spec) and berth's own schemas.
 *
 * Compiling the Compose schema with ajv takes ~0.4 s, longer than a whole
 * no-op `berth plan` may take. `npm run build` therefore compiles the three
 * schemas once into standalone validator code (dist/generated/validators.cjs,
 * never committed, with a V8 code cache beside it: code-cache.ts); without it
 * (tests running from src/) they compile here.
 */
export interface Validators {
  compose: ValidateFunction;
  xBerth: ValidateFunction;
  berthYaml: ValidateFunction;
}

const require = createRequire(import.meta.url);

export function loadComposeSchema(): Record<string, unknown> {
  // dclint's package exports hide the schema path, so go through package.json.
  const pkgDir = dirname(require.resolve('dclint/package.json'));
  const schema = JSON.parse(readFileSync(join(pkgDir, 'schemas', 'compose.schema.json'), 'utf8')) as Record<string, unknown>;
  // ajv compiles draft-07 itself; the remote meta-schema URL and the relative
  // $id would only make it try to resolve things it cannot fetch.
  delete schema.$schema;
  delete schema.$id;
  return schema;
}

export const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true } as const;

/** The schemas by the name the generated module exports them under. */
export function allSchemas(): Record<keyof Validators, object> {
  return { compose: loadComposeSchema(), xBerth: X_BERTH_SCHEMA, berthYaml: BERTH_YAML_SCHEMA };
}

function precompiledPath(): string | null {
  // dist/src/compose/schema.js (tsc output) or dist/bundle/*.js (the bundled CLI) → dist/generated/validators.cjs
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, '..', '..', 'generated', 'validators.cjs'), join(here, '..', 'generated', 'validators.cjs')]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export function createValidators(): Validators {
  const pre = precompiledPath();
  if (pre) return requireWithCodeCache(pre) as Validators;
  return compileValidators();
}

export function compileValidators(): Validators {
  const { Ajv } = require('ajv') as { Ajv: new (o: object) => AjvType };
  const ajv = new Ajv(AJV_OPTIONS);
  const s = allSchemas();
  return { compose: ajv.compile(s.compose), xBerth: ajv.compile(s.xBerth), berthYaml: ajv.compile(s.berthYaml) };
}

/** Every property name a schema knows, for "did you mean" hints. */
function vocabulary(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((x) => vocabulary(x, into));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'properties' && v && typeof v === 'object') Object.keys(v).forEach((p) => into.add(p));
      vocabulary(v, into);
    }
  }
  return into;
}

const vocabCache = new Map<string, string[]>();

/** `what` names the schema (as in the messages); its vocabulary is read only when a hint is needed. */
function suggest(word: string, what: string): string | null {
  let vocab = vocabCache.get(what);
  if (!vocab) {
    const schemas = allSchemas();
    const schema = what === 'x-berth' ? schemas.xBerth : what === 'berth.yaml' ? schemas.berthYaml : schemas.compose;
    vocab = [...vocabulary(schema)];
    vocabCache.set(what, vocab);
  }
  let best: string | null = null;
  let bestD = Math.max(1, Math.min(2, Math.floor(word.length / 3)));
  for (const v of vocab) {
    const d = editDistance(word.toLowerCase(), v.toLowerCase());
    if (d <= bestD && v !== word) {
      if (d < bestD || best === null || v < best) best = v;
      bestD = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

export function schemaDiagnostics(
  validate: ValidateFunction,
  source: YamlSource,
  value: unknown,
  base: readonly PathSeg[],
  what: string,
): Diagnostic[] {
  if (validate(value)) return [];
  return condense(validate.errors ?? []).map((e) => {
    const rel = pointerToPath(e.instancePath, value);
    if (e.keyword === 'additionalProperties') {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty);
      const hint = suggest(prop, what);
      return source.diag('schema-unknown-key', [...base, ...rel, prop], `unknown key "${prop}": not part of ${what}${hint ? `; did you mean "${hint}"?` : ''}`, { key: true });
    }
    return source.diag('schema', [...base, ...rel], describe(e, e.instancePath === '' ? what : undefined));
  });
}

/**
 * ajv with `allErrors` reports every branch of every `oneOf`. People want the
 * one that matters. A type error at a place says "this should be another
 * kind of value"; when the same place (or something inside it) also failed a
 * branch that accepted its kind — an unknown key of a mapping, a pattern of a
 * string — that other error is the one to show. Type errors left at one place
 * merge into "must be a string or a mapping".
 */
function condense(errors: ErrorObject[]): ErrorObject[] {
  const meaningful = errors.filter((e) => !['oneOf', 'anyOf', 'if', 'then', 'else', 'not'].includes(e.keyword));
  const nonType = meaningful.filter((e) => e.keyword !== 'type').map((e) => e.instancePath);
  const explainedElsewhere = (p: string) => nonType.some((q) => q === p || q.startsWith(p + '/')) || meaningful.some((e) => e.keyword === 'type' && e.instancePath.startsWith(p + '/'));
  const out: ErrorObject[] = [];
  const typeAt = new Map<string, ErrorObject & { types: Set<string> }>();
  const seen = new Set<string>();
  for (const e of meaningful) {
    if (e.keyword === 'type') {
      if (explainedElsewhere(e.instancePath)) continue;
      const t = (e.params as { type: string | string[] }).type;
      const types = Array.isArray(t) ? t : String(t).split(',');
      const prev = typeAt.get(e.instancePath);
      if (prev) {
        types.forEach((x) => prev.types.add(x));
        continue;
      }
      const merged = { ...e, types: new Set(types) };
      typeAt.set(e.instancePath, merged);
      out.push(merged);
      continue;
    }
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

function describe(e: ErrorObject & { types?: Set<string> }, what?: string): string {
  const subject = what ? `${what}: ` : '';
  switch (e.keyword) {
    case 'type': {
      const names = [...(e.types ?? new Set([String((e.params as { type: string }).type)]))].map(typeName);
      return `${subject}must be ${joinOr([...new Set(names)])}`;
    }
    case 'enum':
      return `${subject}must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required':
      return `${subject}missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'pattern':
      return `${subject}has an invalid format (must match ${(e.params as { pattern: string }).pattern})`;
    case 'uniqueItems':
      return `${subject}must not contain duplicate items`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'minItems':
    case 'minLength':
    case 'maxItems':
      return `${subject}${e.message ?? 'is out of range'}`;
    case 'propertyNames':
      return `${subject}has an invalid key name`;
    default:
      return `${subject}${e.message ?? 'is invalid'}`;
  }
}

function typeName(t: string): string {
  switch (t) {
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    case 'integer':
      return 'an integer';
    case 'null':
      return 'empty';
    default:
      return `a ${t}`;
  }
}

function joinOr(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'valid';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** `/services/web/ports/0` → ['services','web','ports',0], using the value to tell list indices from keys. */
export function pointerToPath(pointer: string, root: unknown): PathSeg[] {
  if (pointer === '') return [];
  const out: PathSeg[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}
