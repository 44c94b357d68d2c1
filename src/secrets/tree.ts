import { GoInt, GoTime } from './go-values.js';

/** A mapping in document order (SOPS' TreeBranch): the order is part of the MAC, so no plain object. */
export class SopsMap {
  constructor(readonly entries: [string, SopsNode][] = []) {}
}

export type SopsLeaf = string | number | boolean | null | GoInt | GoTime | Uint8Array;
export type SopsNode = SopsMap | SopsNode[] | SopsLeaf;

/** The `sops:` metadata berth needs, after un-flattening (dotenv, INI) where the store flattens it. */
export interface SopsMetadata {
  age: { recipient: string; enc: string }[];
  /** Other key services present (kms, pgp…): named in errors when no age stanza opens. */
  otherKeys: string[];
  lastModified: string;
  mac: string;
  macOnlyEncrypted: boolean;
  unencryptedSuffix: string;
  encryptedSuffix: string;
  unencryptedRegex: string;
  encryptedRegex: string;
  /** Set when the file uses a rule berth does not implement; the file is refused. */
  unsupported: string | null;
  version: string;
}

/** A store's view of an encrypted file: the documents and the metadata. */
export interface SopsDocument {
  branches: SopsMap[];
  metadata: SopsMetadata;
}

export class SopsError extends Error {}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

/** Plain metadata (an object from YAML/JSON or the un-flattened dotenv/INI keys) → SopsMetadata. */
export function readMetadata(raw: unknown): SopsMetadata {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SopsError('the sops metadata is not a mapping');
  const m = raw as Record<string, unknown>;
  const age = Array.isArray(m.age) ? m.age : [];
  const stanzas = age.map((a) => {
    const o = (a ?? {}) as Record<string, unknown>;
    return { recipient: str(o.recipient), enc: str(o.enc) };
  });
  const otherKeys = ['kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'pgp'].filter((k) => Array.isArray(m[k]) && (m[k] as unknown[]).length > 0);
  let unsupported: string | null = null;
  if (m.key_groups !== undefined && m.key_groups !== null) unsupported = 'key_groups (Shamir secret sharing)';
  for (const k of ['unencrypted_comment_regex', 'encrypted_comment_regex']) if (str(m[k]) !== '') unsupported = k;
  const lm = m.lastmodified instanceof Date ? m.lastmodified.toISOString().replace(/\.000Z$/, 'Z') : str(m.lastmodified);
  return {
    age: stanzas,
    otherKeys,
    lastModified: lm,
    mac: str(m.mac),
    macOnlyEncrypted: m.mac_only_encrypted === true || str(m.mac_only_encrypted).toLowerCase() === 'true',
    unencryptedSuffix: str(m.unencrypted_suffix),
    encryptedSuffix: str(m.encrypted_suffix),
    unencryptedRegex: str(m.unencrypted_regex),
    encryptedRegex: str(m.encrypted_regex),
    unsupported,
    version: str(m.version),
  };
}

/**
 * stores/flatten.go, reversed: `age__list_0__map_enc` → age[0].enc. dotenv and
 * INI keep the metadata as flat keys.
 */
export function unflatten(pairs: [string, string][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of pairs) {
    const toks = tokenize(key);
    let cur: Record<string | number, unknown> = root;
    toks.forEach((t, i) => {
      if (i === toks.length - 1) cur[t] = value;
      else cur = (cur[t] ??= {}) as Record<string | number, unknown>;
    });
  }
  return toArrays(root) as Record<string, unknown>;
}

function tokenize(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /__(map|list)_/g;
  let last = 0;
  let kind: 'name' | 'map' | 'list' = 'name';
  const push = (seg: string) => out.push(kind === 'list' ? Number(seg || 0) : seg);
  for (let m = re.exec(path); m; m = re.exec(path)) {
    push(path.slice(last, m.index));
    kind = m[1] === 'map' ? 'map' : 'list';
    last = m.index + m[0].length;
  }
  push(path.slice(last));
  return out;
}

function toArrays(node: unknown): unknown {
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.map(Number).sort((a, b) => a - b).map((k) => toArrays(o[k]));
  }
  return Object.fromEntries(keys.map((k) => [k, toArrays(o[k])]));
}
