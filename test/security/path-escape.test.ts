import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { buildPlan } from '../../src/plan/build-plan.js';
import { renderPlanJson, renderPlanText } from '../../src/plan/render.js';
import { runCli } from '../support/cli.js';
import { requireEngine } from '../support/engine.js';
import { emptyLive, withInventory } from '../support/plan-fixtures.js';

/**
 * Paths that lead out of the repository (issue 8, security checks).
 *
 * What berth does, and what these tests hold it to:
 *  - `--repo` with `..` segments (or through a link) is read where it points;
 *    `validate` and `plan` name that directory, resolved.
 *  - Bind mounts and `secrets:`/`configs:` files may name any host path, as in
 *    Compose (`../../../etc`, `/var/run/docker.sock`). Every container the plan
 *    creates or recreates with such a mount gets a plan warning naming the
 *    resolved host path (text and --json). A source inside the repository by
 *    its name that is a link to outside is a validation warning naming the
 *    link's target.
 *  - `env_file` outside the repository by its name is read (Compose reads it)
 *    with a located warning naming the absolute path; an env_file, `.env`,
 *    compose file or stack directory that is a link to outside is refused
 *    (path-escapes-repo): berth reads files of the repository only.
 *  - Values read from such files never appear in the output.
 */
const OUTSIDE_SECRET = 'security-env-secret-8e41c9';

/** base/repo is the repository; base/* beside it is "outside". */
function layout(files: Record<string, string>): { base: string; repo: string } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'berth-escape-')));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), content);
  }
  return { base, repo: join(base, 'repo') };
}

const load = (repo: string) => loadDesiredState(repo, { env: {} });
const warnings = (repo: string) => load(repo).diagnostics.filter((d) => d.severity === 'warning');
const errors = (repo: string) => load(repo).diagnostics.filter((d) => d.severity === 'error');

describe('bind mounts and secret files outside the repository are shown in the plan', () => {
  const compose = [
    'services:',
    '  api:',
    '    image: berth-test/web:v1',
    '    volumes:',
    '      - ../../../etc:/host-etc', // stacks/web → repo → base: base/etc, outside
    '      - ../../shared:/shared', // stacks/web → repo: repo/shared, inside
    '      - /var/run/docker.sock:/var/run/docker.sock:ro',
    '      - ./conf:/conf',
    '      - type: bind',
    '        source: ../../../data/../data2',
    '        target: /data2',
    '    secrets: [token]',
    'secrets:',
    '  token:',
    '    file: ../../../token.txt',
    '',
  ].join('\n');

  it('names every host path outside the repository, resolved, once per container created', () => {
    const { base, repo } = layout({ 'repo/stacks/web/compose.yaml': compose, 'token.txt': OUTSIDE_SECRET });
    const desired = load(repo).state!;
    expect(desired).not.toBeNull();
    const plan = buildPlan(desired, emptyLive(), withInventory(null, emptyLive()), null);
    const ours = plan.warnings.filter((w) => w.includes('outside the repository'));
    // In mount order (by target), `..` collapsed.
    expect(ours).toEqual([
      `web/api mounts host path ${base}/data2 at /data2, outside the repository`,
      `web/api mounts host path ${base}/etc at /host-etc, outside the repository`,
      `web/api mounts host path ${base}/token.txt at /run/secrets/token (read-only), outside the repository`,
      `web/api mounts host path /var/run/docker.sock at /var/run/docker.sock (read-only), outside the repository`,
    ]);
    // Inside the repository (also via `..` that stays inside): no warning.
    expect(ours.join('\n')).not.toContain('/shared');
    expect(ours.join('\n')).not.toContain('/conf');
    const text = renderPlanText(plan);
    expect(text).toContain(`Warning: web/api mounts host path ${base}/etc at /host-etc, outside the repository`);
    expect(renderPlanJson(plan).warnings).toEqual(expect.arrayContaining(ours));
    // The mount's path is shown; the secret file's content never is.
    expect(text).not.toContain(OUTSIDE_SECRET);
  });

  it('a bind source or secrets file inside the repository that links outside is a located warning naming the target', () => {
    const { base, repo } = layout({
      'repo/stacks/web/compose.yaml': 'services:\n  api:\n    image: berth-test/web:v1\n    volumes:\n      - ./data:/data\n    secrets: [token]\nsecrets:\n  token:\n    file: ./token.txt\n',
      'elsewhere/x': '',
      'token.txt': OUTSIDE_SECRET,
    });
    symlinkSync(join(base, 'elsewhere'), join(repo, 'stacks/web/data'));
    symlinkSync(join(base, 'token.txt'), join(repo, 'stacks/web/token.txt'));
    expect(errors(repo)).toEqual([]);
    const w = warnings(repo);
    expect(w.map((d) => [d.code, d.file, d.line, d.col])).toEqual([
      ['path-escapes-repo', 'stacks/web/compose.yaml', 5, 9],
      ['path-escapes-repo', 'stacks/web/compose.yaml', 9, 11],
    ]);
    expect(w[0]!.message).toBe(`bind mount source stacks/web/data is a symbolic link to ${base}/elsewhere, outside the repository: the container gets that host path`);
    expect(w[1]!.message).toContain(`secret file stacks/web/token.txt is a symbolic link to ${base}/token.txt`);
  });

  it('a secrets file shared by several services is reported once', () => {
    const { base, repo } = layout({
      'repo/stacks/web/compose.yaml': 'services:\n  a: {image: x, secrets: [t]}\n  b: {image: x, secrets: [t]}\nsecrets:\n  t: {file: ./t.txt}\n',
      't.txt': 'x',
    });
    symlinkSync(join(base, 't.txt'), join(repo, 'stacks/web/t.txt'));
    expect(warnings(repo).filter((d) => d.code === 'path-escapes-repo')).toHaveLength(1);
  });
});

