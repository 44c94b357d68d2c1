import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { formatPath } from '../model/errors.js';
import type { PathSeg, YamlSource } from './yaml-source.js';

/** Where a part of a composed Compose model was written: a file and the path in it. */
export interface Origin {
  source: YamlSource;
  path: PathSeg[];
}

export const pathKey = (p: readonly PathSeg[]): string => p.map(String).join('\u0000');

/**
 * One YamlSource over a stack composed of several files (`include`,
 * `extends` from other files): its value is the merged model, and a
 * diagnostic at a path of that model is located in the file, line and
 * column that wrote it — the deepest recorded origin covering the path —
 * so a mistake is reported where it is. Paths with no recorded origin are
 * the main file's own.
 */
export function compositeSource(main: YamlSource, value: unknown, origins: ReadonlyMap<string, Origin>): YamlSource {
  if (origins.size === 0) return { ...main, value };
  const resolve = (path: readonly PathSeg[]): { source: YamlSource; path: PathSeg[] } => {
    for (let i = path.length; i > 0; i--) {
      const o = origins.get(pathKey(path.slice(0, i)));
      if (o) return { source: o.source, path: [...o.path, ...path.slice(i)] };
    }
    return { source: main, path: [...path] };
  };
  return {
    file: main.file,
    doc: main.doc,
    plain: main.plain,
    value,
    locate(path, opts) {
      const r = resolve(path);
      return r.source.locate(r.path, opts);
    },
    diag(code, path, message, opts) {
      const r = resolve(path);
      const d = r.source.diag(code, r.path, message, opts);
      // The path stays the composed one: later steps (which service failed) read it.
      return r.source === main ? d : { ...d, path: formatPath(path) };
    },
  };
}

export type ComposeTag = '!reset' | '!override';

/**
 * Paths of mapping values tagged `!reset` or `!override` (Compose's merge
 * controls). The yaml library keeps an unknown tag on the node and reads the
 * value as if untagged, so the tags are collected from the document itself.
 */
export function composeTags(source: YamlSource): Map<string, ComposeTag> {
  const out = new Map<string, ComposeTag>();
  // The plain-subset reader refuses every tag: nothing to look for, and no document to build.
  if (source.plain) return out;
  const walk = (node: unknown, path: PathSeg[], depth: number) => {
    if (depth > 64 || !node) return;
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = isScalar(item.key) ? String(item.key.value) : null;
        if (k === null) continue;
        const v = item.value as Node | null;
        const tag = v && 'tag' in v ? (v as { tag?: string }).tag : undefined;
        if (tag === '!reset' || tag === '!override') out.set(pathKey([...path, k]), tag);
        walk(v, [...path, k], depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((it, i) => walk(it, [...path, i], depth + 1));
    }
  };
  walk(source.doc().contents, [], 0);
  return out;
}
