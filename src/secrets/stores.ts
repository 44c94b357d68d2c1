import { Document, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Node as YamlNode } from 'yaml';
import { GoInt, GoTime, scalarText } from './go-values.js';
import { parseOrderedJson, stringifyOrderedJson } from './json-ordered.js';
import { readMetadata, SopsError, SopsMap, unflatten, type SopsDocument, type SopsNode } from './tree.js';

/** SOPS' stores, chosen by file name exactly as `sops` chooses them (cmd/sops/formats: suffix, case-sensitive). */
export type SopsFormat = 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';

export function formatForPath(path: string): SopsFormat {
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'yaml';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.env')) return 'dotenv';
  if (path.endsWith('.ini')) return 'ini';
  return 'binary';
}

/**
 * Whether a file carries SOPS metadata in any of the stores' layouts. Cheap
 * (no parse): it decides whether the file goes through decryption at all,
 * and a file that looks encrypted but does not parse as the store its name
 * selects is an error, not plaintext.
 */
export function looksLikeSops(text: string): boolean {
  if (!text.includes('ENC[AES256_GCM,')) return false;
  return /(^|\n)\s*"?sops"?\s*:|(^|\n)\s*\[sops\]|(^|\n)sops_(mac|version|lastmodified)=/.test(text);
}

/** Read an encrypted file as its store does; throws SopsError naming what is wrong (never a value). */
export function readEncrypted(text: string, format: SopsFormat): SopsDocument {
  switch (format) {
    case 'yaml':
      return readYaml(text);
    case 'json':
    case 'binary':
      return readJson(text, format);
    case 'dotenv':
      return readDotenv(text);
    case 'ini':
      return readIni(text);
  }
}

/** The decrypted file as `sops --decrypt` prints it for this store (comments left out). */
export function emitPlain(branches: SopsMap[], format: SopsFormat): Buffer {
  switch (format) {
    case 'yaml':
      return Buffer.from(branches.map((b) => new Document(toJs(b)).toString()).join('---\n'));
    case 'json':
      return Buffer.from(`${stringifyOrderedJson(branches[0] ?? new SopsMap())}\n`);
    case 'binary': {
      const data = (branches[0] ?? new SopsMap()).entries.find(([k]) => k === 'data')?.[1];
      if (data instanceof Uint8Array) return Buffer.from(data);
      if (typeof data !== 'string') throw new SopsError('the binary file has no "data" string');
      return Buffer.from(data, 'utf8');
    }
    case 'dotenv':
      return Buffer.from(
        (branches[0] ?? new SopsMap()).entries
          .map(([k, v]) => {
            if (v instanceof SopsMap || Array.isArray(v)) throw new SopsError(`the dotenv key ${k} holds a structure, not a value`);
            return `${k}=${scalarText(v).split('\n').join('\\n')}\n`;
          })
          .join(''),
      );
    case 'ini': {
      const out: string[] = [];
      for (const [section, body] of (branches[0] ?? new SopsMap()).entries) {
        if (!(body instanceof SopsMap)) continue;
        if (section !== 'DEFAULT') out.push(`[${section}]`);
        for (const [k, v] of body.entries) out.push(`${k} = ${scalarText(v)}`);
        out.push('');
      }
      return Buffer.from(out.join('\n'));
    }
  }
}

function toJs(node: SopsNode): unknown {
  if (node instanceof SopsMap) return new Map(node.entries.map(([k, v]) => [k, toJs(v)]));
  if (Array.isArray(node)) return node.map(toJs);
  if (node instanceof GoInt) return node.value;
  if (node instanceof GoTime) return node.text;
  if (node instanceof Uint8Array) return Buffer.from(node).toString('utf8');
  return node;
}

function toPlain(node: SopsNode): unknown {
  if (node instanceof SopsMap) return Object.fromEntries(node.entries.map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(node)) return node.map(toPlain);
  if (node instanceof GoInt) return Number(node.value);
  if (node instanceof GoTime) return node.text;
  return node;
}

function withoutMetadata(branch: SopsMap): { data: SopsMap; meta: SopsNode | undefined } {
  const meta = branch.entries.find(([k]) => k === 'sops')?.[1];
  return { data: new SopsMap(branch.entries.filter(([k]) => k !== 'sops')), meta };
}

