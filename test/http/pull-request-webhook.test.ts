import { describe, expect, it } from 'vitest';
import { pullRequestOf } from '../../src/http/pull-request-webhook.js';

/** The pull-request deliveries of each forge, in their documented shapes (trimmed to what berth reads). */
const SHA = '0123456789abcdef0123456789abcdef01234567';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const github = (action: string, over: object = {}) => json({ action, number: 7, pull_request: { number: 7, head: { sha: SHA, ref: 'feature' }, base: { ref: 'main' } }, ...over });
const gitlab = (action: string, attrs: object = {}) => json({ object_kind: 'merge_request', object_attributes: { action, iid: 3, target_branch: 'main', last_commit: { id: SHA }, ...attrs } });

describe('pullRequestOf', () => {
  it('reads GitHub opened/synchronize/reopened into number, head, base and refs/pull/N/head', () => {
    for (const action of ['opened', 'synchronize', 'reopened']) {
      expect(pullRequestOf({ 'x-github-event': 'pull_request' }, github(action))).toEqual({
        kind: 'pull-request',
        event: { provider: 'github', number: 7, headSha: SHA, base: 'main', action, ref: 'refs/pull/7/head' },
      });
    }
  });

  it('reads Gitea (with its GitHub-compatible header too), whose new head is "synchronized"', () => {
    const r = pullRequestOf({ 'x-gitea-event': 'pull_request', 'x-github-event': 'pull_request' }, github('synchronized'));
    expect(r).toMatchObject({ kind: 'pull-request', event: { provider: 'gitea', ref: 'refs/pull/7/head', action: 'synchronized' } });
  });

  it('reads a GitLab Merge Request Hook into refs/merge-requests/N/head', () => {
    for (const action of ['open', 'reopen', 'update']) {
      expect(pullRequestOf({ 'x-gitlab-event': 'Merge Request Hook' }, gitlab(action))).toEqual({
        kind: 'pull-request',
        event: { provider: 'gitlab', number: 3, headSha: SHA, base: 'main', action, ref: 'refs/merge-requests/3/head' },
      });
    }
  });

  it('ignores closed, merged, labeled and edited requests', () => {
    expect(pullRequestOf({ 'x-github-event': 'pull_request' }, github('closed'))).toEqual({ kind: 'ignored', reason: 'pull request closed' });
    expect(pullRequestOf({ 'x-github-event': 'pull_request' }, github('labeled')).kind).toBe('ignored');
    expect(pullRequestOf({ 'x-gitlab-event': 'Merge Request Hook' }, gitlab('merge'))).toEqual({ kind: 'ignored', reason: 'merge request merge' });
    expect(pullRequestOf({ 'x-gitlab-event': 'Merge Request Hook' }, gitlab('close')).kind).toBe('ignored');
  });

  it('leaves pushes, pings and other events to the push path', () => {
    expect(pullRequestOf({ 'x-github-event': 'push' }, json({ ref: 'refs/heads/main' }))).toEqual({ kind: 'not-pull-request' });
    expect(pullRequestOf({ 'x-github-event': 'ping' }, json({}))).toEqual({ kind: 'not-pull-request' });
    expect(pullRequestOf({ 'x-gitlab-event': 'Push Hook' }, json({ ref: 'refs/heads/main' }))).toEqual({ kind: 'not-pull-request' });
    expect(pullRequestOf({}, json({}))).toEqual({ kind: 'not-pull-request' });
  });

  it('refuses payloads whose number, head or base could reach a git command line', () => {
    const bad: [string, Buffer][] = [
      ['number as a string', github('opened', { number: '7; rm -rf /' })],
      ['negative number', github('opened', { number: -1 })],
      ['fractional number', github('opened', { number: 1.5 })],
      ['head that is no commit id', json({ action: 'opened', number: 7, pull_request: { head: { sha: '--upload-pack=evil' }, base: { ref: 'main' } } })],
      ['no base', json({ action: 'opened', number: 7, pull_request: { head: { sha: SHA } } })],
      ['no pull_request', json({ action: 'opened', number: 7 })],
      ['not JSON', Buffer.from('{')],
    ];
    for (const [what, body] of bad) expect(pullRequestOf({ 'x-github-event': 'pull_request' }, body).kind, what).toBe('invalid');
    expect(pullRequestOf({ 'x-gitlab-event': 'Merge Request Hook' }, gitlab('open', { iid: '3' })).kind).toBe('invalid');
    expect(pullRequestOf({ 'x-gitlab-event': 'Merge Request Hook' }, json({ object_kind: 'merge_request' })).kind).toBe('invalid');
  });

  it('reads the form-encoded GitHub payload', () => {
    const body = new URLSearchParams({ payload: github('opened').toString() }).toString();
    expect(pullRequestOf({ 'x-github-event': 'pull_request', 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(body)).kind).toBe('pull-request');
  });
});
