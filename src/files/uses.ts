import { relative, resolve, sep } from 'node:path';
import type { MountSpec, RepoFileKind, RepoFileRef } from '../model/desired.js';
import { isInside } from '../compose/mounts.js';

/**
 * Which files of the repository a service uses, read from its (interpolated,
 * validated) Compose definition: bind-mount sources inside the repository,
 * file-based `configs:`/`secrets:`, `env_file`s, and the build context and
 * Dockerfile. Pure: paths only, no file is opened. The content identity of
 * each is filled in later (identify.ts), so loading stays synchronous.
 *
 * Hook for `extends`/`include`: a loader that merges other files into a
 * service passes them as `extra` (kind `extends` or `include`); they join the
 * same identity set and the same plan reasons.
 */
export interface FileUseInput {
  /** Absolute repository root. */
  root: string;
  /** Absolute stack directory (relative paths resolve here). */
  stackDir: string;
  /** The service's definition. */
  def: Record<string, unknown>;
  /** The Compose file's top level (for `secrets:`/`configs:` declarations). */
  top: Record<string, unknown>;
  /** The service's normalized mounts. */
  mounts: MountSpec[];
  extra?: { kind: Extract<RepoFileKind, 'extends' | 'include'>; abs: string }[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export function repoRelative(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}

export function serviceFileUses(input: FileUseInput): RepoFileRef[] {
  const { root, stackDir, def, top } = input;
  const out: RepoFileRef[] = [];
  const add = (kind: RepoFileKind, abs: string, extra: Partial<RepoFileRef> = {}) => {
    if (!isInside(root, abs) || abs === root) return; // outside: the host owns it, it stays as it is
    out.push({ kind, path: repoRelative(root, abs), ...extra, id: null });
  };

  // secrets/configs first, so their mounts are not also listed as plain binds.
  const fileTargets = new Set<string>();
  // A SOPS file berth decrypted (src/secrets) is mounted from its own materialized plaintext and
  // hashed by a salted hash of it: the encrypted blob is neither its identity nor its snapshot
  // (a re-encryption of the same plaintext must not be a change).
  const decrypted = new Set(input.mounts.filter((m) => m.type === 'bind' && m.secret).map((m) => m.target));
  for (const section of ['secrets', 'configs'] as const) {
    const refs = def[section];
    const decls = top[section];
    if (!Array.isArray(refs) || !isObj(decls)) continue;
    for (const ref of refs) {
      const name = isObj(ref) ? str(ref.source) : str(ref);
      const decl = decls[name];
      if (!isObj(decl) || decl.file === undefined) continue;
      const t = isObj(ref) && ref.target !== undefined ? str(ref.target) : name;
      const target = t.startsWith('/') ? t : section === 'secrets' ? `/run/secrets/${t}` : `/${t}`;
      fileTargets.add(target);
      if (decrypted.has(target)) continue;
      add(section === 'secrets' ? 'secret' : 'config', resolve(stackDir, str(decl.file)), { name, target });
    }
  }
  for (const m of input.mounts) {
    // A decrypted SOPS bind (m.secret) is identified by its content-addressed source, like a decrypted secret.
    if (m.type !== 'bind' || m.secret || fileTargets.has(m.target)) continue;
    add('bind', m.source, { target: m.target, ...(m.readOnly ? {} : { writable: true }) });
  }
  const envFiles = def.env_file === undefined ? [] : Array.isArray(def.env_file) ? def.env_file : [def.env_file];
  for (const f of envFiles) add('env_file', resolve(stackDir, isObj(f) ? str(f.path) : str(f)));
  const build = def.build;
  if (typeof build === 'string' || isObj(build)) {
    const context = typeof build === 'string' ? build : build.context !== undefined ? str(build.context) : '.';
    // A URL context is refused by validation (src/build); it has no file here.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(context) && !context.startsWith('git@')) {
      const ctxDir = resolve(stackDir, context);
      add('build-context', ctxDir);
      if (isObj(build) && build.dockerfile !== undefined && build.dockerfile_inline === undefined) {
        const df = resolve(ctxDir, str(build.dockerfile));
        // A Dockerfile inside the context is already covered by the context's tree id.
        if (!isInside(ctxDir, df)) add('dockerfile', df);
      }
    }
  }
  for (const e of input.extra ?? []) add(e.kind, e.abs);
  return dedupe(out);
}

function dedupe(refs: RepoFileRef[]): RepoFileRef[] {
  const seen = new Set<string>();
  const out: RepoFileRef[] = [];
  for (const r of refs) {
    const k = `${r.kind}\0${r.path}\0${r.target ?? ''}\0${r.name ?? ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : (a.target ?? '') < (b.target ?? '') ? -1 : 1));
}
