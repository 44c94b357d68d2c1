import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerConfigCredentials } from '../../src/adapters/docker-credentials.js';
import { GitImageRepo } from '../../src/adapters/git-image-repo.js';
import { RegistryHttp } from '../../src/adapters/registry-http.js';
import { createForge } from '../../src/forge/create.js';
import { ImageAutomation } from '../../src/images/automation.js';
import { silentLogger } from '../../src/ports/logger.js';
import { docker, uniqueName } from '../support/engine.js';
import { gitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { pushAs, requireRegistry, uniqueImage, type RegistryInfo } from '../support/registry.js';
import { FakeForge } from '../fakes/forge.js';

/**
 * Image automation end to end: the real test registry (a repository of this
 * test's own), a bare repo served over smart HTTP with credentials, and the
 * fake GitHub API. Pushing :1.5.0 opens one pull request whose branch
 * changes one line; :2.0.0, outside ^1.4, opens none; a second pass never
 * opens a duplicate.
 */
const TOKEN = 'forge-token-imgauto-5d1c';
const GIT_PASSWORD = 'git-password-imgauto-77aa';
const COMPOSE = (image: string) => `# web stack — comments and layout must survive the update
services:
  web:
    image: ${image}   # moved by berth's image automation
    x-berth:
      imagePolicy:
        semver: "^1.4"

  sidecar:
    image: ${image}
`;

let reg: RegistryInfo | null = null;
let base = '';
let http: GitHttpServer | null = null;
let fake: FakeForge | null = null;
let local = '';
let remote = '';
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

beforeAll(async () => {
  reg = requireRegistry();
  if (!reg) return;
  const name = uniqueName('imgauto');
  local = `berth-test/${name}:1`;
  remote = `${reg.host}/${name}`;
  await uniqueImage(local, name);
  await pushAs(reg.dockerConfig, local, `${remote}:1.4.0`);
  await pushAs(reg.dockerConfig, local, `${remote}:1.5.0`);
  base = mkdtempSync(join(tmpdir(), 'berth-imgauto-'));
  git(base, 'init', '-q', '--bare', '-b', 'main', 'infra.git');
  git(join(base, 'infra.git'), 'config', 'http.receivepack', 'true');
  const work = join(base, 'work');
  git(base, 'init', '-q', '-b', 'main', work);
  mkdirSync(join(work, 'stacks', 'web'), { recursive: true });
  writeFileSync(join(work, 'stacks', 'web', 'compose.yaml'), COMPOSE(`${remote}:1.4.0`));
  git(work, 'add', '.');
  git(work, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'web 1.4.0');
  git(work, 'push', '-q', join(base, 'infra.git'), 'main');
  http = await gitHttpServer(base, 'berth', GIT_PASSWORD);
  fake = await FakeForge.start(TOKEN);
}, 120_000);

afterAll(async () => {
  await http?.stop();
  await fake?.close();
  if (local) await docker(['rmi', local]);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('image automation', () => {
  it('pushing :1.5.0 opens exactly one PR changing exactly one line; :2.0.0 outside ^1.4 opens none', async () => {
    if (!reg || !http || !fake) return;
    const automation = new ImageAutomation({
      repo: new GitImageRepo(),
      registry: new RegistryHttp(new DockerConfigCredentials({ DOCKER_CONFIG: reg.dockerConfig })),
      forgeFor: (spec) => createForge(spec),
      log: silentLogger,
    });
    const url = http.url('infra.git');
    const forge = { type: 'github' as const, url: fake.url, repo: 'acme/infra', token: TOKEN };

    const first = await automation.pass(url, 'main', forge);
    expect(first.map((o) => o.kind)).toEqual(['pull-request']);
    expect(fake.pulls).toHaveLength(1);
    const pr = fake.pulls[0]!;
    expect(pr).toMatchObject({ repo: 'acme/infra', head: expect.stringMatching(/^berth\/image-web-web-1\.5\.0$/), base: 'main' });
    const bare = join(base, 'infra.git');
    expect(git(bare, 'diff', '--numstat', 'main', pr.head).trim()).toBe('1\t1\tstacks/web/compose.yaml');
    const diff = git(bare, 'diff', '-U0', 'main', pr.head).split('\n').filter((l) => /^[-+](?![-+])/.test(l));
    expect(diff).toEqual([`-    image: ${remote}:1.4.0   # moved by berth's image automation`, `+    image: ${remote}:1.5.0   # moved by berth's image automation`]);
    expect(git(bare, 'rev-list', '--count', `main..${pr.head}`).trim()).toBe('1');

    // Same tags again: the branch and the request exist, nothing new.
    const again = await automation.pass(url, 'main', forge);
    expect(again).toMatchObject([{ kind: 'pull-request', created: false, number: pr.number }]);

    await pushAs(reg.dockerConfig, local, `${remote}:2.0.0`);
    const after = await automation.pass(url, 'main', forge);
    expect(after.every((o) => o.kind === 'pull-request' && !o.created && o.update.to.endsWith(':1.5.0'))).toBe(true);
    expect(fake.pulls).toHaveLength(1);
    expect(git(bare, 'for-each-ref', '--format=%(refname)', 'refs/heads').trim().split('\n').sort()).toEqual(['refs/heads/berth/image-web-web-1.5.0', 'refs/heads/main']);

    // No credential in what the forge was sent, other than the token in its own header.
    const bodies = fake.requests.map((r) => `${r.path}\n${r.body}`).join('\n');
    for (const secret of [TOKEN, GIT_PASSWORD, reg.password]) expect(bodies).not.toContain(secret);
  }, 60_000);
});
