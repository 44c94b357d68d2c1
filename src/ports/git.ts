import type { DesiredSource } from '../model/source.js';

export type { DesiredSource } from '../model/source.js';

/** An entry of a committed tree: what `git ls-tree` prints. */
export interface GitObject {
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  /** `100644`, `100755`, `120000` (link), `040000`. */
  mode: string;
}

export interface GitPort {
  /** Clone or fetch `url`'s `branch` into the cache and check it out. */
  fetch(url: string, branch: string): Promise<DesiredSource>;
  /** The commit a local directory is at, or null when it is not a git work tree. */
  localRevision(dir: string): Promise<{ revision: string; subject: string; author: string; dirty: boolean } | null>;
  /** Check out one commit of `url` (not the branch head) into a cache dir of its own: the last good revision after a restart. */
  fetchRevision?(url: string, revision: string): Promise<DesiredSource>;
  /** Check out `ref` of `url` (a pull request's head, never applied) into a cache dir of its own, replacing what it held. */
  fetchRef?(url: string, ref: string): Promise<DesiredSource>;
  /**
   * The committed object of each of `paths` (relative to `dir`) at `revision`:
   * one `git ls-tree` per revision and path set, cached, so a no-op pass costs
   * nothing. A path git does not track is absent from the result.
   */
  objectIds(dir: string, revision: string, paths: string[]): Promise<Map<string, GitObject>>;
  /** Of `paths`, those with uncommitted changes (modified, added or untracked below them). */
  changedPaths(dir: string, paths: string[]): Promise<Set<string>>;
  /** The bytes of blob `oid`, or for a tree every file below it (path → mode, bytes). */
  readBlob(dir: string, oid: string): Promise<Buffer>;
  readTree(dir: string, oid: string): Promise<{ path: string; mode: string; data: Buffer }[]>;
}

/** A URL for display: any user:token@ part removed (tokens are secrets). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]+@/i, '$1***@');
}

/** `--repo` is a URL (clone it) when it has a scheme or the scp-like `user@host:path` form. */
export function isRemoteRepo(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[\w.-]+@[\w.-]+:/.test(repo);
}
