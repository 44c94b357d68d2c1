import { existsSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../model/errors.js';
import { compositeSource, pathKey, type Origin } from './composite-source.js';
import { resolveService, type ComposeFile, type OpenFile } from './extends.js';
import type { Lookup } from './interpolate.js';
import { canonicalJson } from './hash.js';
import { rebaseFileDecls, rebaseService } from './rebase.js';
import type { PathSeg, YamlSource } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const SECTIONS = ['networks', 'volumes', 'secrets', 'configs'] as const;

/** How composition reads files: parsed, interpolated with the given variables, schema-checked, located. */
export interface ComposeIo {
  /** A Compose file of the repository, interpolated with `lookup`; null when it cannot be read (reported). */
  read(abs: string, lookup: Lookup, dir: string): ComposeFile | null;
  /** Variables of `env_file`s named by an include (and the process environment first). */
  lookupFor(envFiles: string[]): Lookup;
}

export interface Composed {
  source: YamlSource;
  /** Every other file the stack is made of (repo-relative), for the plan's provenance. */
  files: string[];
  /** The variables of the include that brought each `secrets:`/`configs:` declaration (key `section\0name`), for `environment:` ones. */
  declLookups: Map<string, Lookup>;
}

/**
 * The stack's Compose model as `docker compose` assembles it from its main
 * file: `include`d projects first (short form `- path`, or long form with
 * `path` (one file or several merged), `project_directory`, `env_file`),
 * their services part of this stack; then `extends` of every service. A
 * service, network, volume, secret or config that an include brings and
 * the stack already has differently is an error (Compose refuses such
 * conflicts). Diagnostics of the result are located in the file that wrote
 * the part in question.
 */
export function composeStack(main: ComposeFile, io: ComposeIo, out: Diagnostic[]): Composed {
  const files = new Set<string>();
  const value = isObj(main.source.value) ? { ...(main.source.value as Obj) } : {};
  const origins = new Map<string, Origin>();
  const open: OpenFile = (abs, from, at) => {
    if (!existsSync(abs)) {
      out.push(from.source.diag('extends-file', at, `\`extends\` file not found: ${relative(from.dir, abs).split(sep).join('/')}`));
      return null;
    }
    const f = io.read(abs, lookupOf(from), dirname(abs));
    if (f) files.add(f.source.file);
    return f;
  };
  const lookups = new WeakMap<ComposeFile, Lookup>();
  const lookupOf = (f: ComposeFile): Lookup => lookups.get(f) ?? io.lookupFor([]);
  const declLookups = new Map<string, Lookup>();

  const services: Obj = {};
  const put = (f: ComposeFile, toDir: string, prefix: string[]) => {
    const svcs = isObj(f.source.value) && isObj((f.source.value as Obj).services) ? ((f.source.value as Obj).services as Obj) : {};
    for (const name of Object.keys(svcs)) {
      if (!isObj(svcs[name])) {
        services[name] = svcs[name];
        continue;
      }
      const r = resolveService(f, name, open, out);
      if (!r) continue;
      if (name in services) {
        out.push(f.source.diag('include-conflict', ['services', name], `service "${name}" is defined twice: ${prefix.length > 0 ? 'by an included file and ' : ''}in ${f.source.file}; Compose refuses such a conflict`, { key: true }));
        continue;
      }
      services[name] = rebaseService(r.def, f.dir, toDir);
      for (const [k, o] of r.origins) origins.set(pathKey(['services', name, ...(k === '' ? [] : k.split('\u0000'))]), o);
    }
  };

  const includeStack: string[] = [main.abs];
  const include = (from: ComposeFile, toDir: string) => {
    const entries = isObj(from.source.value) ? (from.source.value as Obj).include : undefined;
    if (!Array.isArray(entries)) return;
    entries.forEach((entry, i) => {
      const at: PathSeg[] = ['include', i];
      const paths = typeof entry === 'string' ? [entry] : isObj(entry) ? (Array.isArray(entry.path) ? entry.path.map(String) : [String(entry.path ?? '')]) : [];
      if (paths.length === 0 || paths[0] === '') return; // the schema reports it
      const first = resolve(from.dir, paths[0]!);
      const projectDir = isObj(entry) && entry.project_directory !== undefined ? resolve(from.dir, String(entry.project_directory)) : dirname(first);
      const envFiles = isObj(entry) && entry.env_file !== undefined ? (Array.isArray(entry.env_file) ? entry.env_file : [entry.env_file]).map((e) => resolve(from.dir, String(e))) : [resolve(projectDir, '.env')].filter((p) => existsSync(p));
      const missingEnv = envFiles.find((e) => !existsSync(e));
      if (missingEnv) {
        out.push(from.source.diag('include-env-file', isObj(entry) ? [...at, 'env_file'] : at, `include env_file not found: ${relative(from.dir, missingEnv).split(sep).join('/')}`));
        return;
      }
      const lookup = io.lookupFor(envFiles);
      const layers: ComposeFile[] = [];
      for (const [j, p] of paths.entries()) {
        const abs = resolve(from.dir, p);
        const loc = typeof entry === 'string' ? at : Array.isArray((entry as Obj).path) ? [...at, 'path', j] : [...at, 'path'];
        if (includeStack.includes(abs)) {
          out.push(from.source.diag('include-cycle', loc, `include cycle: ${[...includeStack, abs].map((f) => relative(main.dir, f).split(sep).join('/')).join(' → ')}`));
          return;
        }
        if (!existsSync(abs)) {
          out.push(from.source.diag('include-not-found', loc, `included file not found: ${p}`));
          return;
        }
        const f = io.read(abs, lookup, projectDir);
        if (!f) return;
        lookups.set(f, lookup);
        files.add(f.source.file);
        layers.push(f);
      }
      for (const f of layers) {
        includeStack.push(f.abs);
        include(f, toDir);
        includeStack.pop();
      }
      // Several paths: later files override earlier ones, service by service and key by key.
      for (const [j, f] of layers.entries()) {
        if (j === 0) put(f, toDir, ['include']);
        else overlay(f, toDir);
        for (const section of SECTIONS) {
          const added = mergeSection(section, rebaseFileDecls((f.source.value as Obj)[section], f.dir, toDir), f, value, origins, out);
          if (section === 'secrets' || section === 'configs') for (const k of added) declLookups.set(`${section}\0${k}`, lookup);
        }
      }
    });
  };
  const overlay = (f: ComposeFile, toDir: string) => {
    const svcs = isObj((f.source.value as Obj).services) ? ((f.source.value as Obj).services as Obj) : {};
    for (const name of Object.keys(svcs)) {
      const r = resolveService(f, name, open, out);
      if (!r) continue;
      const def = rebaseService(r.def, f.dir, toDir);
      services[name] = isObj(services[name]) ? { ...(services[name] as Obj), ...def } : def;
      for (const [k, o] of r.origins) if (k !== '') origins.set(pathKey(['services', name, ...k.split('\u0000')]), o);
    }
  };

  include(main, main.dir);
  // The main file's own services come last: an include must not redefine them.
  put(main, main.dir, []);
  value.services = services;
  delete value.include;
  return { source: compositeSource(main.source, value, origins), files: [...files].sort(), declLookups };
}

/** An included file's networks/volumes/secrets/configs join the stack's; the same name with another definition is a conflict. Returns the names it added. */
function mergeSection(section: (typeof SECTIONS)[number], decls: unknown, f: ComposeFile, value: Obj, origins: Map<string, Origin>, out: Diagnostic[]): string[] {
  const added: string[] = [];
  if (!isObj(decls)) return added;
  const target = isObj(value[section]) ? { ...(value[section] as Obj) } : {};
  for (const [k, d] of Object.entries(decls)) {
    if (k in target) {
      if (canonicalJson(target[k]) !== canonicalJson(d)) {
        out.push(f.source.diag('include-conflict', [section, k], `${section.slice(0, -1)} "${k}" is also defined, differently, by the including file; Compose refuses such a conflict`, { key: true }));
      }
      continue;
    }
    target[k] = d;
    added.push(k);
    origins.set(pathKey([section, k]), { source: f.source, path: [section, k] });
  }
  value[section] = target;
  return added;
}
