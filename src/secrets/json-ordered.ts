import { GoInt } from './go-values.js';
import { SopsError, SopsMap, type SopsNode } from './tree.js';

/**
 * A JSON reader that keeps object keys in file order (JSON.parse moves
 * integer-like keys first, and the order is part of the SOPS MAC). Numbers
 * follow SOPS' JSON store: an integer stays an int, anything else is a float.
 */
export function parseOrderedJson(text: string): SopsNode {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    throw new SopsError(`invalid JSON at line ${line}, column ${i - before.lastIndexOf('\n')}: ${what}`);
  };
  const value = (): SopsNode => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const map = new SopsMap();
      ws();
      if (text[i] === '}') {
        i++;
        return map;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = string();
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        map.entries.push([k, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return map;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: SopsNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return m[2] === undefined && m[3] === undefined ? new GoInt(BigInt(m[0])) : Number(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in a string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('invalid escape in a string');
    }
  };
  const v = value();
  ws();
  if (i < text.length) fail('unexpected text after the value');
  return v;
}

/** The inverse, for the decrypted output: ordered keys, two-space indent. */
export function stringifyOrderedJson(node: SopsNode, indent = ''): string {
  const next = `${indent}  `;
  if (node instanceof SopsMap) {
    if (node.entries.length === 0) return '{}';
    return `{\n${node.entries.map(([k, v]) => `${next}${JSON.stringify(k)}: ${stringifyOrderedJson(v, next)}`).join(',\n')}\n${indent}}`;
  }
  if (Array.isArray(node)) {
    if (node.length === 0) return '[]';
    return `[\n${node.map((v) => `${next}${stringifyOrderedJson(v, next)}`).join(',\n')}\n${indent}]`;
  }
  if (node instanceof GoInt) return node.value.toString();
  if (typeof node === 'number') return Number.isFinite(node) ? JSON.stringify(node) : 'null';
  if (node instanceof Uint8Array) return JSON.stringify(Buffer.from(node).toString('utf8'));
  if (node !== null && typeof node === 'object') return JSON.stringify(node.text);
  return JSON.stringify(node);
}
