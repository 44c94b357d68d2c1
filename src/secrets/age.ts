/**
 * The age layer: SOPS wraps its 32-byte data key once per recipient, each an
 * armored age file. The first stanza any identity opens gives the key.
 * Returns null when none opens (wrong keys), throws on nothing.
 */
export async function unwrapDataKey(stanzas: readonly { recipient: string; enc: string }[], identities: readonly string[]): Promise<Buffer | null> {
  if (identities.length === 0) return null;
  // Loaded on use: its post-quantum key tables are computed when the module is
  // evaluated, a tenth of `berth validate`'s start-up for a repository with no SOPS file.
  const { armor, Decrypter } = await import('age-encryption');
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  for (const s of stanzas) {
    try {
      const key = await d.decrypt(armor.decode(s.enc));
      if (key.length === 32) return Buffer.from(key);
    } catch {
      // Not for these identities, or a malformed stanza: try the next recipient.
    }
  }
  return null;
}