describe('env_file and the files berth itself reads', () => {
  it('an env_file outside the repository by its name: read, with a located warning naming the absolute path', () => {
    const { base, repo } = layout({
      'repo/stacks/web/compose.yaml': 'services:\n  api:\n    image: x\n    env_file: ../../../outside.env\n',
      'outside.env': `API_TOKEN=${OUTSIDE_SECRET}\n`,
    });
    const r = load(repo);
    expect(r.state).not.toBeNull();
    expect(r.state!.stacks[0]!.services[0]!.environment.API_TOKEN).toBe(OUTSIDE_SECRET);
    const w = r.diagnostics.filter((d) => d.code === 'path-outside-repo');
    expect(w.map((d) => [d.severity, d.file, d.line, d.col])).toEqual([['warning', 'stacks/web/compose.yaml', 4, 15]]);
    expect(w[0]!.message).toBe(`env_file "../../../outside.env" is outside the repository: its values come from ${base}/outside.env on this host`);
  });

  it('an env_file inside the repository by its name that links outside is refused', () => {
    const { base, repo } = layout({
      'repo/stacks/web/compose.yaml': 'services:\n  api:\n    image: x\n    env_file: [app.env]\n',
      'outside.env': `API_TOKEN=${OUTSIDE_SECRET}\n`,
    });
    symlinkSync(join(base, 'outside.env'), join(repo, 'stacks/web/app.env'));
    const r = load(repo);
    expect(r.state).toBeNull();
    expect(r.diagnostics.map((d) => [d.severity, d.code, d.file, d.line, d.col])).toEqual([['error', 'path-escapes-repo', 'stacks/web/compose.yaml', 4, 16]]);
    expect(r.diagnostics[0]!.message).toBe(`env_file stacks/web/app.env is a symbolic link to ${base}/outside.env, outside the repository; berth reads files of the repository only`);
  });

  it('a link inside the repository to another file of the repository is fine', () => {
    const { repo } = layout({ 'repo/stacks/web/compose.yaml': 'services:\n  api:\n    image: x\n    env_file: [app.env]\n', 'repo/common.env': 'A=1\n' });
    symlinkSync(join(repo, 'common.env'), join(repo, 'stacks/web/app.env'));
    expect(load(repo).diagnostics).toEqual([]);
  });

  it('.env, compose files and stack directories that link outside are refused (session 1 behaviour, held here)', () => {
    const { base, repo } = layout({
      'repo/stacks/web/compose.yaml': 'services:\n  api: {image: x}\n',
      'repo/stacks/db/.keep': '',
      'outside/compose.yaml': 'services:\n  evil: {image: x}\n',
      'outside.env': `X=${OUTSIDE_SECRET}\n`,
    });
    symlinkSync(join(base, 'outside.env'), join(repo, 'stacks/web/.env'));
    symlinkSync(join(base, 'outside/compose.yaml'), join(repo, 'stacks/db/compose.yaml'));
    symlinkSync(join(base, 'outside'), join(repo, 'stacks/linked'));
    const d = errors(repo).map((x) => [x.code, x.file]);
    expect(d).toEqual(
      expect.arrayContaining([
        ['path-escapes-repo', 'stacks/web/.env'],
        ['path-escapes-repo', 'stacks/db/compose.yaml'],
        ['path-escapes-repo', 'stacks/linked'],
      ]),
    );
    expect(d).toHaveLength(3);
  });
});

