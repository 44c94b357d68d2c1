import { Document, LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Node, type Pair } from 'yaml';
import type { Diagnostic } from '../model/errors.js';
import { formatPath } from '../model/errors.js';
import { parsePlainYaml, type PlainPos, type PlainPositions } from './yaml-plain.js';

/** Larger files are refused: a Compose file is hand-written, not a data dump. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type PathSeg = string | number;

/**
 * A parsed YAML file that can answer "where is this key path?" so that every
 * diagnostic, including ones found long after parsing (schema, references,
 * cycles), points at FILE:LINE:COL.
 */
export interface YamlSource {
  file: string;
  /**
   * The library's document (nodes with ranges, tags, comments). A file in the
   * plain subset (yaml-plain.ts) is read without it; it is parsed on the first
   * call, which only locating a diagnostic and a few checks of written text need.
   */
  doc(): Document.Parsed;
  /** Read by the plain-subset reader: no anchors, aliases, tags or block scalars in it. */
  plain: boolean;
  /** Plain JS value, with anchors, aliases and `<<` merge keys resolved. */
  value: unknown;
  locate(path: readonly PathSeg[], opts?: { key?: boolean }): { line: number; col: number };
  diag(code: string, path: readonly PathSeg[], message: string, opts?: { key?: boolean; severity?: 'error' | 'warning' }): Diagnostic;
}

/** Decode strictly: a Compose file that is not UTF-8 is an error, not mojibake. */
export function decodeUtf8(file: string, bytes: Uint8Array): { text: string } | { error: Diagnostic } {
  if (bytes.byteLength > MAX_FILE_BYTES) {
    return {
      error: fileDiag(file, 'file-too-large', `file is ${bytes.byteLength} bytes; berth reads files up to ${MAX_FILE_BYTES} bytes`),
    };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    const at = firstInvalidUtf8(bytes);
    return { error: { ...fileDiag(file, 'not-utf8', 'file is not valid UTF-8'), line: at.line, col: at.col } };
  }
}

function firstInvalidUtf8(bytes: Uint8Array): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >> 5 === 0b110 ? 2 : b >> 4 === 0b1110 ? 3 : b >> 3 === 0b11110 ? 4 : 0;
    if (len === 0) return { line, col };
    for (let k = 1; k < len; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return { line, col };
    if (b === 0x0a) {
      line++;
      col = 1;
    } else col++;
    i += len;
  }
  return { line, col };
}

export function fileDiag(file: string, code: string, message: string): Diagnostic {
  return { severity: 'error', code, file, line: 0, col: 0, path: '', message };
}

const PARSE_OPTIONS = {
  merge: true,
  // The library checks each key against every earlier key of its mapping,
  // quadratic in the size of a mapping: most of the time of a
  // 10,000-service file. duplicateKeyOffsets does the same check in one pass.
  uniqueKeys: false,
  prettyErrors: false,
  strict: true,
  // Warnings (e.g. a mapping used as a key) would go to process.emitWarning,
  // i.e. raw to stderr; what matters about such a file is reported as a diagnostic.
  logLevel: 'error',
} as const;

export function parseYaml(file: string, text: string): { source: YamlSource | null; diagnostics: Diagnostic[] } {
  // The plain subset gives the value the library would, without building its document;
  // anything else (and every error) goes through the library, which explains it.
  const plain = parsePlainYaml(text);
  if (plain) {
    let parsed: { doc: Document.Parsed; lineCounter: LineCounter } | null = null;
    const lazy = () => {
      if (!parsed) {
        const lineCounter = new LineCounter();
        parsed = { doc: parseDocument(text, { ...PARSE_OPTIONS, lineCounter }), lineCounter };
      }
      return parsed;
    };
    const source = yamlSource(file, plain.value, true, () => lazy().doc, (offset) => lazy().lineCounter.linePos(offset), (path, key) => locatePlain(plain, path, key));
    return { source, diagnostics: [] };
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  const diagnostics: Diagnostic[] = [];
  if (doc.errors.some((e) => STACK_OVERFLOW.test(e.message))) {
    return { source: null, diagnostics: [tooDeep(file, text, lineCounter)] };
  }
  for (const offset of duplicateKeyOffsets(doc)) {
    const pos = lineCounter.linePos(offset);
    diagnostics.push({ severity: 'error', code: 'yaml-duplicate-key', file, line: pos.line, col: pos.col, path: '', message: 'duplicate key: map keys must be unique' });
  }
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    diagnostics.push({
      severity: 'error',
      code: e.code === 'DUPLICATE_KEY' ? 'yaml-duplicate-key' : 'yaml-syntax',
      file,
      line: pos.line,
      col: pos.col,
      path: '',
      message: yamlMessage(e.code, e.message),
    });
  }
  if (diagnostics.length > 0) return { source: null, diagnostics };
  for (const a of recursiveAliases(doc)) {
    const pos = lineCounter.linePos(a.offset);
    diagnostics.push({
      severity: 'error',
      code: 'yaml-syntax',
      file,
      line: pos.line,
      col: pos.col,
      path: '',
      message: `alias *${a.name} is inside the node it refers to: a recursive structure has no end and cannot be a Compose file`,
    });
  }
  if (diagnostics.length > 0) return { source: null, diagnostics };

  let value: unknown;
  try {
    // Bounded alias expansion guards against "billion laughs" documents while
    // leaving room for real files that reuse anchors a lot.
    value = doc.toJS({ maxAliasCount: 10_000 });
  } catch (e) {
    const message = (e as Error).message;
    if (STACK_OVERFLOW.test(message)) return { source: null, diagnostics: [tooDeep(file, text, lineCounter)] };
    const offset = aliasProblemOffset(doc, message);
    const where = offset === null ? { line: 0, col: 0 } : lineCounter.linePos(offset);
    diagnostics.push({ ...fileDiag(file, 'yaml-syntax', `cannot resolve YAML aliases: ${message}`), ...where });
    return { source: null, diagnostics };
  }
  return { source: yamlSource(file, value, false, () => doc, (offset) => lineCounter.linePos(offset)), diagnostics };
}

