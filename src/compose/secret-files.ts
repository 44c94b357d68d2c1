import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Diagnostic } from '../model/errors.js';
import type { FilePerms, MountSpec } from '../model/desired.js';
import { isInside } from './mounts.js';
import type { RepoSecrets } from '../secrets/repo-secrets.js';
import { ignoredPermsDiagnostic } from './secret-perms.js';
import type { StackInput } from './normalize.js';
import { decodeUtf8, fileDiag, type PathSeg } from './yaml-source.js';

/** An env_file's text, decrypted in memory when it is a SOPS file. */
export function readRepoText(secrets: RepoSecrets | undefined, abs: string, rel: string): { text: string } | { error: Diagnostic } {
  const bytes = readFileSync(abs);
  if (!secrets) return decodeUtf8(rel, bytes);
  const r = secrets.read(rel, bytes);
  if (r.kind === 'refused') return { error: fileDiag(rel, 'sops', r.message) };
  return decodeUtf8(rel, r.bytes);
}

/**
 * The bind-mount source of a file-based secret or config: the repository
 * file itself when it is plain; for a SOPS file, the content-addressed path
 * its plaintext will be materialized at (before any container of the apply
 * is created) and a `secret` name for the plan's reasons. null: refused, reported.
 * `perms` (long syntax uid/gid/mode): set on a decrypted file; for a plain
 * one ignored with a warning, as docker compose does.
 */
export function secretMountSource(
  input: StackInput,
  file: string,
  loc: PathSeg[],
  what: string,
  out: Diagnostic[],
  perms: FilePerms | null = null,
  permsLoc: PathSeg[] = loc,
): { source: string; secret?: string } | null {
  const plain = { source: file };
  const ignored = () => {
    if (perms) out.push(ignoredPermsDiagnostic(input.source, permsLoc, what));
    return plain;
  };
  if (!input.secrets || !existsSync(file) || !statSync(file).isFile()) return ignored();
  // Named by its repository path in messages; a file outside (reported elsewhere) is still decrypted, never mounted as ciphertext.
  const rel = relative(input.root, file).split('\\').join('/');
  const r = input.secrets.read(rel, readFileSync(file));
  if (r.kind === 'plain') return ignored();
  if (r.kind === 'refused') {
    const d = { ...input.source.diag('sops', loc, `${rel}: ${r.message}`) };
    if (!out.some((o) => o.code === d.code && o.file === d.file && o.line === d.line && o.col === d.col)) out.push(d);
    return null;
  }
  return { source: input.secrets.mountPath(rel, r.bytes, perms), secret: what };
}

/** Larger bind-mounted files are not read for SOPS metadata: an encrypted file is never that large, and a big data file is not read on every load. */
const MAX_SOPS_BIND_BYTES = 16 * 1024 * 1024;

/**
 * A bind mount whose source is a SOPS file of the repository (`./conf/app.enc.yaml:/etc/app.yaml:ro`):
 * mounted from its decrypted copy (a content-addressed path, like a decrypted secret), named
 * `file <path>` in plans. Plain files, directories and host paths outside the repository are
 * left as they are. A writable mount of one is refused: the container would write into
 * berth's copy and nothing would reach the repository. null: refused, reported.
 */
export function decryptedBindMount(input: StackInput, mount: MountSpec, loc: PathSeg[], out: Diagnostic[]): MountSpec | null {
  if (mount.type !== 'bind' || !input.secrets || !isInside(input.root, mount.source) || !existsSync(mount.source)) return mount;
  const real = realpathSync(mount.source);
  const st = statSync(real);
  if (!st.isFile() || st.size > MAX_SOPS_BIND_BYTES || !isInside(realpathSync(input.root), real)) return mount;
  const rel = relative(input.root, mount.source).split('\\').join('/');
  const r = input.secrets.read(rel, readFileSync(real));
  if (r.kind === 'plain') return mount;
  if (r.kind === 'refused') {
    out.push(input.source.diag('sops', loc, `${rel}: ${r.message}`));
    return null;
  }
  if (!mount.readOnly) {
    out.push(input.source.diag('sops-bind-writable', loc, `${rel} is a SOPS file: the container gets berth's decrypted copy, so mount it read-only (\`:ro\`)`));
    return null;
  }
  return { ...mount, source: input.secrets.mountPath(rel, r.bytes), secret: `file ${rel}`, createHostPath: false };
}
