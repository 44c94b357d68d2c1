import { header, parsePayload, quote, type Headers, type Provider } from './webhook.js';

/**
 * Pull-request deliveries (pure: headers and the raw body in, data out), for
 * plan previews. The delivery is authenticated by the caller exactly as a push
 * (verifyWebhook); this only reads what a preview needs:
 *
 *  - GitHub `X-GitHub-Event: pull_request`
 *    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request):
 *    `action` opened | synchronize | reopened (others — closed, labeled, edited… — are
 *    ignored), `number`, `pull_request.head.sha`, `pull_request.base.ref`.
 *  - Gitea/Forgejo `X-Gitea-Event: pull_request` (services/webhook payloads in
 *    go-gitea/gitea): the same fields; a new head is `synchronized`.
 *  - GitLab `X-Gitlab-Event: Merge Request Hook`
 *    (https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events):
 *    `object_kind: merge_request`, `object_attributes.{action, iid, target_branch,
 *    last_commit.id}`; action open | reopen | update (an update that only edits the
 *    title carries the same head: the runner skips a head it already previewed).
 *
 * The head is fetched from the forge's own ref for the request (refs/pull/N/head,
 * GitLab refs/merge-requests/N/head); N is checked to be a plain positive integer,
 * so nothing from the payload reaches a git command line but that number.
 */
export interface PullRequestEvent {
  provider: Provider;
  number: number;
  /** The head the forge announced (40 or 64 hex digits). */
  headSha: string;
  /** The branch the request wants to merge into. */
  base: string;
  action: string;
  /** The ref to fetch the head from. */
  ref: string;
}

export type PullRequestInfo = { kind: 'pull-request'; event: PullRequestEvent } | { kind: 'not-pull-request' } | { kind: 'ignored'; reason: string } | { kind: 'invalid'; reason: string };

const GITHUB_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);
const GITEA_ACTIONS = new Set(['opened', 'synchronized', 'synchronize', 'reopened']);
const GITLAB_ACTIONS = new Set(['open', 'reopen', 'update']);
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

const obj = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** The pull-request event a delivery carries, or `not-pull-request` (a push, a ping…) for the caller's other paths. */
export function pullRequestOf(headers: Headers, body: Buffer | string): PullRequestInfo {
  const gitlabEvent = header(headers, 'x-gitlab-event');
  if (gitlabEvent) {
    if (gitlabEvent !== 'Merge Request Hook') return { kind: 'not-pull-request' };
    const p = parsePayload(headers, body);
    const a = obj(p?.object_attributes);
    if (!p || !a) return { kind: 'invalid', reason: 'merge request payload has no object_attributes' };
    const action = String(a.action ?? '');
    if (!GITLAB_ACTIONS.has(action)) return { kind: 'ignored', reason: `merge request ${quote(action || 'event')}` };
    return event('gitlab', action, a.iid, obj(a.last_commit)?.id, a.target_branch, (n) => `refs/merge-requests/${n}/head`);
  }
  const gitea = header(headers, 'x-gitea-event');
  const name = gitea || header(headers, 'x-github-event');
  if (name !== 'pull_request') return { kind: 'not-pull-request' };
  const provider: Provider = gitea ? 'gitea' : 'github';
  const p = parsePayload(headers, body);
  const pr = obj(p?.pull_request);
  if (!p || !pr) return { kind: 'invalid', reason: 'pull_request payload has no pull_request' };
  const action = String(p.action ?? '');
  if (!(provider === 'gitea' ? GITEA_ACTIONS : GITHUB_ACTIONS).has(action)) return { kind: 'ignored', reason: `pull request ${quote(action || 'event')}` };
  return event(provider, action, p.number ?? pr.number, obj(pr.head)?.sha, obj(pr.base)?.ref, (n) => `refs/pull/${n}/head`);
}

function event(provider: Provider, action: string, number: unknown, sha: unknown, base: unknown, ref: (n: number) => string): PullRequestInfo {
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) return { kind: 'invalid', reason: 'pull request number is not a positive integer' };
  if (typeof sha !== 'string' || !SHA.test(sha)) return { kind: 'invalid', reason: 'pull request head is not a commit id' };
  if (typeof base !== 'string' || base === '') return { kind: 'invalid', reason: 'pull request has no base branch' };
  return { kind: 'pull-request', event: { provider, number, headSha: sha, base: base.replace(/^refs\/heads\//, ''), action, ref: ref(number) } };
}
