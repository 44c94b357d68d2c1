import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactUrl, SimpleGitPort } from '../../src/adapters/simple-git.js';
import { isRemoteRepo } from '../../src/ports/git.js';
import { runCli } from '../support/cli.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], { cwd, encoding: 'utf8' }).trim();

/** A bare "remote" with one commit of a small desired state on `main`. */
function remote(): { url: string; work: string } {
  const base = mkdtempSync(join(tmpdir(), 'berth-git-'));
  const bare = join(base, 'remote.git');
  const work = join(base, 'work');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  cpSync(join(import.meta.dirname, '..', 'fixtures', 'parity'), work, { recursive: true });
  git(work, 'add', '-A');
  git(work, 'commit', '-qm', 'first');
  git(work, 'remote', 'add', 'origin', bare);
  git(work, 'push', '-q', 'origin', 'main');
  return { url: `file://${bare}`, work };
}

describe('git source', () => {
  it('tells URLs from directories', () => {
    for (const u of ['https://github.com/a/b.git', 'file:///srv/x.git', 'ssh://git@host/x', 'git@github.com:a/b.git']) expect(isRemoteRepo(u)).toBe(true);
    for (const d of ['.', 'desired-state', '/srv/repo', 'C:/x']) expect(isRemoteRepo(d)).toBe(false);
    expect(redactUrl('https://user:tok3n@github.com/a/b.git')).toBe('https://***@github.com/a/b.git');
  });

  it('fetches one older commit by its id into a dir of its own (the last good revision after a restart)', async () => {
    const { url, work } = remote();
    const firstRev = git(work, 'rev-parse', 'HEAD');
    writeFileSync(join(work, 'stacks', 'edge', 'compose.yaml'), 'services: [not valid\n');
    git(work, 'commit', '-qam', 'broken head');
    git(work, 'push', '-q', 'origin', 'main');
    const port = new SimpleGitPort(mkdtempSync(join(tmpdir(), 'berth-cache-')));
    const head = await port.fetch(url, 'main');
    const old = await port.fetchRevision(url, firstRev);
    expect(old.revision).toBe(firstRev);
    expect(old.subject).toBe('first');
    expect(old.dir).not.toBe(head.dir);
    expect(readFileSync(join(old.dir, 'stacks', 'edge', 'compose.yaml'), 'utf8')).not.toContain('not valid');
    await expect(port.fetchRevision(url, 'f'.repeat(40))).rejects.toThrow(/git fetch file:.* \(ffffffffffff\) failed/);
  });

  it('fetches a pull request head (refs/pull/N/head) into its own dir, replacing the previous one, never touching the branch checkout', async () => {
    const { url, work } = remote();
    const port = new SimpleGitPort(mkdtempSync(join(tmpdir(), 'berth-cache-')));
    const head = await port.fetch(url, 'main');
    writeFileSync(join(work, 'stacks', 'edge', 'compose.yaml'), 'services:\n  proxy: {image: "traefik:v3.7"}\n');
    git(work, 'commit', '-qam', 'proposed');
    git(work, 'push', '-q', 'origin', 'HEAD:refs/pull/5/head');
    const pr = await port.fetchRef(url, 'refs/pull/5/head');
    expect(pr.revision).toBe(git(work, 'rev-parse', 'HEAD'));
    expect(pr.dir).not.toBe(head.dir);
    expect(readFileSync(join(pr.dir, 'stacks', 'edge', 'compose.yaml'), 'utf8')).toContain('v3.7');
    expect(readFileSync(join(head.dir, 'stacks', 'edge', 'compose.yaml'), 'utf8')).not.toContain('v3.7');
    git(work, 'push', '-q', 'origin', 'HEAD~1:refs/merge-requests/2/head');
    const mr = await port.fetchRef(url, 'refs/merge-requests/2/head');
    expect(mr.dir).toBe(pr.dir);
    expect(readFileSync(join(mr.dir, 'stacks', 'edge', 'compose.yaml'), 'utf8')).not.toContain('v3.7');
    await expect(port.fetchRef(url, 'refs/pull/6/head')).rejects.toThrow(/git fetch file:.* \(refs\/pull\/6\/head\) failed/);
  });

  it('clones shallow, follows new commits, and stays one commit deep', async () => {
    const { url, work } = remote();
    const cache = mkdtempSync(join(tmpdir(), 'berth-cache-'));
    const port = new SimpleGitPort(cache);
    const first = await port.fetch(url, 'main');
    expect(first.revision).toBe(git(work, 'rev-parse', 'HEAD'));
    expect(first.subject).toBe('first');
    expect(readdirSync(join(first.dir, 'stacks')).sort()).toEqual(['edge', 'shop']);

    writeFileSync(join(work, 'stacks', 'edge', 'compose.yaml'), 'services:\n  proxy: {image: "traefik:v3.6"}\n');
    git(work, 'commit', '-qam', 'second');
    git(work, 'push', '-q', 'origin', 'main');
    const second = await port.fetch(url, 'main');
    expect(second.dir).toBe(first.dir);
    expect(second.revision).toBe(git(work, 'rev-parse', 'HEAD'));
    expect(git(second.dir, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('reports a fetch failure without the credentials of the URL', async () => {
    const port = new SimpleGitPort(mkdtempSync(join(tmpdir(), 'berth-cache-')));
    await expect(port.fetch('https://user:s3cret-token@127.0.0.1:9/x.git', 'main')).rejects.toThrow(/\*\*\*@127\.0\.0\.1/);
    await expect(port.fetch('https://user:s3cret-token@127.0.0.1:9/x.git', 'main')).rejects.not.toThrow(/s3cret-token/);
  });

  it('plan --repo URL plans the remote revision', async () => {
    const { url, work } = remote();
    const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
    const r = await runCli(['plan', '--json', '--repo', url], env);
    const doc = JSON.parse(r.stdout) as { revision: string; ops: { id: string }[]; errors: { message: string }[] };
    expect(doc.revision).toBe(git(work, 'rev-parse', 'HEAD'));
    expect(doc.ops.map((o) => o.id)).toContain('service:shop/web');
    // The fixture references an external volume `pgdata`: an error unless this host has one.
    expect(r.code).toBe(doc.errors.length > 0 ? 1 : 2);
  });
});
