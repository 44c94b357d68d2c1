import { describe, expect, it } from 'vitest';
import { commitUrl, parseRepoUrl } from '../../src/notify/commit-url.js';

const SHA = '4e1f0c2a9b7d3e5f6a8c0b1d2e3f4a5b6c7d8e9f';

describe('commitUrl', () => {
  const cases: [string, string | null][] = [
    ['https://github.com/acme/infra', `https://github.com/acme/infra/commit/${SHA}`],
    ['https://github.com/acme/infra.git', `https://github.com/acme/infra/commit/${SHA}`],
    ['https://github.com/acme/infra/', `https://github.com/acme/infra/commit/${SHA}`],
    ['git@github.com:acme/infra.git', `https://github.com/acme/infra/commit/${SHA}`],
    ['ssh://git@github.com/acme/infra.git', `https://github.com/acme/infra/commit/${SHA}`],
    ['https://x-access-token:ghp_SECRETTOKEN123@github.com/acme/infra.git', `https://github.com/acme/infra/commit/${SHA}`],
    ['https://GitHub.com/Acme/Infra.git', `https://github.com/Acme/Infra/commit/${SHA}`],
    ['https://gitlab.com/acme/infra.git', `https://gitlab.com/acme/infra/-/commit/${SHA}`],
    ['git@gitlab.com:acme/ops/infra.git', `https://gitlab.com/acme/ops/infra/-/commit/${SHA}`],
    ['https://oauth2:glpat-SECRET99@gitlab.com/acme/ops/infra.git', `https://gitlab.com/acme/ops/infra/-/commit/${SHA}`],
    ['https://codeberg.org/acme/infra.git', `https://codeberg.org/acme/infra/commit/${SHA}`],
    ['ssh://git@codeberg.org:2222/acme/infra.git', `https://codeberg.org/acme/infra/commit/${SHA}`],
    ['https://gitea.com/acme/infra', `https://gitea.com/acme/infra/commit/${SHA}`],
    // unknown host, local paths, odd shapes
    ['https://git.example.com/acme/infra.git', null],
    ['/srv/repos/infra', null],
    ['./infra', null],
    ['file:///srv/repos/infra.git', null],
    ['C:\\repos\\infra', null],
    ['https://github.com/acme', null],
    ['https://github.com/acme/infra/tree/main', null],
    ['', null],
    ['not a url', null],
  ];
  for (const [repo, want] of cases) {
    it(`${repo || '(empty)'} → ${want ?? 'null'}`, () => expect(commitUrl(repo, SHA)).toBe(want));
  }

  it('never carries credentials into the link', () => {
    const url = commitUrl('https://user:hunter2-secret@github.com/acme/infra.git', SHA)!;
    expect(url).not.toContain('hunter2');
    expect(url).not.toContain('user');
  });

  it('a hint names a self-hosted forge; the web port of an https remote is kept, an ssh port is not', () => {
    const hints = { 'Git.Example.com': 'gitea', 'gl.corp.example': 'gitlab' } as const;
    expect(commitUrl('https://git.example.com:3000/acme/infra.git', SHA, hints)).toBe(`https://git.example.com:3000/acme/infra/commit/${SHA}`);
    expect(commitUrl('ssh://git@git.example.com:2222/acme/infra.git', SHA, hints)).toBe(`https://git.example.com/acme/infra/commit/${SHA}`);
    expect(commitUrl('git@gl.corp.example:team/sub/infra.git', SHA, hints)).toBe(`https://gl.corp.example/team/sub/infra/-/commit/${SHA}`);
    expect(commitUrl('http://git.example.com/acme/infra', SHA, hints)).toBe(`http://git.example.com/acme/infra/commit/${SHA}`);
  });

  it('needs a hex revision', () => {
    expect(commitUrl('https://github.com/acme/infra', 'main')).toBeNull();
    expect(commitUrl('https://github.com/acme/infra', '../../evil')).toBeNull();
    expect(commitUrl('https://github.com/acme/infra', null)).toBeNull();
    expect(commitUrl(null, SHA)).toBeNull();
    expect(commitUrl('https://github.com/acme/infra', 'ABCDEF1')).toBe('https://github.com/acme/infra/commit/abcdef1');
  });

  it('parseRepoUrl drops query and fragment', () => {
    expect(parseRepoUrl('https://github.com/acme/infra.git?x=1#frag')).toEqual({ scheme: 'https', hostname: 'github.com', port: '', segments: ['acme', 'infra'] });
  });
});
