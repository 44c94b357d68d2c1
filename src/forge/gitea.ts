import type { ForgeSpec } from '../model/desired.js';
import type { FetchLike } from './http.js';
import { GitHubForge } from './github.js';

/**
 * Gitea and Forgejo: the GitHub paths under /api/v1 (statuses, issue
 * comments, PATCH of a comment by id), `Authorization: token …`, and
 * pages of `limit` instead of `per_page`.
 */
export class GiteaForge extends GitHubForge {
  override readonly type = 'gitea' as const;
  constructor(spec: ForgeSpec, fetchImpl?: FetchLike) {
    // `url` may be the site (https://gitea.example.org) or its API base.
    super({ ...spec, url: /\/api\/v1$/.test(spec.url) ? spec.url : `${spec.url}/api/v1` }, fetchImpl);
  }

  protected override headers(): Record<string, string> {
    return { authorization: `token ${this.spec.token}` };
  }

  protected override repoUrl(path: string): string {
    return super.repoUrl(path.replace('per_page=', 'limit='));
  }
}
