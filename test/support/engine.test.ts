import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAND_IN_IMAGES, cleanupByLabel, docker, dockerAvailable, requireEngine, uniqueName } from './engine.js';

describe('test engine', () => {
  let engine = false;
  const label = `berth.test=${uniqueName('engine')}`;

  beforeAll(async () => {
    engine = await requireEngine();
  });
  afterAll(async () => {
    if (engine) await cleanupByLabel(label);
  });

  it('answers docker info', async (ctx) => {
    if (!engine) ctx.skip();
    expect(await dockerAvailable()).toBe(true);
  });

  it.for(STAND_IN_IMAGES)('has stand-in image %s', async (image, ctx) => {
    if (!engine) ctx.skip();
    const r = await docker(['image', 'inspect', '--format', '{{.Id}}', image]);
    expect(r.code, `${image} missing: run bash scripts/test-images.sh\n${r.stderr}`).toBe(0);
  });

  it('cleanupByLabel removes labelled containers, networks and volumes', async (ctx) => {
    if (!engine) ctx.skip();
    const own = `berth.test=${uniqueName('cleanup')}`;
    const net = uniqueName('bt-net');
    const vol = uniqueName('bt-vol');
    expect((await docker(['network', 'create', '--label', own, net])).code).toBe(0);
    expect((await docker(['volume', 'create', '--label', own, vol])).code).toBe(0);
    const run = await docker([
      'run', '-d', '--label', own, '--name', uniqueName('bt-c'), '--network', net,
      '-v', `${vol}:/data`, 'berth-test/worker:1',
    ]);
    expect(run.code, run.stderr).toBe(0);

    expect(await cleanupByLabel(own)).toEqual({ containers: 1, networks: 1, volumes: 1 });
    expect((await docker(['ps', '-aq', '--filter', `label=${own}`])).stdout.trim()).toBe('');
    expect((await docker(['network', 'inspect', net])).code).not.toBe(0);
    expect((await docker(['volume', 'inspect', vol])).code).not.toBe(0);
  });
});
