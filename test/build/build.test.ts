import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuildOutput } from '../../src/adapters/build-output.js';
import { buildTag } from '../../src/build/tag.js';
import { rebuildAlways, withBuildSteps } from '../../src/build/phase.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { BuildSpec, DesiredState } from '../../src/model/desired.js';
import type { DockerPort } from '../../src/ports/docker.js';
import type { Plan } from '../../src/model/plan.js';
import { serviceSpec } from '../support/service-spec.js';
import { tmpRepo } from '../support/tmp-repo.js';

const base: BuildSpec = {
  context: 'stacks/web/app',
  dockerfile: 'Dockerfile',
  dockerfileInline: null,
  args: {},
  target: null,
  labels: {},
  network: null,
  extraHosts: [],
  shmSizeBytes: null,
  noCache: false,
  pull: false,
  cacheFrom: [],
  platform: null,
  alsoTag: null,
  pullFirst: false,
  tag: null,
};

describe('buildTag', () => {
  it('is berth.local/<stack>-<service>:<digest12>, the same for the same context and inputs, another for any change', () => {
    const t = buildTag('web', 'app', base, 'git:tree:1');
    expect(t).toMatch(/^berth\.local\/web-app:[0-9a-f]{12}$/);
    expect(buildTag('web', 'app', { ...base, noCache: true, pull: true }, 'git:tree:1')).toBe(t);
    expect(buildTag('web', 'app', base, 'git:tree:2')).not.toBe(t);
    expect(buildTag('web', 'app', { ...base, args: { A: '1' } }, 'git:tree:1')).not.toBe(t);
    expect(buildTag('web', 'app', { ...base, target: 'prod' }, 'git:tree:1')).not.toBe(t);
    expect(buildTag('Web', 'App', base, 'git:tree:1')).toMatch(/^berth\.local\/web-app:/);
  });
});

describe('withBuildSteps', () => {
  it('turns the pull of a built service into a build', () => {
    const spec = { ...serviceSpec(), build: { ...base, tag: 'berth.local/shop-web:abc' } };
    const plan = { ops: [{ kind: 'service.create', id: 'service:shop/web', wave: 'apps', action: 'create', stack: 'shop', object: 'shop/web', reasons: ['missing'], after: [], service: spec, pull: true }], errors: [], warnings: [], revision: null, summary: { create: 1, recreate: 0, update: 0, remove: 0 } } as unknown as Plan;
    const out = withBuildSteps(plan).ops[0] as { pull: boolean; build?: boolean };
    expect(out).toMatchObject({ pull: false, build: true });
  });
});

describe('rebuildAlways', () => {
  it('builds every pull_policy build service (once per tag), nothing else, and reports a failure as a plan error', async () => {
    const built = (name: string, pullPolicy: 'build' | 'missing', tag: string) => serviceSpec({ name, pullPolicy, image: tag, build: { ...base, tag } });
    const desired = {
      stacks: [{ name: 'shop', services: [built('a', 'build', 'berth.local/shop-a:1'), built('b', 'missing', 'berth.local/shop-b:1'), built('c', 'build', 'berth.local/shop-c:1'), serviceSpec({ name: 'd' })] }],
    } as unknown as DesiredState;
    const tags: string[][] = [];
    const docker = {
      buildImage: async (req: { tags: string[] }) => {
        tags.push(req.tags);
        if (req.tags[0] === 'berth.local/shop-c:1') throw new Error('step 2/2 failed');
        return { imageId: 'sha256:x' };
      },
    } as unknown as DockerPort;
    const out = await rebuildAlways(desired, { docker, clock: { now: () => 0, sleep: async () => {} }, archive: async () => ({ tar: Buffer.alloc(0), dockerfile: 'Dockerfile' }) });
    expect(tags.map((t) => t[0]).sort()).toEqual(['berth.local/shop-a:1', 'berth.local/shop-c:1']);
    expect(out.built).toEqual(['berth.local/shop-a:1']);
    expect(out.errors).toEqual([{ code: 'build-failed', stack: 'shop', object: 'c', message: 'build of shop/c failed; nothing was changed: step 2/2 failed' }]);
  });
});