function readYaml(text: string): SopsDocument {
  const docs = parseAllDocuments(text, { intAsBigInt: true, uniqueKeys: true });
  if (!Array.isArray(docs)) throw new SopsError('not a YAML stream');
  const branches: SopsMap[] = [];
  let meta: SopsNode | undefined;
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new SopsError(`invalid YAML at line ${doc.errors[0]!.linePos?.[0]?.line ?? '?'}: ${doc.errors[0]!.code}`);
    if (doc.contents === null) continue;
    const convert = (n: unknown): SopsNode => {
      if (isAlias(n)) return convert(n.resolve(doc));
      if (isMap(n)) return new SopsMap(n.items.map((p) => [scalarText(isScalar(p.key) ? yamlScalar(p.key.value) : p.key), convert(p.value)]));
      if (isSeq(n)) return n.items.map(convert);
      if (isScalar(n)) return yamlScalar(n.value);
      if (n === null || n === undefined) return null;
      throw new SopsError('a YAML node berth cannot read');
    };
    const tree = convert(doc.contents as YamlNode);
    if (!(tree instanceof SopsMap)) throw new SopsError('a YAML document of a SOPS file must be a mapping');
    const { data, meta: m } = withoutMetadata(tree);
    if (m !== undefined && meta === undefined && branches.length === 0) meta = m;
    branches.push(data);
  }
  if (meta === undefined) throw new SopsError('no sops metadata (the top-level "sops" key) found');
  return { branches, metadata: readMetadata(toPlain(meta)) };
}

function yamlScalar(v: unknown): SopsNode {
  if (typeof v === 'bigint') return new GoInt(v);
  if (v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (v instanceof Uint8Array) return v;
  return String(v);
}

const NOT_BINARY = 'not SOPS\' binary store (a JSON object with only "data" and "sops"), which sops reads for this file name; name the file by its format (.yaml, .json, .env, .ini)';

function readJson(text: string, format: 'json' | 'binary'): SopsDocument {
  let tree: SopsNode;
  try {
    tree = parseOrderedJson(text);
  } catch (e) {
    if (format === 'binary' && e instanceof SopsError) throw new SopsError(NOT_BINARY);
    throw e;
  }
  if (!(tree instanceof SopsMap)) throw new SopsError('a SOPS JSON file must hold an object');
  const { data, meta } = withoutMetadata(tree);
  if (meta === undefined) throw new SopsError('no sops metadata (the top-level "sops" key) found');
  if (format === 'binary' && (data.entries.length !== 1 || data.entries[0]![0] !== 'data')) {
    throw new SopsError(NOT_BINARY);
  }
  return { branches: [data], metadata: readMetadata(toPlain(meta)) };
}

/** stores/dotenv: KEY=VALUE lines, `#` comments, `\n` unescaped in every value, metadata in `sops_` keys. */
function readDotenv(text: string): SopsDocument {
  const data = new SopsMap();
  const meta: [string, string][] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq < 0) throw new SopsError(`line ${i + 1} is not KEY=VALUE`);
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).split('\\n').join('\n');
    if (key.startsWith('sops_')) meta.push([key.slice(5), value]);
    else data.entries.push([key, value]);
  });
  if (meta.length === 0) throw new SopsError('no sops metadata (sops_… lines) found');
  return { branches: [data], metadata: readMetadata(unflatten(meta)) };
}

/** stores/ini as go-ini reads it by default: sections, `=`/`:` delimiters, quotes and inline comments stripped; `[sops]` holds the metadata. */
function readIni(text: string): SopsDocument {
  const sections: [string, SopsMap][] = [['DEFAULT', new SopsMap()]];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) return;
    if (line.startsWith('[') && line.endsWith(']')) {
      sections.push([line.slice(1, -1).trim(), new SopsMap()]);
      return;
    }
    const d = /[=:]/.exec(line);
    if (!d) throw new SopsError(`line ${i + 1} is neither a [section] nor key = value`);
    const key = line.slice(0, d.index).trim();
    let value = line.slice(d.index + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === '`') && value.endsWith(value[0]!)) value = value.slice(1, -1);
    else {
      const c = value.search(/[#;]/);
      if (c >= 0) value = value.slice(0, c).trim();
    }
    sections[sections.length - 1]![1].entries.push([key, value]);
  });
  const top = new SopsMap();
  let meta: Record<string, unknown> | null = null;
  for (const [name, body] of sections) {
    if (name === 'sops') meta = unflatten(body.entries.map(([k, v]) => [k, String(v).split('\\n').join('\n')]));
    else if (!(name === 'DEFAULT' && body.entries.length === 0)) top.entries.push([name, body]);
  }
  if (meta === null) throw new SopsError('no [sops] section found');
  return { branches: [top], metadata: readMetadata(meta) };
}
