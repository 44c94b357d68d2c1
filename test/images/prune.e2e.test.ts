import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * images.prune on the real engine. No registry is reachable, so "pulled by
 * berth" is seeded in the state dir's images.json (what berth writes after
 * a pull); the tags themselves are local copies of the worker image.
 */
let engine = false;
const stack = uniqueName('im');
const repoName = `berth-prune-${stack}`;
const tags = Array.from({ length: 7 }, (_, i) => `${repoName}/w:r${i + 1}`);

beforeAll(async () => {
  engine = await requireEngine();
  if (engine) for (const t of [...tags, `${repoName}/w:mine`]) await docker(['tag', 'berth-test/worker:1', t]);
});

afterAll(async () => {
  if (!engine) return;
  await removePrefixed(`${stack}-`);
  await removePrefixed(`${stack}_`);
  for (const t of [...tags, `${repoName}/w:mine`]) await docker(['rmi', t]);
});

const exists = async (ref: string) => (await docker(['image', 'inspect', ref])).code === 0;

describe('images.prune', () => {
  it('removes images berth pulled once no kept revision and no container uses them; keeps the last 5 revisions and foreign images', async (ctx) => {
    if (!engine) ctx.skip();
    const state = mkdtempSync(join(tmpdir(), 'berth-state-'));
    const berthYaml = 'images:\n  prune: true\n  keepRevisions: 5\n';
    const compose = (tag: string) => `services:\n  w:\n    image: ${tag}\n    x-berth: {minReadySeconds: 0}\n`;
    const repo = tmpRepo({ 'berth.yaml': berthYaml, [`stacks/${stack}/compose.yaml`]: compose(tags[0]!) });
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args]);
    git('init', '-q', '-b', 'main');
    for (const tag of tags) {
      writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose(tag));
      git('add', '-A');
      git('commit', '-q', '-m', tag);
      // As if this apply had pulled the tag (the :mine tag is never pulled by berth).
      const ledger = existsSync(join(state, 'images.json')) ? (JSON.parse(readFileSync(join(state, 'images.json'), 'utf8')) as { pulled: string[] }) : { pulled: [], revisions: [] };
      writeFileSync(join(state, 'images.json'), JSON.stringify({ ...ledger, pulled: [...ledger.pulled, tag] }));
      const r = await runCli(['apply', '--repo', repo], { BERTH_STATE_DIR: state });
      expect(r.code, r.output).toBe(0);
    }
    // Revisions r3..r7 are the last five: kept. r1 and r2 are gone; the foreign tag stays.
    expect(await exists(tags[0]!)).toBe(false);
    expect(await exists(tags[1]!)).toBe(false);
    for (const t of tags.slice(2)) expect(await exists(t)).toBe(true);
    expect(await exists(`${repoName}/w:mine`)).toBe(true);
    expect(await exists('berth-test/worker:1')).toBe(true);
  });
});
