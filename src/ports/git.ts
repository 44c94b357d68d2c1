/** Where the desired state comes from: a local directory or a git remote. */
export interface DesiredSource {
  /** Directory to load the desired state from. */
  dir: string;
  /** Commit, or null for a directory that is not a git checkout. */
  revision: string | null;
  /** What the user gave (`--repo`), for status output. */
  origin: string;
  /** Subject and author of the commit, when known (for chat messages). */
  subject?: string;
  author?: string;
}

export interface GitPort {
  /** Clone or fetch `url`'s `branch` into the cache and check it out. */
  fetch(url: string, branch: string): Promise<DesiredSource>;
  /** The commit a local directory is at, or null when it is not a git work tree. */
  localRevision(dir: string): Promise<{ revision: string; subject: string; author: string; dirty: boolean } | null>;
}

/** A URL for display: any user:token@ part removed (tokens are secrets). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]+@/i, '$1***@');
}

/** `--repo` is a URL (clone it) when it has a scheme or the scp-like `user@host:path` form. */
export function isRemoteRepo(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[\w.-]+@[\w.-]+:/.test(repo);
}
