import type { RepoFileRef, ServiceSpec } from '../model/desired.js';

/**
 * Mounted files never go stale: the design.
 *
 * A bind mount of a file pins its inode. When berth checks out a new commit,
 * git writes new files and a running container keeps the old, deleted one; a
 * directory bind would instead change under a container created for another
 * revision. So containers never mount the checkout. Each repository file or
 * directory a container mounts is first written, once, into an immutable,
 * content-addressed snapshot under the state dir:
 *
 *     $BERTH_STATE_DIR/files/            0700: nothing below is reachable by other users
 *       b-<blob oid>/c                   a committed file (0644, 0755 when executable)
 *       t-<tree oid>/c/…                 a committed directory
 *       s-<sha256>/c                     a file of a working tree that is not committed
 *       b-<oid>-secret/c                 a secret: 0400, its directory 0700
 *       .tmp-<pid>-<random>/             a snapshot being written
 *
 * The name is the content's identity (the same id that joins the config
 * hash), so a snapshot never changes once written, two services or two
 * revisions with the same content share it, and a container created for an
 * earlier revision keeps reading exactly that revision's bytes whatever is
 * checked out later. A snapshot is written into a temporary directory and
 * renamed into place (rename is atomic), so a crash leaves either nothing or
 * a complete snapshot; temporary directories of dead processes are swept.
 * Each container carries the snapshots it mounts in the `io.berth.files`
 * label; after an apply, snapshots that no container (running or stopped)
 * names and the desired state does not use are removed.
 *
 * What stays a live bind: a path outside the repository (the host owns it),
 * a directory git does not track or a writable directory of a non-git tree
 * (a data directory, not desired state).
 */

/** The snapshot directory name for `ref`, or null when it is mounted live (or not mounted at all). */
export function snapshotKey(ref: RepoFileRef): string | null {
  if (ref.target === undefined || ref.kind === 'env_file' || ref.kind === 'build-context' || ref.kind === 'dockerfile') return null;
  const id = ref.id;
  if (id === null || id === 'live' || id === 'absent') return null;
  const secret = ref.kind === 'secret' ? '-secret' : '';
  let m = /^git:(blob|tree):([0-9a-f]{40,64})$/.exec(id);
  if (m) return `${m[1] === 'blob' ? 'b' : 't'}-${m[2]}${secret}`;
  m = /^sha256:([0-9a-f]{64})$/.exec(id);
  if (m) return `s-${m[1]}${secret}`;
  return null;
}

/** The snapshots a service's container mounts, sorted (the `io.berth.files` label). */
export function snapshotKeys(spec: Pick<ServiceSpec, 'files'>): string[] {
  return [...new Set((spec.files ?? []).map(snapshotKey).filter((k): k is string => k !== null))].sort();
}

/**
 * Writes snapshots. The file store (src/adapters/file-store.ts) writes the
 * repository's bytes; a decrypting materializer (SOPS secrets) plugs in here
 * by implementing the same two calls.
 */
export interface FileMaterializer {
  /** The host path to mount for `ref` (its snapshot, written now when missing). */
  materialize(root: string, ref: RepoFileRef & { id: string }, key: string): Promise<string>;
  /** Remove snapshots not in `keep`, and temporary directories of dead writers. Returns what was removed. */
  sweep(keep: ReadonlySet<string>): Promise<string[]>;
}

/** The spec with each snapshotted mount's source pointing at its snapshot. Pure. */
export function withSnapshotSources(spec: ServiceSpec, hostPaths: ReadonlyMap<string, string>): ServiceSpec {
  const byTarget = new Map<string, string>();
  for (const f of spec.files ?? []) {
    const key = snapshotKey(f);
    const p = key ? hostPaths.get(key) : undefined;
    if (p && f.target) byTarget.set(f.target, p);
  }
  if (byTarget.size === 0) return spec;
  return {
    ...spec,
    mounts: spec.mounts.map((m) => (m.type === 'bind' && !m.secret && byTarget.has(m.target) ? { ...m, source: byTarget.get(m.target)!, createHostPath: false } : m)),
  };
}
