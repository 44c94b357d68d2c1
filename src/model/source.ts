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
  /** The directory has uncommitted changes (only for a local checkout). */
  dirty?: boolean;
}
