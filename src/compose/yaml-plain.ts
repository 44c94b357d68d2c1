/**
 * A reader for the plain subset of YAML most Compose files are written in:
 * block mappings and sequences indented with spaces, plain and simply quoted
 * scalars, one-line `[a, b]` lists, comments. It returns the same value the
 * yaml library's `doc.toJS()` would, or null as soon as the text uses anything
 * else (anchors, tags, block or multi-line scalars, flow mappings, escapes,
 * duplicate or non-string keys, several documents, tabs, CRLF, ...): the
 * caller then parses the text with the library, which also explains errors.
 *
 * Why: `berth validate` on a 50-service stack spent a third of its CPU in the
 * library's lexer, parser and composer — per-character generator code that a
 * short-lived process runs cold. This reader does per line what the library
 * does per token; the library's document (node ranges for FILE:LINE:COL) is
 * built only when a diagnostic has to be located.
 *
 * Scalars resolve as in the library's YAML 1.2 core schema; every plain
 * scalar that is not a string there (null, booleans, numbers other than
 * decimal integers and simple decimals) is either mapped the same way or
 * refused. test/compose/yaml-plain.test.ts holds the reader against the
 * library on the corpus and on generated documents.
 */

interface Line {
  /** 1-based line number in the text. */
  no: number;
  indent: number;
  /** The content after the indentation, trailing blanks removed; never empty, never a comment line. */
  text: string;
}

/** Thrown inside the reader to leave the subset; never escapes parsePlainYaml. */
class Outside extends Error {}

const out = (): never => {
  throw new Outside();
};

