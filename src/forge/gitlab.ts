import type { ForgeSpec } from '../model/desired.js';
import type { CommitState, CommitStatus, ForgePort, PullRequestDraft } from '../ports/forge.js';
import { forgeJson, type FetchLike } from './http.js';

/**
 * GitLab REST v4 (https://gitlab.com/api/v4 or a self-managed base).
 * Statuses: POST /projects/:id/statuses/:sha (state pending|running|success|
 * failed|canceled, name = context). Merge request comments are notes:
 * GET/POST /projects/:id/merge_requests/:iid/notes, PUT …/notes/:note_id.
 * Merge requests: GET /projects/:id/merge_requests?source_branch=…&state=all,
 * POST /projects/:id/merge_requests {source_branch, target_branch, title, description}.
 */
const STATE: Record<CommitState, string> = { pending: 'pending', success: 'success', failure: 'failed', error: 'failed' };

export class GitLabForge implements ForgePort {
  readonly type = 'gitlab' as const;
  constructor(
    private readonly spec: ForgeSpec,
    private readonly fetchImpl: FetchLike = fetch,
  ) {}

  private headers(): Record<string, string> {
    return { 'private-token': this.spec.token };
  }

  private projectUrl(path: string): string {
    return `${this.spec.url}/projects/${encodeURIComponent(this.spec.repo)}${path}`;
  }

  async setStatus(s: CommitStatus): Promise<void> {
    await forgeJson(this.fetchImpl, {
      method: 'POST',
      url: this.projectUrl(`/statuses/${encodeURIComponent(s.sha)}`),
      headers: this.headers(),
      body: { state: STATE[s.state], name: s.context, description: s.description.slice(0, 255), ...(s.targetUrl ? { target_url: s.targetUrl } : {}) },
    });
  }

  async upsertComment(number: number, marker: string, body: string): Promise<{ id: string; created: boolean }> {
    for (let page = 1; page <= 20; page++) {
      const list = await forgeJson<{ id: number; body: string; system?: boolean }[]>(this.fetchImpl, {
        method: 'GET',
        url: this.projectUrl(`/merge_requests/${number}/notes?per_page=100&page=${page}`),
        headers: this.headers(),
      });
      const mine = list.find((n) => !n.system && typeof n.body === 'string' && n.body.includes(marker));
      if (mine) {
        await forgeJson(this.fetchImpl, { method: 'PUT', url: this.projectUrl(`/merge_requests/${number}/notes/${mine.id}`), headers: this.headers(), body: { body } });
        return { id: String(mine.id), created: false };
      }
      if (list.length < 100) break;
    }
    const made = await forgeJson<{ id: number }>(this.fetchImpl, { method: 'POST', url: this.projectUrl(`/merge_requests/${number}/notes`), headers: this.headers(), body: { body } });
    return { id: String(made.id), created: true };
  }

  async ensurePullRequest(pr: PullRequestDraft): Promise<{ number: number; url: string; created: boolean }> {
    const list = await forgeJson<{ iid: number; web_url: string; source_branch?: string }[]>(this.fetchImpl, {
      method: 'GET',
      url: this.projectUrl(`/merge_requests?state=all&source_branch=${encodeURIComponent(pr.head)}&per_page=100`),
      headers: this.headers(),
    });
    const mine = list.find((m) => m.source_branch === pr.head);
    if (mine) return { number: mine.iid, url: mine.web_url, created: false };
    const made = await forgeJson<{ iid: number; web_url: string }>(this.fetchImpl, {
      method: 'POST',
      url: this.projectUrl('/merge_requests'),
      headers: this.headers(),
      body: { source_branch: pr.head, target_branch: pr.base, title: pr.title, description: pr.body },
    });
    return { number: made.iid, url: made.web_url, created: true };
  }
}