describe('BuildOutput', () => {
  it('gives the failing step and the last lines of its output', () => {
    const o = new BuildOutput();
    o.push({ stream: 'Step 1/2 : FROM x\n ---> abc\n' });
    o.push({ stream: 'Step 2/2 : RUN make\n' });
    expect(o.progress()).toBe('2/2');
    o.push({ stream: ' ---> Running in 123\nmake: *** no rule\n' });
    o.push({ error: "The command '/bin/sh -c make' returned a non-zero code: 2", errorDetail: { message: "The command '/bin/sh -c make' returned a non-zero code: 2" } });
    expect(o.result()).toEqual({ error: "The command '/bin/sh -c make' returned a non-zero code: 2", step: 'Step 2/2 : RUN make', tail: ['make: *** no rule'] });
  });
  it('gives the image id of a good build', () => {
    const o = new BuildOutput();
    o.push({ stream: 'Step 1/1 : FROM x\n' });
    o.push({ aux: { ID: 'sha256:abc' } });
    o.push({ stream: 'Successfully built abc\n' });
    expect(o.result()).toEqual({ imageId: 'sha256:abc' });
  });
});

describe('build: validation', () => {
  const validators = createValidators();
  const compose = (build: string) => `services:\n  app:\n    build:\n${build}`;
  const diag = (files: Record<string, string>) =>
    loadDesiredState(tmpRepo(files), { validators }).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);

  it('accepts a context with a Dockerfile and no image', () => {
    expect(diag({ 'stacks/web/compose.yaml': compose('      context: ./app\n'), 'stacks/web/app/Dockerfile': 'FROM x\n' })).toEqual([]);
  });
  it('refuses a URL context, a Dockerfile outside the context, build secrets and two platforms, located', () => {
    expect(diag({ 'stacks/web/compose.yaml': compose('      context: https://github.com/a/b.git\n') })).toEqual([
      'stacks/web/compose.yaml:4:16: a URL build context is not supported: berth builds from a directory of the repository, so the commit names what is built',
    ]);
    const errs = diag({
      'stacks/web/compose.yaml': compose('      context: ./app\n      dockerfile: ../Dockerfile\n      secrets: [x]\n      platforms: [linux/amd64, linux/arm64]\n      ssh: [default]\n'),
      'stacks/web/app/x': '',
    });
    expect(errs.some((e) => e.includes(':5:19: Dockerfile ../Dockerfile is outside the build context'))).toBe(true);
    expect(errs.some((e) => e.includes(':6:7: build secrets are not supported'))).toBe(true);
    expect(errs.some((e) => e.includes(':7:7: one platform only'))).toBe(true);
    expect(errs.some((e) => e.includes(':8:7: build ssh is not supported: forwarding an SSH agent needs BuildKit'))).toBe(true);
  });
  it('pull_policy: build is accepted with a build: section and refused, located, without one', () => {
    const ok = { 'stacks/web/compose.yaml': compose('      context: ./app\n').replace('    build:', '    pull_policy: build\n    build:'), 'stacks/web/app/Dockerfile': 'FROM x\n' };
    expect(diag(ok)).toEqual([]);
    expect(loadDesiredState(tmpRepo(ok), { validators }).state!.stacks[0]!.services[0]!.pullPolicy).toBe('build');
    expect(diag({ 'stacks/web/compose.yaml': 'services:\n  app:\n    image: berth-test/busybox:1\n    pull_policy: build\n' })).toEqual([
      'stacks/web/compose.yaml:4:18: `pull_policy: build` needs a `build:` section: the image is built on every apply and never pulled',
    ]);
  });
  it('refuses a link in the context that leads out of it', () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-build-'));
    mkdirSync(join(root, 'stacks/web/app'), { recursive: true });
    writeFileSync(join(root, 'stacks/web/compose.yaml'), compose('      context: ./app\n'));
    writeFileSync(join(root, 'stacks/web/app/Dockerfile'), 'FROM x\n');
    symlinkSync('/etc/passwd', join(root, 'stacks/web/app/passwd'));
    const errs = loadDesiredState(root, { validators }).diagnostics.filter((d) => d.severity === 'error');
    expect(errs.map((d) => d.message)).toEqual(['stacks/web/app/passwd is a symbolic link to /etc/passwd, outside the build context; a build reads its context only']);
  });
});
