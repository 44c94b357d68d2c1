import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../../src/labels.js';
import { removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { OwnRegistry, dockerAs, pushAs, requireRegistry, uniqueImage } from '../support/registry.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Tags move; reverts are exact. A registry of this file's own (so it can be
 * stopped): deploy :v1 (digest A), then :v2, push other bits as :v1 and let
 * the host's tag follow, then `git revert` → the container runs A's image ID
 * again — from the local store, pulled by digest when A is gone, and with
 * the registry down.
 */
let own: OwnRegistry | null = null;
const stack = uniqueName('tm');
const ids: Record<string, string> = {};
const locals: string[] = [];
let R = '';

beforeAll(async () => {
  if (!(await requireEngine())) return;
  const reg = requireRegistry();
  if (!reg) return;
  own = new OwnRegistry(reg);
  await own.start();
  R = `${own.host}/${stack}/app`;
  for (const v of ['A', 'B', 'V2']) {
    const tag = `berth-local-${stack}/${v.toLowerCase()}:1`;
    ids[v] = await uniqueImage(tag, `${stack}-${v}`);
    locals.push(tag);
  }
});

afterAll(async () => {
  if (!own) return;
  await removePrefixed(`${stack}-`);
  await own.dispose();
  for (const ref of [`${R}:v1`, `${R}:v2`, `${R}-always:v1`, ...locals]) await docker(['rmi', ref]);
  for (const id of Object.values(ids)) await docker(['rmi', id]);
});

const compose = (image: string, extra = '') => `services:\n  api:\n    image: ${image}\n    container_name: ${stack}-api\n    x-berth: {minReadySeconds: 0}\n${extra}`;

async function running(): Promise<{ imageId: string; digest: string | undefined }> {
  const out = (await docker(['inspect', '-f', '{{.Image}} {{json .Config.Labels}}', `${stack}-api`])).stdout.trim();
  const i = out.indexOf(' ');
  return { imageId: out.slice(0, i), digest: (JSON.parse(out.slice(i + 1)) as Record<string, string>)[LABEL.imageDigest] };
}

describe('tag moved', () => {
  it('git revert runs digest A again: from the local store, pulled by digest, and with the registry stopped', async (ctx) => {
    if (!own) ctx.skip();
    const digestA = await pushAs(own!.dockerConfig, locals[0]!, `${R}:v1`);
    await pushAs(own!.dockerConfig, locals[2]!, `${R}:v2`);
    const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')), DOCKER_CONFIG: own!.dockerConfig };
    const repo = tmpRepo({ [`stacks/${stack}/compose.yaml`]: compose(`${R}:v1`) });
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
    const apply = async () => {
      const r = await runCli(['apply', '--repo', repo], env);
      expect(r.code, r.output).toBe(0);
      return r;
    };
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'v1');
    const first = git('rev-parse', 'HEAD');
    await apply();
    expect(await running()).toEqual({ imageId: ids.A, digest: digestA });

    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose(`${R}:v2`));
    git('commit', '-qam', 'v2');
    await apply();
    expect((await running()).imageId).toBe(ids.V2);

    // Someone re-pushes :v1 and the host's tag follows it.
    const digestB = await pushAs(own!.dockerConfig, locals[1]!, `${R}:v1`);
    await dockerAs(own!.dockerConfig, ['pull', '-q', `${R}:v1`]);

    git('revert', '--no-edit', 'HEAD');
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.output).toContain(`image ${R}:v1 (pinned to ${digestA.slice(0, 19)}… as run at ${first.slice(0, 7)}; the tag now names ${digestB.slice(0, 19)}…)`);
    await apply();
    expect(await running()).toEqual({ imageId: ids.A, digest: digestA });

    // A gone from the host: pulled again by digest, not by the moved tag.
    git('revert', '--no-edit', 'HEAD');
    await apply();
    await docker(['rmi', `${R}@${digestA}`]);
    await docker(['rmi', locals[0]!]);
    expect((await docker(['image', 'inspect', ids.A!])).code).not.toBe(0);
    git('revert', '--no-edit', 'HEAD');
    const byDigest = await apply();
    expect(byDigest.output).toContain(`↓ ${R}@${digestA}  pulled`);
    expect(await running()).toEqual({ imageId: ids.A, digest: digestA });

    // Registry down: the revert to what is on the host still converges.
    git('revert', '--no-edit', 'HEAD');
    await apply();
    await own!.stop();
    git('revert', '--no-edit', 'HEAD');
    await apply();
    expect(await running()).toEqual({ imageId: ids.A, digest: digestA });
    await own!.start();
  });

  it('pull_policy always: a moved tag is a planned change ("tag moved"); with the registry down, healing uses the local image', async (ctx) => {
    if (!own) ctx.skip();
    const ref = `${R}-always:v1`;
    await pushAs(own!.dockerConfig, ids.A!, ref);
    const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')), DOCKER_CONFIG: own!.dockerConfig };
    const repo = tmpRepo({ [`stacks/${stack}/compose.yaml`]: compose(ref, '    pull_policy: always\n') });
    const first = await runCli(['apply', '--repo', repo], env);
    expect(first.code, first.output).toBe(0);
    const inSync = await runCli(['plan', '--repo', repo], env);
    expect(inSync.code, inSync.output).toBe(0);

    const digestB = await pushAs(own!.dockerConfig, ids.B!, ref);
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.output).toContain(`tag moved: ${ref} now names ${digestB.slice(0, 19)}…`);
    const moved = await runCli(['apply', '--repo', repo], env);
    expect(moved.code, moved.output).toBe(0);
    expect(await running()).toEqual({ imageId: ids.B, digest: digestB });

    await own!.stop();
    await docker(['rm', '-f', `${stack}-api`]);
    const down = await runCli(['plan', '--repo', repo], env);
    expect(down.code, down.output).toBe(2);
    expect(down.output).toContain('planned with the images on the host');
    const healed = await runCli(['apply', '--repo', repo], env);
    expect(healed.code, healed.output).toBe(0);
    expect((await running()).imageId).toBe(ids.B);
    await own!.start();
    await removePrefixed(`${stack}-`);
  });
});