function yamlSource(
  file: string,
  value: unknown,
  plain: boolean,
  doc: () => Document.Parsed,
  linePos: (offset: number) => { line: number; col: number },
  /** The plain reader's own positions: what it knows saves parsing the document (lint locates every finding). */
  known: (path: readonly PathSeg[], key: boolean) => PlainPos | undefined = () => undefined,
): YamlSource {
  const locate = (path: readonly PathSeg[], opts?: { key?: boolean }) => {
    const fast = known(path, opts?.key ?? false);
    if (fast) return fast;
    const offset = findOffset(doc(), path, opts?.key ?? false);
    if (offset === null) return { line: 1, col: 1 };
    return linePos(offset);
  };
  return {
    file,
    doc,
    plain,
    value,
    locate,
    diag(code, path, message, opts) {
      const { line, col } = locate(path, opts);
      return { severity: opts?.severity ?? 'error', code, file, line, col, path: formatPath(path), message };
    },
  };
}

/**
 * Aliases to a node that contains them (`&a {b: *a}`). The yaml library
 * builds a cyclic object from them, on which every later step (interpolation,
 * schema, normalization) would recurse until the stack runs out. An alias can
 * only name an anchor set before it, so a cycle always goes through an
 * ancestor.
 */
function recursiveAliases(doc: Document.Parsed): { name: string; offset: number }[] {
  const found: { name: string; offset: number }[] = [];
  visit(doc, {
    Alias(_, node, path) {
      const target = node.resolve(doc);
      if (target && path.includes(target)) found.push({ name: node.source, offset: node.range?.[0] ?? 0 });
    },
  });
  return found;
}

/**
 * Offsets of keys that repeat an earlier key of the same mapping, with the
 * library's notion of equal (scalars by value, so `1` and `"1"` differ; other
 * nodes by identity; each `<<` merge key is a symbol of its own, so several
 * are allowed).
 */
function duplicateKeyOffsets(doc: Document.Parsed): number[] {
  const found: number[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const item of map.items) {
        const k = item.key;
        const id = isScalar(k) ? k.value : k;
        if (seen.has(id)) found.push((k as Node | null)?.range?.[0] ?? map.range?.[0] ?? 0);
        else seen.add(id);
      }
    },
  });
  return found;
}

/**
 * The yaml parser recurses once per nesting level and turns a stack overflow
 * into an ordinary error at wherever the stack ran out, which depends on how
 * deep the caller already was. Such a file gets one error instead, at a
 * place that depends on the file only.
 */
const STACK_OVERFLOW = /Maximum call stack size exceeded/;
const DEEP_FLOW = 100;

function tooDeep(file: string, text: string, lineCounter: LineCounter): Diagnostic {
  const offset = deepFlowOffset(text, DEEP_FLOW);
  const where = offset === null ? { line: 0, col: 0 } : lineCounter.linePos(offset);
  return {
    ...fileDiag(file, 'yaml-syntax', `YAML nesting is too deep to read (more than ${DEEP_FLOW} levels of [ ] or { } here); flatten the structure`),
    ...where,
  };
}

/** Offset of the first `[` or `{` opened at nesting depth `limit` + 1, skipping quoted text and comments; null if none. */
function deepFlowOffset(text: string, limit: number): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) if (c === '"' && text[i] === '\\') i++;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      if (++depth > limit) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return null;
}

/**
 * Where resolving aliases failed, from the yaml library's message: the alias
 * naming an anchor that does not exist (yet), the `<<` whose value is not a
 * mapping, or — for too many expansions — the first alias.
 */
