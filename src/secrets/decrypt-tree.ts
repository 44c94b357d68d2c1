import { createDecipheriv, createHash, type Hash } from 'node:crypto';
import { goParseBool, goParseFloat, goParseInt, goRfc3339, goTime, toBytes } from './go-values.js';
import { SopsError, SopsMap, type SopsDocument, type SopsMetadata, type SopsNode } from './tree.js';

const ENC = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function b64(s: string, what: string, at: string): Buffer {
  if (!B64.test(s)) throw new SopsError(`${what} of the value at ${at} is not valid base64`);
  return Buffer.from(s, 'base64');
}

/**
 * aes/cipher.go Decrypt: AES-256-GCM, the additional data binds the value to
 * its place in the tree; the result is typed as the `type:` field says.
 * `at` names the place in errors (a path, never a value).
 */
export function decryptValue(value: string, key: Buffer, additionalData: string, at: string): SopsNode {
  if (value === '') return '';
  const m = ENC.exec(value);
  if (!m) throw new SopsError(`the value at ${at} should be encrypted but is not in SOPS' ENC[AES256_GCM,…] form`);
  const data = b64(m[1]!, 'data', at);
  const iv = b64(m[2]!, 'iv', at);
  const tag = b64(m[3]!, 'tag', at);
  const type = m[4]!;
  if (tag.length !== 16) throw new SopsError(`the authentication tag of the value at ${at} is not 16 bytes`);
  if (iv.length === 0) throw new SopsError(`the value at ${at} has an empty iv`);
  let raw: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    d.setAAD(Buffer.from(additionalData, 'utf8'));
    d.setAuthTag(tag);
    raw = Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new SopsError(`the value at ${at} fails its AES-GCM authentication: the file was altered, or it was not encrypted with this data key`);
  }
  const text = raw.toString('utf8');
  const bad = () => new SopsError(`the value at ${at} does not decrypt to a valid ${type}`);
  switch (type) {
    case 'str':
      return text;
    case 'bytes':
      return new Uint8Array(raw);
    case 'int': {
      const v = goParseInt(text);
      if (v === null) throw bad();
      return v;
    }
    case 'float': {
      const v = goParseFloat(text);
      if (v === null) throw bad();
      return v;
    }
    case 'bool': {
      const v = goParseBool(text);
      if (v === null) throw bad();
      return v;
    }
    case 'time': {
      const v = goTime(text);
      if (v === null) throw bad();
      return v;
    }
    default:
      throw new SopsError(`the value at ${at} has an unknown type "${type}"`);
  }
}

/** Go regexp → JavaScript RegExp for the metadata's `*_regex` rules (a leading `(?i)` becomes the i flag). */
function goRegex(src: string): RegExp {
  const m = /^\(\?([imsU]+)\)/.exec(src);
  const flags = m ? [...new Set(m[1]!.replace('U', '').split(''))].join('') : '';
  try {
    return new RegExp(m ? src.slice(m[0].length) : src, flags);
  } catch {
    throw new SopsError(`the sops metadata has a regular expression berth cannot read: ${src}`);
  }
}

/** sops.go Tree.Decrypt: which leaves are encrypted, by the metadata's suffix and regex rules on any key of the path. */
function encryptionRule(meta: SopsMetadata): (path: string[]) => boolean {
  const ur = meta.unencryptedRegex ? goRegex(meta.unencryptedRegex) : null;
  const er = meta.encryptedRegex ? goRegex(meta.encryptedRegex) : null;
  return (path) => {
    let enc = true;
    if (meta.unencryptedSuffix && path.some((p) => p.endsWith(meta.unencryptedSuffix))) enc = false;
    if (meta.encryptedSuffix) enc = path.some((p) => p.endsWith(meta.encryptedSuffix));
    if (ur && path.some((p) => ur.test(p))) enc = false;
    if (er) enc = path.some((p) => er.test(p));
    return enc;
  };
}

/**
 * Decrypt every value of the documents in place order, hash every leaf as
 * SOPS does, and check the result against the stored MAC. Throws SopsError on
 * the first failure; returns the plaintext documents only when all verified.
 */
export function decryptDocument(doc: SopsDocument, key: Buffer): SopsMap[] {
  const meta = doc.metadata;
  const encrypted = encryptionRule(meta);
  const hash = createHash('sha512');
  if (meta.macOnlyEncrypted) hash.update(createHash('sha256').update('sops').digest());
  const walk = (node: SopsNode, path: string[]): SopsNode => {
    if (node instanceof SopsMap) return new SopsMap(node.entries.map(([k, v]) => [k, walk(v, [...path, k])]));
    if (Array.isArray(node)) return node.map((v) => walk(v, path));
    if (node === null) return null;
    const at = path.join(':') || '(top)';
    const enc = encrypted(path);
    let value: SopsNode = node;
    if (enc) {
      if (typeof node !== 'string') throw new SopsError(`the value at ${at} should be encrypted but is a plain ${typeof node}`);
      value = decryptValue(node, key, `${path.join(':')}:`, at);
    }
    if (!meta.macOnlyEncrypted || enc) hash.update(toBytes(value));
    return value;
  };
  const plain = doc.branches.map((b) => walk(b, []) as SopsMap);
  const computed = hash.digest('hex').toUpperCase();
  const ad = goRfc3339(meta.lastModified);
  if (ad === null) throw new SopsError('the sops metadata has no valid lastmodified time');
  if (meta.mac === '') throw new SopsError('the sops metadata has no MAC');
  let stored: SopsNode;
  try {
    stored = decryptValue(meta.mac, key, ad, 'sops.mac');
  } catch {
    throw new SopsError('the MAC in the sops metadata fails its authentication: the metadata was altered');
  }
  if (stored !== computed) throw new SopsError('the MAC does not match the contents: the file was altered after sops wrote it');
  return plain;
}
