import { join } from 'node:path';
import { configHash } from '../compose/hash.js';
import type { DesiredState, RepoFileRef, ServiceSpec } from '../model/desired.js';
import type { DesiredSource, GitPort } from '../ports/git.js';
import type { Diagnostic } from '../model/errors.js';
import { fileDiag } from '../compose/yaml-source.js';
import { withBuildTags } from '../build/tag.js';

/**
 * Content identity of the repository files services use (ROADMAP item
 * "everything in the repository is desired state"). The identity joins the
 * config hash, so a changed `traefik.yml` recreates exactly the containers
 * that use it, and an unchanged one costs nothing:
 *
 * - a git checkout: the committed object ids (`git ls-tree`, one call per
 *   revision, cached by the Git port); a path with uncommitted changes, or a
 *   file git does not track (a git-ignored secrets file), is hashed from disk;
 * - a tree that is not a git checkout: every file is hashed, up to a bound
 *   (a clear error past it, never a silent skip);
 * - a directory git does not track, or a writable directory bind of a
 *   non-git tree, is `live`: a data directory the container writes to, not
 *   desired state. It is neither hashed nor snapshotted.
 */
export interface WorkingTreeHasher {
  /** `sha256:<hex>` of a file or directory (`absent` when missing); throws past the bound. */
  hash(abs: string, budget: HashBudget): Promise<{ id: string; isDir: boolean }>;
}

export interface HashBudget {
  bytes: number;
  files: number;
}

export const DEFAULT_HASH_BUDGET: HashBudget = { bytes: 64 * 1024 * 1024, files: 20_000 };

export interface IdentifyResult {
  desired: DesiredState;
  /** A path could not be identified (too large): nothing is applied. */
  errors: { path: string; message: string }[];
}

export async function identifyRepoFiles(
  desired: DesiredState,
  source: DesiredSource,
  git: Pick<GitPort, 'objectIds' | 'changedPaths'> | null,
  disk: WorkingTreeHasher,
  budget: HashBudget = DEFAULT_HASH_BUDGET,
): Promise<IdentifyResult> {
  const refs = desired.stacks.flatMap((s) => s.services.flatMap((svc) => svc.files ?? []));
  if (refs.length === 0) return { desired, errors: [] };
  const paths = [...new Set(refs.map((r) => r.path))].sort();
  const tracked = source.revision && git ? await git.objectIds(source.dir, source.revision, paths) : null;
  const changed = tracked && source.dirty && git ? await git.changedPaths(source.dir, paths) : new Set<string>();
  const left = { ...budget };
  const ids = new Map<string, string>();
  const errors: IdentifyResult['errors'] = [];
  for (const path of paths) {
    const obj = tracked?.get(path);
    if (obj && !changed.has(path) && obj.type !== 'commit') {
      ids.set(path, `git:${obj.type}:${obj.oid}`);
      continue;
    }
    try {
      const h = await disk.hash(join(desired.root, path), left);
      // A directory nobody committed is where a container keeps its data: it stays a live bind.
      const mountedOnly = refs.every((r) => r.path !== path || r.kind === 'bind');
      const liveDir = h.isDir && mountedOnly && ((tracked !== null && !obj) || (tracked === null && refs.some((r) => r.path === path && r.writable)));
      ids.set(path, liveDir ? 'live' : h.id);
    } catch (e) {
      errors.push({ path, message: (e as Error).message });
    }
  }
  return { desired: withFileIds(desired, ids), errors };
}

/** The desired state with each file's identity filled in and each config hash recomputed. Pure. */
export function withFileIds(desired: DesiredState, ids: ReadonlyMap<string, string>): DesiredState {
  const stacks = desired.stacks.map((s) => ({
    ...s,
    services: s.services.map((svc) => {
      if (!svc.files) return svc;
      const files: RepoFileRef[] = svc.files.map((f) => ({ ...f, id: ids.get(f.path) ?? f.id }));
      const { configHash: _old, ...rest } = { ...svc, files };
      return { ...rest, configHash: configHash(rest) } as ServiceSpec;
    }),
  }));
  return { ...desired, stacks };
}

/**
 * Load-time step shared by every command that compares with the host: file
 * identities, then the content tags of built services. An identity that
 * cannot be computed is a diagnostic on the file (nothing is applied).
 */
export async function identifiedDesired(
  desired: DesiredState,
  source: DesiredSource,
  git: Pick<GitPort, 'objectIds' | 'changedPaths'> | null,
  disk: WorkingTreeHasher,
): Promise<{ desired: DesiredState; diagnostics: Diagnostic[] } | { desired: null; diagnostics: Diagnostic[] }> {
  const identified = await identifyRepoFiles(desired, source, git, disk);
  if (identified.errors.length > 0) return { desired: null, diagnostics: identified.errors.map((e) => fileDiag(e.path, 'file-identity', e.message)) };
  return { desired: withBuildTags(identified.desired), diagnostics: [] };
}