function aliasProblemOffset(doc: Document.Parsed, message: string): number | null {
  let found: number | null = null;
  const unresolved = /Unresolved alias[^:]*: (.+)$/.exec(message)?.[1];
  const anchors = new Set<string>();
  visit(doc, {
    Node(_, node) {
      // Anchors count only once defined: an alias before its anchor is unresolved too.
      if (found !== null) return visit.BREAK;
      if (isAlias(node)) {
        const hit = unresolved !== undefined ? node.source === unresolved && !anchors.has(node.source) : !/Merge sources/.test(message);
        if (hit) found = node.range?.[0] ?? null;
      } else if (node.anchor) anchors.add(node.anchor);
      return undefined;
    },
    Pair(_, pair) {
      if (found !== null) return visit.BREAK;
      if (!/Merge sources/.test(message) || !isMergeKey(pair.key)) return undefined;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const s of sources) {
        const target = isAlias(s) ? s.resolve(doc) : s;
        if (!isMap(target)) {
          found = (s as Node | null)?.range?.[0] ?? (pair.key as Node).range?.[0] ?? null;
          break;
        }
      }
      return undefined;
    },
  });
  return found;
}

function yamlMessage(code: string, raw: string): string {
  // The yaml library appends "at line X, column Y" and a code excerpt; the
  // location is already in FILE:LINE:COL, so keep the first sentence only.
  const first = raw.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  if (code === 'TAB_AS_INDENT') return 'tabs are not allowed as indentation in YAML; use spaces';
  if (code === 'DUPLICATE_KEY') return `duplicate key: ${first.replace(/^Map keys must be unique;?\s*/, '') || 'map keys must be unique'}`;
  return `YAML syntax error: ${first}`;
}

/**
 * Offset of the node at `path` (or of its key when `key` is set). Where the path
 * leaves the literal tree (a value that came in through a `<<` merge or an alias)
 * the deepest node that does exist is used, which is where the reader should look.
 */
export function findOffset(doc: Document.Parsed, path: readonly PathSeg[], key: boolean): number | null {
  let node: Node | null | undefined = doc.contents as Node | null;
  let best: number | null = node?.range?.[0] ?? null;
  for (let i = 0; i < path.length; i++) {
    node = resolveAlias(doc, node);
    if (!node) break;
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = findPair(doc, node, String(seg));
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      if (last && key) return keyNode?.range?.[0] ?? best;
      const v = pair.value as Node | null;
      best = v?.range?.[0] ?? keyNode?.range?.[0] ?? best;
      // A key with no value (`foo:`) points at the key.
      if (!v) best = keyNode?.range?.[0] ?? best;
      node = v;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      best = item.range?.[0] ?? best;
      node = item;
    } else {
      break;
    }
  }
  return best;
}

/**
 * findOffset's walk over the plain reader's positions, to the same answer;
 * undefined where the reader did not record what the walk needs (the
 * library's document answers then).
 */
export function locatePlain(plain: { value: unknown; positions: PlainPositions; start: PlainPos }, path: readonly PathSeg[], key: boolean): PlainPos | undefined {
  let cur: unknown = plain.value;
  let best: PlainPos = plain.start;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      if (!Object.hasOwn(cur, String(seg))) break;
      const at = plain.positions.get(cur)?.get(String(seg));
      if (!at?.key) return undefined;
      if (last && key) return at.key;
      if (!at.value) return undefined;
      best = at.value;
      cur = (cur as Record<string, unknown>)[String(seg)];
    } else if (Array.isArray(cur) && typeof seg === 'number') {
      if (seg < 0 || seg >= cur.length || !Number.isInteger(seg)) break;
      const at = plain.positions.get(cur)?.get(seg);
      if (!at?.value) return undefined;
      best = at.value;
      cur = cur[seg];
    } else {
      break;
    }
  }
  return best;
}

function resolveAlias(doc: Document.Parsed, node: Node | null | undefined): Node | null {
  let n = node ?? null;
  for (let guard = 0; n && isAlias(n) && guard < 20; guard++) n = (n.resolve(doc) as Node | undefined) ?? null;
  return n;
}

function findPair(doc: Document.Parsed, map: Node, key: string): Pair<unknown, unknown> | undefined {
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (!isPair(item)) continue;
    const k = item.key;
    const kv = isScalar(k) ? String(k.value) : k === null || k === undefined ? '' : String(k);
    if (kv === key) return item;
  }
  // Look into `<<` merge sources so merged keys point at their anchor definition.
  for (const item of map.items) {
    if (!isPair(item) || !isMergeKey(item.key)) continue;
    const srcs = isSeq(item.value) ? item.value.items : [item.value];
    for (const s of srcs) {
      const target = resolveAlias(doc, s as Node);
      const found: Pair<unknown, unknown> | undefined = target ? findPair(doc, target, key) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

/** With `merge: true` the yaml package gives a `<<` key the value Symbol(<<), not the string. */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const v = key.value;
  return v === '<<' || (typeof v === 'symbol' && v.description === '<<');
}
