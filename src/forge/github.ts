import type { ForgeSpec } from '../model/desired.js';
import type { CommitStatus, ForgePort, PullRequestDraft } from '../ports/forge.js';
import { forgeJson, type FetchLike } from './http.js';

/**
 * GitHub REST v3 (github.com: https://api.github.com; Enterprise Server:
 * https://HOST/api/v3). Statuses: POST /repos/{o}/{r}/statuses/{sha}.
 * Comments of a pull request are issue comments: GET/POST
 * /repos/{o}/{r}/issues/{n}/comments, PATCH /repos/{o}/{r}/issues/comments/{id}.
 * Pull requests: GET /repos/{o}/{r}/pulls?state=all&head={o}:{branch},
 * POST /repos/{o}/{r}/pulls {title, head, base, body}.
 * Gitea/Forgejo speak the same paths under /api/v1 (gitea.ts).
 */
export class GitHubForge implements ForgePort {
  readonly type: 'github' | 'gitea' = 'github';
  constructor(
    protected readonly spec: ForgeSpec,
    protected readonly fetchImpl: FetchLike = fetch,
  ) {}

  protected headers(): Record<string, string> {
    return { authorization: `Bearer ${this.spec.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };
  }

  protected repoUrl(path: string): string {
    const [owner, name] = this.spec.repo.split('/');
    return `${this.spec.url}/repos/${encodeURIComponent(owner ?? '')}/${encodeURIComponent(name ?? '')}${path}`;
  }

  async setStatus(s: CommitStatus): Promise<void> {
    await forgeJson(this.fetchImpl, {
      method: 'POST',
      url: this.repoUrl(`/statuses/${encodeURIComponent(s.sha)}`),
      headers: this.headers(),
      body: { state: s.state, context: s.context, description: s.description.slice(0, 140), ...(s.targetUrl ? { target_url: s.targetUrl } : {}) },
    });
  }

  async upsertComment(number: number, marker: string, body: string): Promise<{ id: string; created: boolean }> {
    for (let page = 1; page <= 20; page++) {
      const list = await forgeJson<{ id: number; body: string }[]>(this.fetchImpl, {
        method: 'GET',
        url: this.repoUrl(`/issues/${number}/comments?per_page=100&page=${page}`),
        headers: this.headers(),
      });
      const mine = list.find((c) => typeof c.body === 'string' && c.body.includes(marker));
      if (mine) {
        await forgeJson(this.fetchImpl, { method: 'PATCH', url: this.repoUrl(`/issues/comments/${mine.id}`), headers: this.headers(), body: { body } });
        return { id: String(mine.id), created: false };
      }
      if (list.length < 100) break;
    }
    const made = await forgeJson<{ id: number }>(this.fetchImpl, { method: 'POST', url: this.repoUrl(`/issues/${number}/comments`), headers: this.headers(), body: { body } });
    return { id: String(made.id), created: true };
  }

  async ensurePullRequest(pr: PullRequestDraft): Promise<{ number: number; url: string; created: boolean }> {
    const owner = this.spec.repo.split('/')[0] ?? '';
    for (let page = 1; page <= 20; page++) {
      // `head` filters on GitHub; Gitea ignores it, hence the check of head.ref below.
      const list = await forgeJson<{ number: number; html_url: string; head?: { ref?: string } }[]>(this.fetchImpl, {
        method: 'GET',
        url: this.repoUrl(`/pulls?state=all&head=${encodeURIComponent(`${owner}:${pr.head}`)}&per_page=100&page=${page}`),
        headers: this.headers(),
      });
      const mine = list.find((p) => p.head?.ref === pr.head);
      if (mine) return { number: mine.number, url: mine.html_url, created: false };
      if (list.length < 100) break;
    }
    const made = await forgeJson<{ number: number; html_url: string }>(this.fetchImpl, {
      method: 'POST',
      url: this.repoUrl('/pulls'),
      headers: this.headers(),
      body: { title: pr.title, head: pr.head, base: pr.base, body: pr.body },
    });
    return { number: made.number, url: made.html_url, created: true };
  }
}