describe('--repo with .. segments', () => {
  let engine = false;
  let base = '';
  let repo = '';
  const env = () => ({ BERTH_STATE_DIR: join(base, 'state') });

  beforeAll(async () => {
    engine = await requireEngine();
    ({ base, repo } = layout({
      'repo/stacks/web/compose.yaml': 'services:\n  api:\n    image: berth-test/web:v1\n    volumes: ["../../../etc:/host-etc:ro"]\n    env_file: ../../../outside.env\n',
      'outside.env': `API_TOKEN=${OUTSIDE_SECRET}\n`,
      'other/stacks/x/compose.yaml': 'services:\n  x: {image: x}\n',
    }));
    symlinkSync(repo, join(base, 'link-to-repo'));
  });

  it('validate reads the directory the path resolves to and names it', async () => {
    // From another directory, up and back down: base/other/stacks/../../repo is base/repo.
    const dotted = join(base, 'other', 'stacks') + '/../../repo';
    const r = await runCli(['validate', '--repo', dotted]);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toContain(`valid: 1 stack, 1 service in ${repo} (0 errors, 1 warning)`);
    expect(r.stderr + r.stdout).toContain(`its values come from ${base}/outside.env`);
    const viaLink = await runCli(['validate', '--repo', join(base, 'link-to-repo')]);
    expect(viaLink.stdout).toContain(`in ${base}/link-to-repo (→ ${repo})`);
    const json = JSON.parse((await runCli(['validate', '--json', '--repo', relative(process.cwd(), dotted)])).stdout) as { repo: string };
    expect(json.repo).toBe(repo);
    for (const out of [r.output, viaLink.output]) expect(out).not.toContain(OUTSIDE_SECRET);
  });

  it('plan names the resolved repository and the host path the bind mount resolves to', async (ctx) => {
    if (!engine) return ctx.skip();
    const dotted = `${repo}/stacks/web/../..`;
    const r = await runCli(['plan', '--repo', dotted], env());
    expect(r.code, r.output).toBe(2);
    expect(r.stdout.split('\n')[0]).toBe(`Desired state: ${repo} (working tree)`);
    expect(r.stdout).toMatch(/\+ web\/api\s+create \(pull\)|\+ web\/api\s+create:/);
    expect(r.stdout).toContain(`Warning: web/api mounts host path ${base}/etc at /host-etc (read-only), outside the repository`);
    const json = JSON.parse((await runCli(['plan', '--json', '--repo', dotted], env())).stdout) as { repo: string; warnings: string[] };
    expect(json.repo).toBe(repo);
    expect(json.warnings).toContain(`web/api mounts host path ${base}/etc at /host-etc (read-only), outside the repository`);
    expect(r.output).not.toContain(OUTSIDE_SECRET);
  });
});
