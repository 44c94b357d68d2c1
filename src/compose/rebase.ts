import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isWindowsAbsolute } from './mounts.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A service definition written in `fromDir` (an extended file, an included
 * project directory) with its relative paths rewritten to mean the same
 * from `toDir`, the directory the stack's paths are resolved against: the
 * env_file of an extended service is its file's neighbour, as in Compose.
 */
export function rebaseService(def: Obj, fromDir: string, toDir: string): Obj {
  if (fromDir === toDir) return def;
  const p = (s: string) => rebasePath(s, fromDir, toDir);
  const out: Obj = { ...def };
  if (def.env_file !== undefined) out.env_file = mapList(def.env_file, (e) => (isObj(e) ? { ...e, path: p(String(e.path)) } : p(String(e))));
  if (def.label_file !== undefined) out.label_file = mapList(def.label_file, (e) => p(String(e)));
  if (Array.isArray(def.volumes)) {
    out.volumes = def.volumes.map((v) => {
      if (typeof v === 'string') {
        const colon = v.indexOf(':');
        const src = colon < 0 ? '' : v.slice(0, colon);
        return src.startsWith('.') ? `${p(src)}${v.slice(colon)}` : v;
      }
      if (isObj(v) && v.type === 'bind' && typeof v.source === 'string') return { ...v, source: p(v.source) };
      return v;
    });
  }
  if (typeof def.build === 'string') out.build = p(def.build);
  else if (isObj(def.build) && typeof def.build.context === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(def.build.context)) out.build = { ...def.build, context: p(def.build.context) };
  return out;
}

/** Top-level `secrets:` / `configs:` of an included file: their `file:` paths. */
export function rebaseFileDecls(decls: unknown, fromDir: string, toDir: string): unknown {
  if (!isObj(decls) || fromDir === toDir) return decls;
  return Object.fromEntries(Object.entries(decls).map(([k, d]) => [k, isObj(d) && typeof d.file === 'string' ? { ...d, file: rebasePath(d.file, fromDir, toDir) } : d]));
}

export function rebasePath(s: string, fromDir: string, toDir: string): string {
  if (s === '' || isAbsolute(s) || s.startsWith('~') || isWindowsAbsolute(s) || s.includes('${')) return s;
  const rel = relative(toDir, resolve(fromDir, s)).split(sep).join('/');
  if (rel === '') return '.';
  return rel.startsWith('..') ? rel : `./${rel}`;
}

function mapList(v: unknown, f: (x: unknown) => unknown): unknown {
  return Array.isArray(v) ? v.map(f) : f(v);
}
