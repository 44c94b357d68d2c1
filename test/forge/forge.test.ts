import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createForge } from '../../src/forge/create.js';
import { ForgeQueue } from '../../src/forge/queue.js';
import type { ForgeSpec } from '../../src/model/desired.js';
import { systemClock } from '../../src/ports/clock.js';
import type { Logger } from '../../src/ports/logger.js';
import { FakeForge } from '../fakes/forge.js';
import { tmpRepo } from '../support/tmp-repo.js';

/** The forge clients against a fake that serves each forge's documented REST shapes over real HTTP. */
const TOKEN = 'forge-token-never-logged-8d21';
let fake: FakeForge;
beforeAll(async () => {
  fake = await FakeForge.start(TOKEN);
});
afterAll(() => fake.close());

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const specs = (): ForgeSpec[] => [
  { type: 'github', url: `${fake.url}`, repo: 'acme/infra', token: TOKEN },
  { type: 'gitea', url: `${fake.url}`, repo: 'acme/infra', token: TOKEN },
  { type: 'gitlab', url: `${fake.url}/api/v4`, repo: 'acme/infra', token: TOKEN },
];

function logger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (o: object, msg?: string) => void lines.push(JSON.stringify({ level, ...o, msg }));
  return { log: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') }, lines };
}

describe('forge clients', () => {
  for (const i of [0, 1, 2]) {
    it(`${['github', 'gitea', 'gitlab'][i]}: sets commit statuses and keeps one comment per request, updated in place`, async () => {
      const spec = specs()[i]!;
      const forge = createForge(spec);
      const before = fake.statuses.length;
      await forge.setStatus({ sha: SHA, context: 'berth/plan', state: 'success', description: 'valid: 1 to create', targetUrl: 'https://berth.example.org/' });
      await forge.setStatus({ sha: SHA, context: 'berth/deploy', state: 'failure', description: 'rolled back: health-timeout' });
      const got = fake.statuses.slice(before);
      expect(got.map((s) => [s.context, s.state])).toEqual([
        ['berth/plan', 'success'],
        ['berth/deploy', spec.type === 'gitlab' ? 'failed' : 'failure'],
      ]);
      expect(got[0]!.targetUrl).toBe('https://berth.example.org/');

      const pr = 40 + i;
      const marker = '<!-- berth:plan -->';
      const first = await forge.upsertComment(pr, marker, `${marker}\nplan one`);
      const second = await forge.upsertComment(pr, marker, `${marker}\nplan two`);
      expect(first.created).toBe(true);
      expect(second).toEqual({ id: first.id, created: false });
      const mine = fake.comments.filter((c) => c.id === Number(first.id));
      expect(mine.map((c) => c.body)).toEqual([`${marker}\nplan two`]);
    });
  }

  for (const i of [0, 1, 2]) {
    it(`${['github', 'gitea', 'gitlab'][i]}: opens a pull request once per branch and finds it again, whatever its state`, async () => {
      const spec = { ...specs()[i]!, repo: `acme/pulls-${i}` };
      const forge = createForge(spec);
      const draft = { head: 'berth/image-web-web-1.5.0', base: 'main', title: 'web: update image to 1.5.0', body: 'from 1.4.0' };
      const made = await forge.ensurePullRequest(draft);
      expect(made).toMatchObject({ number: expect.any(Number), created: true });
      expect(made.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(await forge.ensurePullRequest(draft)).toEqual({ ...made, created: false });
      expect(await forge.ensurePullRequest({ ...draft, head: 'berth/image-web-web-1.6.0' })).toMatchObject({ created: true });
      expect(fake.pulls.filter((p) => p.repo === spec.repo).map((p) => [p.head, p.base, p.title])).toEqual([
        [draft.head, 'main', draft.title],
        ['berth/image-web-web-1.6.0', 'main', draft.title],
      ]);
    });
  }

  it('the queue retries 429 and 5xx with backoff (Retry-After honoured), drops other 4xx, and never logs the token', async () => {
    const { log, lines } = logger();
    const queue = new ForgeQueue(systemClock, log, { baseBackoffMs: 5, maxBackoffMs: 20 });
    const forge = createForge(specs()[0]!);
    const before = fake.statuses.length;
    fake.failNext(1, 429, { 'retry-after': '0' });
    fake.failNext(2, 503);
    queue.enqueue({ key: 'status', what: 'status berth/deploy', run: () => forge.setStatus({ sha: SHA, context: 'berth/deploy', state: 'success', description: 'deployed' }) });
    await queue.whenIdle();
    expect(fake.statuses.slice(before).map((s) => s.state)).toEqual(['success']);
    expect(lines.filter((l) => l.includes('will retry'))).toHaveLength(3);

    const bad = createForge({ ...specs()[0]!, token: 'wrong-token-also-secret' });
    queue.enqueue({ key: 'bad', what: 'status berth/plan', run: () => bad.setStatus({ sha: SHA, context: 'berth/plan', state: 'pending', description: 'x' }) });
    await queue.whenIdle();
    expect(lines.at(-1)).toMatch(/refused, call dropped/);
    expect(lines.at(-1)).toMatch(/HTTP 401/);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(lines.join('\n')).not.toContain('wrong-token-also-secret');
  });

  it('the queue keeps only the newest call of a key that is still waiting', async () => {
    const { log } = logger();
    const queue = new ForgeQueue(systemClock, log);
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    queue.enqueue({ key: 'a', what: 'first', run: () => gate.then(() => ran.push('first')) });
    await new Promise((r) => setImmediate(r));
    for (const n of ['b1', 'b2', 'b3']) queue.enqueue({ key: 'b', what: n, run: async () => void ran.push(n) });
    release();
    await queue.whenIdle();
    expect(ran).toEqual(['first', 'b3']);
  });
});

describe('berth.yaml forge:', () => {
  const load = (yaml: string, env: Record<string, string> = {}) =>
    loadDesiredState(tmpRepo({ 'berth.yaml': yaml, 'stacks/app/compose.yaml': 'services:\n  web: {image: "berth-test/web:v1"}\n' }), { env });

  it('reads type, url, repo and a token from the environment, with the forge default API base', () => {
    const r = load('forge:\n  type: github\n  repo: acme/infra\n  token: ${GITHUB_TOKEN}\n', { GITHUB_TOKEN: TOKEN });
    expect(r.state?.settings.forge).toEqual({ type: 'github', url: 'https://api.github.com', repo: 'acme/infra', token: TOKEN });
    const ghe = load('forge: {type: github, url: "https://ghe.example.org/api/v3/", repo: a/b, token: "${T}"}\n', { T: 'x' });
    expect(ghe.state?.settings.forge?.url).toBe('https://ghe.example.org/api/v3');
  });

  it('refuses an unknown type or a gitea without url, naming FILE:LINE:COL; an empty token turns the forge off with a warning', () => {
    const unknown = load('forge:\n  type: bitbucket\n  repo: a/b\n  token: x\n');
    expect(unknown.state).toBeNull();
    expect(unknown.diagnostics[0]).toMatchObject({ file: 'berth.yaml', line: 2 });
    const gitea = load('forge:\n  type: gitea\n  repo: a/b\n  token: x\n');
    expect(gitea.state).toBeNull();
    expect(gitea.diagnostics.find((d) => d.severity === 'error')?.message).toMatch(/needs url/);
    const empty = load('forge:\n  type: github\n  repo: a/b\n  token: ${MISSING_TOKEN:-}\n');
    expect(empty.state?.settings.forge).toBeNull();
    expect(empty.diagnostics.some((d) => d.severity === 'warning' && /token is empty/.test(d.message))).toBe(true);
  });
});
