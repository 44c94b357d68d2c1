import { decryptDocument } from './decrypt-tree.js';
import type { SopsKeyring } from './keyring.js';
import { emitPlain, formatForPath, looksLikeSops, readEncrypted, type SopsFormat } from './stores.js';
import { SopsError } from './tree.js';

export type DecryptOutcome =
  | { kind: 'plain' }
  | { kind: 'decrypted'; plaintext: Buffer; format: SopsFormat }
  /** The data key is not unwrapped yet: ask the keyring to unwrap, then read again. */
  | { kind: 'pending' }
  | { kind: 'refused'; message: string };

/**
 * bytes + identities → plaintext, for one file of the repository. The store
 * is chosen from the file name as `sops` chooses it; a file without SOPS
 * metadata is `plain` and used as it is. Every value's GCM tag and the MAC
 * are verified before any plaintext is returned. Messages name places in the
 * file and the rule that failed, never a value.
 */
export function decryptSopsFile(name: string, bytes: Buffer, keyring: SopsKeyring): DecryptOutcome {
  const text = bytes.toString('utf8');
  if (!looksLikeSops(text)) return { kind: 'plain' };
  const format = formatForPath(name);
  try {
    const doc = readEncrypted(text, format);
    if (doc.metadata.unsupported) return { kind: 'refused', message: `SOPS file uses ${doc.metadata.unsupported}, which berth does not support` };
    if (doc.metadata.age.length === 0) {
      const others = doc.metadata.otherKeys.length > 0 ? ` (only ${doc.metadata.otherKeys.join(', ')})` : '';
      return { kind: 'refused', message: `SOPS file has no age recipient${others}: berth decrypts with age identities only` };
    }
    const found = keyring.lookup(doc.metadata);
    if ('pending' in found) return { kind: 'pending' };
    if ('none' in found) {
      const recipients = doc.metadata.age.map((a) => a.recipient).join(', ');
      const why = keyring.identities.length === 0 ? 'no age identity is available (set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)' : 'none of the available age identities opens it';
      return { kind: 'refused', message: `SOPS file cannot be decrypted: encrypted for ${recipients}; ${why}` };
    }
    const plain = decryptDocument(doc, found.key);
    return { kind: 'decrypted', plaintext: emitPlain(plain, format), format };
  } catch (e) {
    if (e instanceof SopsError) return { kind: 'refused', message: `SOPS file (read as ${format}, from its name) refused: ${e.message}` };
    throw e;
  }
}
