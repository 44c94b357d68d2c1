import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../../src/labels.js';
import { removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { basicAuth, dockerConfigDir, registryOnlyImage, requireRegistry, type RegistryInfo } from '../support/registry.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Private images from the real registry (scripts/test-registry.sh): the
 * credentials come from a docker config the way the Docker CLI finds them;
 * without them the apply fails before anything on the host changes, and no
 * credential reaches any output or the state dir.
 */
let reg: RegistryInfo | null = null;
const stack = uniqueName('rg');
const WRONG = 'wrong-registry-password-3b8e';
let image = '';

beforeAll(async () => {
  if (!(await requireEngine())) return;
  reg = requireRegistry();
  if (reg) image = await registryOnlyImage(reg, stack);
});

afterAll(async () => {
  if (!reg) return;
  await removePrefixed(`${stack}-`);
  await docker(['rmi', image]);
});

const compose = (services: Record<string, { image: string; env?: string }>) =>
  `services:\n${Object.entries(services)
    .map(([n, s]) => `  ${n}:\n    image: ${s.image}\n    container_name: ${stack}-${n}\n    x-berth: {minReadySeconds: 0}\n${s.env ? `    environment: {V: "${s.env}"}\n` : ''}`)
    .join('')}`;

function repoWith(services: Parameters<typeof compose>[0]): string {
  return tmpRepo({ [`stacks/${stack}/compose.yaml`]: compose(services) });
}

async function ours(): Promise<{ name: string; id: string; labels: Record<string, string> }[]> {
  const r = await docker(['ps', '-a', '--filter', `label=${LABEL.stack}=${stack}`, '--format', '{{.Names}} {{.ID}}']);
  const out = [];
  for (const line of r.stdout.trim().split('\n').filter(Boolean)) {
    const [name, id] = line.split(' ') as [string, string];
    const labels = JSON.parse((await docker(['inspect', '-f', '{{json .Config.Labels}}', id])).stdout) as Record<string, string>;
    out.push({ name, id, labels });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function stateFiles(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

const state = () => mkdtempSync(join(tmpdir(), 'berth-state-'));

describe('private registry', () => {
  it('no credentials, then wrong ones: exit 1 naming the image, nothing created; with `auths` it converges and labels the digest', async (ctx) => {
    if (!reg) ctx.skip();
    const repo = repoWith({ api: { image } });
    const dir = state();
    const none = await runCli(['apply', '--repo', repo], { BERTH_STATE_DIR: dir, DOCKER_CONFIG: dockerConfigDir({}) });
    expect(none.code, none.output).toBe(1);
    expect(none.output).toContain(`image ${image} could not be pulled from ${reg!.host}`);
    expect(none.output).toMatch(/no basic auth credentials|unauthorized|authentication required/i);
    expect(await ours()).toEqual([]);

    const wrong = await runCli(['apply', '--repo', repo], { BERTH_STATE_DIR: dir, DOCKER_CONFIG: dockerConfigDir({ auths: { [reg!.host]: { auth: basicAuth(reg!.username, WRONG) } } }) });
    expect(wrong.code, wrong.output).toBe(1);
    expect(wrong.output).toContain(image);
    expect(await ours()).toEqual([]);

    const right = dockerConfigDir({ auths: { [`http://${reg!.host}`]: { auth: basicAuth(reg!.username, reg!.password) } } });
    const ok = await runCli(['apply', '--repo', repo], { BERTH_STATE_DIR: dir, DOCKER_CONFIG: right });
    expect(ok.code, ok.output).toBe(0);
    expect(ok.output).toContain(`↓ ${image}  pulled`);
    const [api] = await ours();
    expect(api!.labels[LABEL.imageDigest]).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const out of [none.output, wrong.output, ok.output, stateFiles(dir)]) {
      expect(out).not.toContain(reg!.password);
      expect(out).not.toContain(WRONG);
      expect(out).not.toContain(basicAuth(reg!.username, reg!.password));
    }
    await removePrefixed(`${stack}-`);
    await docker(['rmi', image]);
  });

  it('two services, the second cannot be pulled: exit 1 and the first is not touched either', async (ctx) => {
    if (!reg) ctx.skip();
    const dir = state();
    const first = await runCli(['apply', '--repo', repoWith({ a: { image: 'berth-test/worker:1', env: '1' } })], { BERTH_STATE_DIR: dir, DOCKER_CONFIG: dockerConfigDir({}) });
    expect(first.code, first.output).toBe(0);
    const before = await ours();
    const second = await runCli(['apply', '--repo', repoWith({ a: { image: 'berth-test/worker:1', env: '2' }, b: { image } })], { BERTH_STATE_DIR: dir, DOCKER_CONFIG: dockerConfigDir({}) });
    expect(second.code, second.output).toBe(1);
    expect(second.output).toContain(`image ${image} could not be pulled`);
    expect(second.output).toContain('nothing was changed');
    expect(await ours()).toEqual(before);
    await removePrefixed(`${stack}-`);
  });

  it('credHelpers: docker-credential-test on PATH gives the credentials', async (ctx) => {
    if (!reg) ctx.skip();
    const bin = mkdtempSync(join(tmpdir(), 'berth-credbin-'));
    const helper = join(bin, 'docker-credential-test');
    // As the docker-credential-helpers protocol says: server URL on stdin, JSON on stdout.
    writeFileSync(
      helper,
      `#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "${reg!.host}" ]; then printf '{"ServerURL":"%s","Username":"${reg!.username}","Secret":"${reg!.password}"}' "$server"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
    );
    chmodSync(helper, 0o755);
    const dir = state();
    const cfg = dockerConfigDir({ credHelpers: { [reg!.host]: 'test' }, auths: { [reg!.host]: { auth: basicAuth(reg!.username, WRONG) } } });
    const r = await runCli(['apply', '--repo', repoWith({ api: { image } })], { BERTH_STATE_DIR: dir, DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH}` });
    expect(r.code, r.output).toBe(0);
    expect((await ours()).map((c) => c.name)).toEqual([`${stack}-api`]);
    expect(r.output).not.toContain(reg!.password);
    expect(stateFiles(dir)).not.toContain(reg!.password);
    await removePrefixed(`${stack}-`);
    await docker(['rmi', image]);
  });
});
