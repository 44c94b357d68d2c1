import { createHash } from 'node:crypto';
import { unwrapDataKey } from './age.js';
import type { SopsMetadata } from './tree.js';

export type DataKeyLookup = { key: Buffer } | { pending: true } | { none: true };

/**
 * Data keys by the age stanzas that wrap them. Unwrapping (age-encryption)
 * is asynchronous while the repository loader is synchronous, so the loader
 * asks `lookup`, which answers from memory and notes what it has not seen;
 * `unwrapPending` then opens those and the loader runs again. The controller
 * keeps one keyring, so an unchanged file costs no age operation on later passes.
 */
export class SopsKeyring {
  private readonly keys = new Map<string, Buffer | null>();
  private readonly pending = new Map<string, SopsMetadata['age']>();

  constructor(readonly identities: readonly string[]) {}

  lookup(meta: SopsMetadata): DataKeyLookup {
    if (this.identities.length === 0) return { none: true };
    const id = fingerprint(meta.age);
    const known = this.keys.get(id);
    if (known === undefined) {
      this.pending.set(id, meta.age);
      return { pending: true };
    }
    return known === null ? { none: true } : { key: known };
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  async unwrapPending(): Promise<void> {
    const todo = [...this.pending];
    this.pending.clear();
    await Promise.all(todo.map(async ([id, stanzas]) => this.keys.set(id, await unwrapDataKey(stanzas, this.identities))));
  }
}

function fingerprint(stanzas: SopsMetadata['age']): string {
  return createHash('sha256')
    .update(stanzas.map((s) => s.enc).join('\0'))
    .digest('hex');
}