/** Keys written plainly that the library reads as strings (no null, boolean, number or merge key). */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.\/@$-]*$/;
const KEY_NOT_STRING = /^(?:null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;
/** Plain scalars this reader takes as strings: no indicator first. */
const PLAIN_START = /^[A-Za-z_/$~.(<=^+0-9-]/;
/** Decimal integers and decimals whose value the core schema gives exactly as JS parses them. */
const INT = /^(?:0|-?[1-9][0-9]{0,14})$/;
const DECIMAL = /^-?[0-9]{1,15}\.[0-9]{1,15}$/;
const NULLS = new Set(['~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['true', 'True', 'TRUE']);
const FALSES = new Set(['false', 'False', 'FALSE']);
/**
 * The tests of the library's core-schema number tags (yaml/dist/schema/core:
 * octal, integer, hexadecimal, .inf/.nan, exponent, float) in one: a plain
 * scalar matching it is a number there, and one not read exactly above is refused.
 */
const CORE_NUMBER = /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;
/** Characters the library treats specially or refuses (controls, BOM, CR, tab, Unicode line separators). */
const ODD_CHARS = /[\x00-\x09\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]/;

/** The reading position, and where each key and value went (see PlainPositions). */
type At = { i: number; pos: PlainPositions };

export interface PlainPos {
  line: number;
  col: number;
}

/**
 * Where the reader found each entry of the mappings and sequences it built,
 * by container object: a mapping's key → where the key and its value start,
 * a sequence's index → where the item starts (`key` null). `value` is null
 * where the reader cannot say exactly what the library's node range would
 * (an empty value, an item of a one-line `[a, b]`): locating there falls back
 * to the library's document. Positions are those the library gives the same
 * nodes (test/compose/yaml-plain.test.ts holds them against it).
 */
export type PlainPositions = WeakMap<object, Map<string | number, { key: PlainPos | null; value: PlainPos | null }>>;

/** The value of `text` when it is in the subset, else null. */
export function parsePlainYaml(text: string): { value: Record<string, unknown>; positions: PlainPositions; start: PlainPos } | null {
  if (ODD_CHARS.test(text)) return null;
  try {
    const lines = splitLines(text);
    if (lines.length === 0 || lines[0]!.indent !== 0) return null;
    const at: At = { i: 0, pos: new WeakMap() };
    const start = { line: lines[0]!.no, col: 1 };
    const value = block(lines, at, 0);
    if (at.i !== lines.length || !isMapping(value)) return null;
    return { value, positions: at.pos, start };
  } catch (e) {
    // Nesting deep enough to exhaust the stack (one level per `- ` or indentation) is the
    // library's case too: it reports it as a located error.
    if (e instanceof Outside || e instanceof RangeError) return null;
    throw e;
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let no = 0;
  for (const raw of text.split('\n')) {
    no++;
    let indent = 0;
    while (raw.charCodeAt(indent) === 0x20) indent++;
    if (indent === raw.length || raw[indent] === '#') continue;
    // Directives and document markers: the library's business.
    if (indent === 0 && (raw[0] === '%' || raw.startsWith('---') || raw.startsWith('...'))) out();
    lines.push({ no, indent, text: raw.slice(indent).trimEnd() });
  }
  return lines;
}

/** The block node whose first line is lines[at.i], at exactly `indent`. */
function block(lines: Line[], at: At, indent: number): unknown {
  const first = lines[at.i]!;
  if (first.indent !== indent) out();
  return isItem(first.text) ? sequence(lines, at, indent) : mapping(lines, at, indent);
}

function isItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function sequence(lines: Line[], at: At, indent: number): unknown[] {
  const items: unknown[] = [];
  const where = new Map<number, { key: null; value: PlainPos | null }>();
  at.pos.set(items, where);
  while (at.i < lines.length) {
    const line = lines[at.i]!;
    // A line at this indentation that is no item ends a sequence written at its key's indentation.
    if (line.indent < indent || (line.indent === indent && !isItem(line.text))) break;
    if (line.indent > indent) out();
    let skip = 1;
    while (line.text[skip] === ' ') skip++;
    const rest = line.text.slice(skip);
    const item = items.length;
    if (rest === '' || rest[0] === '#') {
      at.i++;
      where.set(item, { key: null, value: blockStart(lines, at, indent) });
      items.push(nested(lines, at, indent));
    } else if (isItem(rest) || splitKey(rest) !== null) {
      // `- a: 1` or `- - a`: a node of its own, indented where it starts.
      const restIndent = indent + skip;
      lines[at.i] = { no: line.no, indent: restIndent, text: rest };
      where.set(item, { key: null, value: { line: line.no, col: restIndent + 1 } });
      items.push(block(lines, at, restIndent));
    } else {
      at.i++;
      where.set(item, { key: null, value: { line: line.no, col: indent + skip + 1 } });
      items.push(inlineValue(rest));
      noContinuation(lines, at, indent);
    }
  }
  return items;
}

function mapping(lines: Line[], at: At, indent: number): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  const seen = new Set<string>();
  const where = new Map<string, { key: PlainPos; value: PlainPos | null }>();
  at.pos.set(map, where);
  while (at.i < lines.length) {
    const line = lines[at.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) out();
    const kv = splitKey(line.text) ?? out();
    const [key, rest] = kv;
    // Duplicates are an error the library's path reports with its location;
    // __proto__ would set the prototype here where the library makes an own property.
    if (seen.has(key) || key === '__proto__') out();
    seen.add(key);
    at.i++;
    const keyAt = { line: line.no, col: indent + 1 };
    let value: unknown;
    if (rest === '' || rest[0] === '#') {
      // A sequence may sit at the key's own indentation (`key:\n- a`).
      const next = lines[at.i];
      const own = next !== undefined && next.indent === indent && isItem(next.text);
      where.set(key, { key: keyAt, value: own ? { line: next.no, col: indent + 1 } : blockStart(lines, at, indent) });
      value = own ? sequence(lines, at, indent) : nested(lines, at, indent);
    } else {
      // `rest` is the end of the line's text: the value starts where it does.
      where.set(key, { key: keyAt, value: { line: line.no, col: indent + 1 + line.text.length - rest.length } });
      value = inlineValue(rest);
      noContinuation(lines, at, indent);
    }
    map[key] = value;
  }
  return map;
}

/** Where the deeper block after an empty `key:` or `-` starts; null when none follows (an empty value). */
function blockStart(lines: Line[], at: At, parentIndent: number): PlainPos | null {
  const next = lines[at.i];
  return next && next.indent > parentIndent ? { line: next.no, col: next.indent + 1 } : null;
}

/** The value of an empty `key:` or `-`: the deeper block that follows, or null. */
function nested(lines: Line[], at: At, parentIndent: number): unknown {
  const next = lines[at.i];
  if (!next || next.indent <= parentIndent) return null;
  return block(lines, at, next.indent);
}

/** A deeper line after a one-line value would continue it (a multi-line scalar) or be an error. */
function noContinuation(lines: Line[], at: At, indent: number): void {
  const next = lines[at.i];
  if (next && next.indent > indent) out();
}

/** `key: rest` or `key:` with a plain or simply quoted string key, else null. */
function splitKey(text: string): [string, string] | null {
  let end = text.indexOf(': ');
  if (end === -1) {
    if (!text.endsWith(':')) return null;
    end = text.length - 1;
  }
  const raw = text.slice(0, end);
  const key = PLAIN_KEY.test(raw) ? (KEY_NOT_STRING.test(raw) ? null : raw) : quoted(raw);
  if (key === null) return null;
  return [key, text.slice(end + 1).trimStart()];
}

/** A one-line quoted scalar without escapes (double) or doubled quotes (single), else null. */
function quoted(raw: string): string | null {
  const q = raw[0];
  if ((q !== '"' && q !== "'") || raw.length < 2 || raw[raw.length - 1] !== q) return null;
  const inner = raw.slice(1, -1);
  if (inner.includes(q) || (q === '"' && inner.includes('\\'))) return null;
  return inner;
}

/** What may follow a quoted scalar or a flow sequence on its line: nothing or a comment. */
function onlyComment(after: string): boolean {
  return after === '' || /^ +#/.test(after);
}

/** The value written after `key: ` or `- ` (never empty, never a comment). */
function inlineValue(rest: string): unknown {
  const c = rest[0]!;
  if (c === '"' || c === "'") {
    const close = rest.indexOf(c, 1);
    if (close === -1 || !onlyComment(rest.slice(close + 1))) out();
    return quoted(rest.slice(0, close + 1)) ?? out();
  }
  if (c === '[') {
    const close = rest.indexOf(']');
    if (close === -1 || !onlyComment(rest.slice(close + 1))) out();
    return flowSequence(rest.slice(1, close));
  }
  // In a plain scalar a comment starts at the first " #".
  const hash = rest.indexOf(' #');
  const plain = hash === -1 ? rest : rest.slice(0, hash).trimEnd();
  if (plain === '{}') return {};
  return scalar(plain);
}

function flowSequence(inner: string): unknown[] {
  if (inner.trim() === '') return [];
  return inner.split(',').map((part) => {
    const item = part.trim();
    // Nested flow collections, empty entries, `key: value` pairs and comments are the library's business.
    if (item === '' || /[[\]{}#]/.test(item) || item.includes(': ') || item.endsWith(':')) out();
    return scalar(item);
  });
}

function scalar(raw: string): unknown {
  const q = quoted(raw);
  if (q !== null) return q;
  if (NULLS.has(raw)) return null;
  if (TRUES.has(raw)) return true;
  if (FALSES.has(raw)) return false;
  if (INT.test(raw)) return Number.parseInt(raw, 10);
  if (DECIMAL.test(raw)) return Number.parseFloat(raw);
  if (CORE_NUMBER.test(raw)) out();
  // Indicators first, `: ` inside (a mapping where a scalar was expected), a trailing `:`,
  // or `- ` (an item where a scalar was expected) leave the subset.
  if (!PLAIN_START.test(raw) || raw.includes(': ') || raw.endsWith(':') || raw === '-' || raw.startsWith('- ')) out();
  return raw;
}
