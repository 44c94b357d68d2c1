import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { providerOf, pushedBranch, verifyWebhook } from '../../src/http/webhook.js';

const SECRET = 'hook-secret-7d3e';
const BODY = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: 'abc' }));
const hex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

describe('verifyWebhook', () => {
  it('accepts GitHub, Gitea and GitLab credentials', () => {
    expect(verifyWebhook({ 'x-hub-signature-256': `sha256=${hex(SECRET, BODY)}` }, BODY, SECRET)).toEqual({ ok: true, provider: 'github' });
    expect(verifyWebhook({ 'x-gitea-signature': hex(SECRET, BODY) }, BODY, SECRET)).toEqual({ ok: true, provider: 'gitea' });
    expect(verifyWebhook({ 'x-gitlab-token': SECRET }, BODY, SECRET)).toEqual({ ok: true, provider: 'gitlab' });
  });

  it('matches header names case-insensitively and hex in either case', () => {
    expect(verifyWebhook({ 'X-Hub-Signature-256': `sha256=${hex(SECRET, BODY).toUpperCase()}` }, BODY, SECRET).ok).toBe(true);
  });

  it('treats a real Gitea delivery (which also carries X-Hub-Signature-256) as Gitea', () => {
    const sig = hex(SECRET, BODY);
    expect(verifyWebhook({ 'x-gitea-signature': sig, 'x-hub-signature-256': `sha256=${sig}`, 'x-github-event': 'push' }, BODY, SECRET)).toEqual({ ok: true, provider: 'gitea' });
    // A wrong Gitea signature is not rescued by a valid GitHub one.
    expect(verifyWebhook({ 'x-gitea-signature': '0'.repeat(64), 'x-hub-signature-256': `sha256=${sig}` }, BODY, SECRET).ok).toBe(false);
  });

  const bad: [string, Record<string, string | string[]>, Buffer?][] = [
    ['no header', {}],
    ['wrong secret (GitHub)', { 'x-hub-signature-256': `sha256=${hex('other', BODY)}` }],
    ['tampered body', { 'x-hub-signature-256': `sha256=${hex(SECRET, BODY)}` }, Buffer.concat([BODY, Buffer.from(' ')])],
    ['truncated signature', { 'x-hub-signature-256': `sha256=${hex(SECRET, BODY).slice(0, 40)}` }],
    ['missing sha256= prefix', { 'x-hub-signature-256': hex(SECRET, BODY) }],
    ['sha1 prefix', { 'x-hub-signature-256': `sha1=${hex(SECRET, BODY)}` }],
    ['non-hex signature', { 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }],
    ['empty signature', { 'x-hub-signature-256': '' }],
    ['repeated header', { 'x-hub-signature-256': [`sha256=${hex(SECRET, BODY)}`, `sha256=${hex(SECRET, BODY)}`] }],
    ['wrong secret (Gitea)', { 'x-gitea-signature': hex('other', BODY) }],
    ['Gitea with prefix', { 'x-gitea-signature': `sha256=${hex(SECRET, BODY)}` }],
    ['empty Gitea signature (hook without secret)', { 'x-gitea-signature': '' }],
    ['wrong GitLab token', { 'x-gitlab-token': 'hook-secret-7d3f' }],
    ['GitLab token prefix', { 'x-gitlab-token': SECRET.slice(0, 5) }],
    ['GitLab token longer', { 'x-gitlab-token': SECRET + 'x' }],
    ['empty GitLab token', { 'x-gitlab-token': '' }],
  ];
  it.each(bad)('rejects %s', (_name, headers, body) => {
    const r = verifyWebhook(headers, body ?? BODY, SECRET);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).not.toContain(SECRET);
      expect(r.reason).not.toContain(hex(SECRET, BODY));
    }
  });

  it('rejects everything when the secret is empty', () => {
    expect(verifyWebhook({ 'x-gitlab-token': '' }, BODY, '').ok).toBe(false);
    expect(verifyWebhook({ 'x-hub-signature-256': `sha256=${hex('', BODY)}` }, BODY, '').ok).toBe(false);
  });
});

describe('pushedBranch', () => {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));

  it('reads the branch of GitHub, Gitea and GitLab pushes', () => {
    expect(pushedBranch({ 'x-github-event': 'push' }, json({ ref: 'refs/heads/main' }))).toEqual({ kind: 'push', branch: 'main' });
    expect(pushedBranch({ 'x-gitea-event': 'push', 'x-github-event': 'push' }, json({ ref: 'refs/heads/feature/x' }))).toEqual({ kind: 'push', branch: 'feature/x' });
    expect(pushedBranch({ 'x-gitlab-event': 'Push Hook' }, json({ object_kind: 'push', ref: 'refs/heads/prod' }))).toEqual({ kind: 'push', branch: 'prod' });
    expect(pushedBranch({ 'x-gitlab-event': 'System Hook' }, json({ event_name: 'push', ref: 'refs/heads/prod' }))).toEqual({ kind: 'push', branch: 'prod' });
  });

  it('reads the form-encoded GitHub payload', () => {
    const body = new URLSearchParams({ payload: JSON.stringify({ ref: 'refs/heads/main' }) }).toString();
    expect(pushedBranch({ 'x-github-event': 'push', 'content-type': 'application/x-www-form-urlencoded' }, Buffer.from(body))).toEqual({ kind: 'push', branch: 'main' });
  });

  it('knows a ping, and ignores tags and other events', () => {
    expect(pushedBranch({ 'x-github-event': 'ping' }, json({ zen: 'Keep it logically awesome.', hook_id: 1 }))).toEqual({ kind: 'ping' });
    expect(pushedBranch({ 'x-github-event': 'issues' }, json({ action: 'opened' })).kind).toBe('ignored');
    expect(pushedBranch({ 'x-gitea-event': 'issues' }, json({ action: 'opened' })).kind).toBe('ignored');
    expect(pushedBranch({ 'x-gitlab-event': 'Issue Hook' }, json({ object_kind: 'issue' })).kind).toBe('ignored');
    expect(pushedBranch({ 'x-gitlab-event': 'Tag Push Hook' }, json({ object_kind: 'tag_push', ref: 'refs/tags/v1' })).kind).toBe('ignored');
    expect(pushedBranch({ 'x-github-event': 'push' }, json({ ref: 'refs/tags/v1' })).kind).toBe('ignored');
    expect(pushedBranch({ 'x-gitlab-event': 'System Hook' }, json({ event_name: 'project_create' })).kind).toBe('ignored');
    expect(pushedBranch({}, json({ ref: 'refs/heads/main' }))).toEqual({ kind: 'ignored', reason: 'no event header' });
  });

  it('calls an unreadable push invalid', () => {
    expect(pushedBranch({ 'x-github-event': 'push' }, Buffer.from('{not json')).kind).toBe('invalid');
    expect(pushedBranch({ 'x-github-event': 'push' }, json({ after: 'x' })).kind).toBe('invalid');
    expect(pushedBranch({ 'x-github-event': 'push' }, json(['refs/heads/main'])).kind).toBe('invalid');
    expect(pushedBranch({ 'x-github-event': 'push' }, json({ ref: 'refs/heads/' })).kind).toBe('invalid');
  });

  it('names the provider of an unsigned delivery by its event header', () => {
    expect(providerOf({ 'x-gitea-event': 'push', 'x-github-event': 'push' })).toBe('gitea');
    expect(providerOf({ 'x-gitlab-event': 'Push Hook' })).toBe('gitlab');
    expect(providerOf({ 'x-github-event': 'push' })).toBe('github');
    expect(providerOf({})).toBeNull();
  });
});
