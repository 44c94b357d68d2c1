/**
 * A code forge (GitHub, Gitea/Forgejo, GitLab) as berth uses it: commit
 * statuses (`berth/plan`, `berth/deploy`) and one comment per pull request
 * that berth keeps up to date. One adapter per forge in src/forge/.
 */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  sha: string;
  /** `berth/plan`, `berth/deploy`. */
  context: string;
  state: CommitState;
  /** One line; forges cut it (GitHub at 140 characters). */
  description: string;
  targetUrl?: string;
}

export interface ForgePort {
  readonly type: 'github' | 'gitea' | 'gitlab';
  setStatus(status: CommitStatus): Promise<void>;
  /**
   * Post `body` on pull request `number`, or edit berth's earlier comment
   * there: the one whose body contains `marker` (an HTML comment, invisible
   * once rendered). One comment per request, updated in place.
   */
  upsertComment(number: number, marker: string, body: string): Promise<{ id: string; created: boolean }>;
  /**
   * A pull request from branch `head` into `base`: the one that exists
   * already for `head` (open, closed or merged — berth never opens a second
   * one for the same branch, so a closed request stays closed), or a new one.
   */
  ensurePullRequest(pr: PullRequestDraft): Promise<{ number: number; url: string; created: boolean }>;
}

export interface PullRequestDraft {
  head: string;
  base: string;
  title: string;
  body: string;
}

/** A forge answer that was not 2xx, or no answer. The message never holds the token. */
export class ForgeHttpError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
