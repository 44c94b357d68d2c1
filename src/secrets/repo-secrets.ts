import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { decryptSopsFile } from './decrypt-file.js';
import type { SopsKeyring } from './keyring.js';
import type { FilePerms } from '../model/desired.js';

/**
 * What the loader needs to read SOPS files of one load of the repository.
 * `materialDir`: where decrypted files that containers mount will live;
 * `salt`: the state dir's salt, so a mount path (and so the config hash)
 * changes exactly when a plaintext changes, without revealing a digest of it.
 */
export interface SecretsContext {
  keyring: SopsKeyring;
  salt: string;
  materialDir: string;
}

export type SecretRead = { kind: 'plain'; bytes: Buffer } | { kind: 'decrypted'; bytes: Buffer } | { kind: 'refused'; message: string };

/**
 * Owner and mode of an `environment:`/`content:` secret's file: always all
 * three, with Compose's defaults for a copied-in secret filled in.
 */
export type FilePerm = Required<FilePerms>;

/** One file a container mounts (decrypted, or from the environment / inline content): the plaintext stays in a private field, never in JSON. */
export class SecretMaterials {
  readonly #files = new Map<string, { plaintext: Buffer; perms: FilePerms | null }>();
  /** Host paths only: what a record or an output may show. */
  get paths(): string[] {
    return [...this.#files.keys()].sort();
  }
  add(path: string, plaintext: Buffer, perms: FilePerms | null = null): void {
    this.#files.set(path, { plaintext, perms });
  }
  entries(): [string, Buffer, FilePerms | null][] {
    return [...this.#files].map(([path, f]) => [path, f.plaintext, f.perms]);
  }
  toJSON(): { paths: string[] } {
    return { paths: this.paths };
  }
}

/**
 * The secrets side of one load: every repository file berth reads goes
 * through `read`, which passes plain files through and decrypts SOPS files
 * (verified) in memory. `decrypted`/`refused` name files (never contents)
 * for `berth validate`.
 */
export class RepoSecrets {
  readonly decrypted = new Set<string>();
  readonly refused = new Map<string, string>();
  pending = false;
  readonly materials = new SecretMaterials();

  constructor(readonly ctx: SecretsContext) {}

  read(rel: string, bytes: Buffer): SecretRead {
    const r = decryptSopsFile(rel, bytes, this.ctx.keyring);
    if (r.kind === 'plain') return { kind: 'plain', bytes };
    if (r.kind === 'pending') {
      this.pending = true;
      return { kind: 'refused', message: 'SOPS file: its data key is being unwrapped' };
    }
    if (r.kind === 'refused') {
      this.refused.set(rel, r.message);
      return r;
    }
    this.decrypted.add(rel);
    return { kind: 'decrypted', bytes: r.plaintext };
  }

  /**
   * The host path a decrypted file is mounted from: content-addressed under
   * the material dir by a salted digest, so two revisions' contents never
   * share a path and a rotation is a new path (a recreate), a re-encryption
   * of the same plaintext is not. The owner and mode are part of the
   * address too: two services may mount one secret with different ones,
   * and changing them is a recreate.
   */
  mountPath(rel: string, plaintext: Buffer, perms: FilePerms | null = null): string {
    const hash = createHash('sha256').update(this.ctx.salt).update('\0').update(plaintext);
    if (perms) hash.update('\0').update(`${perms.uid ?? ''}:${perms.gid ?? ''}:${perms.mode ?? ''}`);
    const digest = hash.digest('hex').slice(0, 32);
    const path = join(this.ctx.materialDir, digest, basename(rel));
    this.materials.add(path, plaintext, perms);
    return path;
  }
}
