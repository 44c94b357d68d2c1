import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingDocker } from '../../src/adapters/counting-docker.js';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { LABEL } from '../../src/labels.js';
import { observe } from '../../src/observe/observe.js';
import { cleanupByLabel, docker, requireEngine, uniqueName } from '../support/engine.js';

/**
 * observe() against the real engine: objects made with the docker CLI show
 * up mapped (health from the status text, stopped state, networks, labels),
 * and the snapshot costs exactly four list calls — no inspects.
 */
const id = uniqueName('obs');
const label = `berth.test=${id}`;
const labels = ['--label', label, '--label', `${LABEL.managed}=true`, '--label', `${LABEL.stack}=${id}`];

let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
afterAll(async () => {
  if (engine) await cleanupByLabel(label);
});

async function cli(args: string[]): Promise<string> {
  const r = await docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('observe', () => {
  it('one snapshot of containers (health, state, networks), networks, volumes and image tags in exactly four list calls', async (ctx) => {
    if (!engine) ctx.skip();
    const net = `${id}-net`;
    const vol = `${id}-vol`;
    const webName = `${id}-web`;
    const stoppedName = `${id}-stopped`;
    const netId = await cli(['network', 'create', ...labels, '--internal', net]);
    await cli(['volume', 'create', ...labels, vol]);
    // berth-test/web:v1 probes every second (start period 1 s): healthy within a few seconds.
    const webId = await cli(['run', '-d', ...labels, '--name', webName, '--network', net, '-v', `${vol}:/data`, 'berth-test/web:v1']);
    const stoppedId = await cli(['run', '-d', ...labels, '--name', stoppedName, '--network', 'none', 'berth-test/worker:1']);
    await cli(['stop', '-t', '5', stoppedName]);
    const deadline = Date.now() + 30_000;
    while ((await cli(['inspect', '-f', '{{.State.Health.Status}}', webName])) !== 'healthy') {
      if (Date.now() > deadline) throw new Error('web:v1 never became healthy');
      await new Promise((r) => setTimeout(r, 200));
    }

    const counting = new CountingDocker(new DockerodeDocker());
    const live = await observe(counting);

    expect(counting.snapshot()).toEqual({ listContainers: 1, listImages: 1, listNetworks: 1, listVolumes: 1 });
    expect(counting.count()).toBe(4);
    expect(counting.count('inspectContainer')).toBe(0);

    const web = live.containers.find((c) => c.name === webName);
    expect(web).toMatchObject({
      id: webId,
      image: 'berth-test/web:v1',
      state: 'running',
      health: 'healthy',
      networks: [net],
      labels: expect.objectContaining({ 'berth.test': id, [LABEL.managed]: 'true' }),
    });
    expect(web!.status).toMatch(/^Up .*\(healthy\)$/);
    expect(web!.imageId).toMatch(/^sha256:/);
    expect(web!.created).toBeGreaterThan(Date.now() / 1000 - 600);

    expect(live.containers.find((c) => c.name === stoppedName)).toMatchObject({ id: stoppedId, state: 'exited', health: null, networks: ['none'] });
    expect(live.networks.find((n) => n.name === net)).toMatchObject({ id: netId, driver: 'bridge', internal: true, labels: expect.objectContaining({ 'berth.test': id }) });
    expect(live.volumes.find((v) => v.name === vol)).toEqual({ name: vol, driver: 'local', labels: { 'berth.test': id, [LABEL.managed]: 'true', [LABEL.stack]: id } });
    expect(live.imageTags).toEqual(expect.arrayContaining(['berth-test/web:v1', 'berth-test/worker:1']));
  });
});
