/**
 * The git work berth's image automation does: a checkout of its own (never
 * the controller's cache, which the deploy reads), one commit per update, a
 * push. URLs may carry credentials; adapters keep them out of every message.
 */
export interface ImageRepoPort {
  /** A fresh checkout of `branch` of `url`: its dir and head commit. */
  checkout(url: string, branch: string): Promise<{ dir: string; revision: string }>;
  /** Compose files of the checkout's stacks (`stacks/<stack>/compose.yaml`…), relative to `dir`. */
  composeFiles(dir: string): Promise<string[]>;
  /** The text of `rel` as commit `rev` has it (not the work tree, which the last commitFile left elsewhere). */
  readFile(dir: string, rev: string, rel: string): Promise<string>;
  /** Whether `url` has the branch already (an update pushed by an earlier pass). */
  hasBranch(url: string, branch: string): Promise<boolean>;
  /** One commit on top of `base` that sets `rel` to `text`; returns its sha. */
  commitFile(dir: string, base: string, rel: string, text: string, message: string): Promise<string>;
  /** Push commit `sha` to `branch` of `url` (fast-forward only). */
  push(dir: string, url: string, sha: string, branch: string): Promise<void>;
  /** Remove the checkout. */
  dispose(dir: string): Promise<void>;
}
