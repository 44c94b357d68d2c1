import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../model/errors.js';
import { pathKey, type ComposeTag, type Origin } from './composite-source.js';
import { applyResets, mergeService } from './merge.js';
import { rebaseService } from './rebase.js';
import type { PathSeg, YamlSource } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One parsed, interpolated Compose file and the directory its relative paths mean something in. */
export interface ComposeFile {
  abs: string;
  source: YamlSource;
  /** Where its relative paths resolve: its own directory, or an include's `project_directory`. */
  dir: string;
  tags: ReadonlyMap<string, ComposeTag>;
}

/** Reads another Compose file of the repository (for `extends.file`), with the same variables; null when it cannot (already reported). */
export type OpenFile = (abs: string, from: ComposeFile, at: PathSeg[]) => ComposeFile | null;

/** A service definition after `extends`, with where each of its top-level keys (and merged sub-keys) was written. */
export interface ResolvedService {
  def: Obj;
  /** By path inside the service (pathKey); '' is the service itself. */
  origins: Map<string, Origin>;
}

/**
 * `extends` as Compose resolves it: the service named (in the same file, or
 * in `file:` relative to the extending file) is resolved first, its own
 * `extends` too, then the extending definition is merged over it with
 * Compose's merge rules (merge.ts). Relative paths of a service from
 * another directory are rewritten to mean the same from here. A cycle, a
 * missing service or file is an error at the `extends` that names it.
 */
export function resolveService(file: ComposeFile, name: string, open: OpenFile, out: Diagnostic[], chain: string[] = []): ResolvedService | null {
  const services = isObj(file.source.value) && isObj((file.source.value as Obj).services) ? ((file.source.value as Obj).services as Obj) : {};
  const def = services[name];
  if (!isObj(def)) return null;
  const at = (...p: PathSeg[]) => ['services', name, ...p];
  const tags = serviceTags(file.tags, name);
  const own = (rel: PathSeg[]): Origin => ({ source: file.source, path: at(...rel) });
  const origins = new Map<string, Origin>([['', own([])]]);
  for (const k of Object.keys(def)) origins.set(pathKey([k]), own([k]));

  const ext = def.extends;
  const { extends: _e, ...body } = def;
  if (ext === undefined) return { def: applyResets(body, tags), origins };

  const baseName = typeof ext === 'string' ? ext : isObj(ext) ? String(ext.service ?? '') : '';
  const extPath = typeof ext === 'string' ? at('extends') : at('extends', 'service');
  let baseFile = file;
  if (isObj(ext) && ext.file !== undefined) {
    const abs = resolve(file.dir, String(ext.file));
    const opened = abs === file.abs ? file : open(abs, file, at('extends', 'file'));
    if (!opened) return null;
    baseFile = opened;
  }
  const id = `${baseFile.abs}#${baseName}`;
  if (chain.includes(id) || (baseFile === file && baseName === name)) {
    out.push(file.source.diag('extends-cycle', extPath, `\`extends\` cycle: ${[...chain, `${file.abs}#${name}`, id].map((c) => c.split('#')[1]).join(' → ')}`));
    return null;
  }
  const baseServices = isObj(baseFile.source.value) && isObj((baseFile.source.value as Obj).services) ? ((baseFile.source.value as Obj).services as Obj) : {};
  if (!isObj(baseServices[baseName])) {
    const where = baseFile === file ? 'this file' : baseFile.source.file;
    out.push(file.source.diag('extends-unknown', extPath, `\`extends\` names service "${baseName}", which ${where} does not define`));
    return null;
  }
  const base = resolveService(baseFile, baseName, open, out, [...chain, `${file.abs}#${name}`]);
  if (!base) return null;
  const baseDef = rebaseService(base.def, baseFile.dir, file.dir);
  const merged = mergeService(baseDef, body, tags);

  // Origins: the base's, then this definition's keys over them.
  const mergedOrigins = new Map<string, Origin>([['', own([])]]);
  for (const [k, o] of base.origins) if (k !== '') mergedOrigins.set(k, o);
  for (const k of Object.keys(body)) {
    const bothMaps = isObj(baseDef[k]) && isObj(body[k]);
    if (!bothMaps) {
      for (const key of [...mergedOrigins.keys()]) if (key.startsWith(`${k}\u0000`)) mergedOrigins.delete(key);
    } else {
      // Sub-keys from the base stay located in the base; this file's own sub-keys here.
      for (const sub of Object.keys(baseDef[k] as Obj)) if (!mergedOrigins.has(pathKey([k, sub]))) mergedOrigins.set(pathKey([k, sub]), originIn(base.origins, [k, sub]));
      for (const sub of Object.keys(body[k] as Obj)) mergedOrigins.set(pathKey([k, sub]), own([k, sub]));
    }
    mergedOrigins.set(pathKey([k]), own([k]));
  }
  for (const k of [...mergedOrigins.keys()]) if (k !== '' && !(k.split('\u0000')[0]! in merged)) mergedOrigins.delete(k);
  return { def: merged, origins: mergedOrigins };
}

/** The deepest origin recorded for `path` (with the rest of the path appended). */
export function originIn(origins: ReadonlyMap<string, Origin>, path: PathSeg[]): Origin {
  for (let i = path.length; i >= 0; i--) {
    const o = origins.get(pathKey(path.slice(0, i)));
    if (o) return { source: o.source, path: [...o.path, ...path.slice(i)] };
  }
  throw new Error('a resolved service always has its own origin');
}

function serviceTags(tags: ReadonlyMap<string, ComposeTag>, name: string): Map<string, ComposeTag> {
  const prefix = `services\u0000${name}\u0000`;
  const out = new Map<string, ComposeTag>();
  for (const [k, t] of tags) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t);
  return out;
}

export function fileDir(abs: string): string {
  return dirname(abs);
}
