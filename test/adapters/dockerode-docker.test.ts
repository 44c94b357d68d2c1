import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngineError, DockerodeDocker, healthFromStatus, toLiveContainer } from '../../src/adapters/dockerode-docker.js';
import { LABEL } from '../../src/labels.js';
import type { NetworkSpec, ServiceNetwork, ServiceSpec, VolumeSpec } from '../../src/model/desired.js';
import type { DockerEvent } from '../../src/ports/docker.js';
import { cleanupByLabel, docker, requireEngine, uniqueName } from '../support/engine.js';
import { serviceSpec } from '../support/service-spec.js';
import { until } from '../support/until.js';

/**
 * Every DockerPort method against the real engine (Docker 20.10, API 1.41
 * here: createContainer must create on one network and connect the rest).
 * Every object carries `berth.test=<id>`; afterAll removes them all.
 */
const id = uniqueName('dd');
const label = `berth.test=${id}`;
const TEST = { 'berth.test': id };
const MANAGED = { ...TEST, [LABEL.managed]: 'true' };

let engine = false;
let port: DockerodeDocker;
let tmp = '';

beforeAll(async () => {
  engine = await requireEngine();
  if (engine) port = new DockerodeDocker();
  tmp = mkdtempSync(join(tmpdir(), 'berth-dd-'));
});
afterAll(async () => {
  if (engine) await cleanupByLabel(label);
  rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function inspectRaw(name: string): Promise<any> {
  const r = await docker(['inspect', name]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout)[0];
}
async function exists(kind: 'container' | 'network' | 'volume', name: string): Promise<boolean> {
  return (await docker([kind, 'inspect', name])).code === 0;
}

function netSpec(p: Partial<NetworkSpec> & { key: string }): NetworkSpec {
  return { stack: 'dd', name: `${id}-${p.key}`, external: false, driver: 'bridge', internal: false, attachable: false, enableIpv6: false, ipam: null, driverOpts: {}, labels: {}, ...p };
}
function svcNet(n: NetworkSpec, p: Partial<ServiceNetwork> = {}): ServiceNetwork {
  return { key: n.key, name: n.name, aliases: [], ipv4Address: null, ipv6Address: null, priority: 0, ...p };
}
function svc(p: Partial<ServiceSpec>): ServiceSpec {
  return serviceSpec({ stack: 'dd', image: 'berth-test/worker:1', networks: [], networkMode: 'none', ...p });
}
/** A /24 in 10.200-249.x.0 that no other test run picks (the engine refuses overlapping pools). */
const octet = 200 + Math.floor(Math.random() * 50);
const third = Math.floor(Math.random() * 250);
const SUBNET = `10.${octet}.${third}.0/24`;
const STATIC_IP = `10.${octet}.${third}.10`;

describe('list mapping (plain data)', () => {
  it('health comes from the status text', () => {
    expect(healthFromStatus('Up 5 minutes (healthy)')).toBe('healthy');
    expect(healthFromStatus('Up 2 seconds (health: starting)')).toBe('starting');
    expect(healthFromStatus('Up 1 minute (unhealthy)')).toBe('unhealthy');
    expect(healthFromStatus('Up 1 minute')).toBeNull();
    expect(healthFromStatus('Exited (0) 3 seconds ago')).toBeNull();
  });
  it('a listed container: name without the slash, networks from NetworkSettings, labels copied', () => {
    const c = toLiveContainer({
      Id: 'abc',
      Names: ['/shop-web-1'],
      Image: 'app:v1',
      ImageID: 'sha256:1',
      Command: '',
      Created: 1700000000,
      Ports: [],
      Labels: { a: 'b' },
      State: 'running',
      Status: 'Up 3 seconds (health: starting)',
      HostConfig: { NetworkMode: 'shop_default' },
      NetworkSettings: { Networks: { shop_front: {} as never, shop_back: {} as never } },
      Mounts: [],
    });
    expect(c).toEqual({ id: 'abc', name: 'shop-web-1', image: 'app:v1', imageId: 'sha256:1', state: 'running', status: 'Up 3 seconds (health: starting)', health: 'starting', labels: { a: 'b' }, networks: ['shop_back', 'shop_front'], created: 1700000000 });
  });
});

describe('engine basics', () => {
  it('ping and the API version', async (ctx) => {
    if (!engine) ctx.skip();
    await port.ping();
    expect(await port.apiVersion()).toMatch(/^1\.\d+$/);
  });

  it('listImageTags lists repo:tag of local images', async (ctx) => {
    if (!engine) ctx.skip();
    const tags = await port.listImageTags();
    expect(tags).toContain('berth-test/web:v1');
    expect(tags).not.toContain('<none>:<none>');
  });

  it('pullImage rejects with the engine\'s message (no registry here)', async (ctx) => {
    if (!engine) ctx.skip();
    const err = await port.pullImage('localhost:5999/berth-none:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerEngineError);
    expect((err as Error).message).toMatch(/^pull image localhost:5999\/berth-none:1: .*(connection refused|no such host|dial tcp)/);
  });
});

describe('networks and volumes', () => {
  it('createNetwork: internal, attachable, IPAM, labels — listed as created', async (ctx) => {
    if (!engine) ctx.skip();
    const spec = netSpec({ key: 'ipam', internal: true, attachable: true, ipam: { driver: 'default', config: [{ subnet: SUBNET, gateway: `10.${octet}.${third}.1` }], options: {} }, labels: { 'com.example': 'x' } });
    const netId = await port.createNetwork(spec, MANAGED);
    expect(netId).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await port.listNetworks()).find((n) => n.name === spec.name);
    expect(listed).toEqual({
      id: netId,
      name: spec.name,
      driver: 'bridge',
      internal: true,
      attachable: true,
      enableIpv6: false,
      ipam: { driver: 'default', config: [{ subnet: SUBNET, gateway: `10.${octet}.${third}.1` }] },
      labels: { ...MANAGED, 'com.example': 'x' },
    });
  });

  it('createNetwork of a taken name fails with the operation and the engine\'s message; removeNetwork is idempotent', async (ctx) => {
    if (!engine) ctx.skip();
    const spec = netSpec({ key: 'dup' });
    await port.createNetwork(spec, MANAGED);
    await expect(port.createNetwork(spec, MANAGED)).rejects.toThrow(new RegExp(`^create network ${spec.name}: network with name ${spec.name} already exists`));
    await port.removeNetwork(spec.name);
    await port.removeNetwork(spec.name);
    expect(await exists('network', spec.name)).toBe(false);
  });

  it('createVolume with labels and driver options', async (ctx) => {
    if (!engine) ctx.skip();
    const spec: VolumeSpec = { stack: 'dd', key: 'data', name: `${id}-data`, external: false, driver: 'local', driverOpts: {}, labels: { 'com.example': 'y' } };
    await port.createVolume(spec, MANAGED);
    const listed = (await port.listVolumes()).find((v) => v.name === spec.name);
    expect(listed).toEqual({ name: spec.name, driver: 'local', labels: { ...MANAGED, 'com.example': 'y' } });
  });
});

describe('containers', () => {
  it('createContainer on three networks (API < 1.44: create + connect): all attached with their aliases, the static IP, and the aliases resolve', async (ctx) => {
    if (!engine) ctx.skip();
    const a = netSpec({ key: 'a' });
    const b = netSpec({ key: 'b', internal: true });
    const c = (await port.listNetworks()).find((n) => n.name === `${id}-ipam`) ? netSpec({ key: 'ipam' }) : null;
    expect(c, 'the IPAM network from the test above').not.toBeNull();
    await port.createNetwork(a, MANAGED);
    await port.createNetwork(b, MANAGED);
    const name = `${id}-api`;
    const spec = svc({
      name: 'api',
      image: 'berth-test/web:v1',
      networkMode: null,
      networks: [svcNet(a, { aliases: ['api-a'] }), svcNet(b, { aliases: ['api-b'] }), svcNet(c!, { aliases: ['api-c'], ipv4Address: STATIC_IP })],
    });
    const cid = await port.createContainer(spec, name, MANAGED);
    const raw = await inspectRaw(cid);
    const nets = raw.NetworkSettings.Networks;
    expect(Object.keys(nets).sort()).toEqual([a.name, b.name, c!.name].sort());
    expect(nets[a.name].Aliases).toEqual(expect.arrayContaining(['api', 'api-a']));
    expect(nets[b.name].Aliases).toEqual(expect.arrayContaining(['api', 'api-b']));
    expect(nets[c!.name].Aliases).toEqual(expect.arrayContaining(['api', 'api-c']));
    expect(nets[c!.name].IPAMConfig).toEqual({ IPv4Address: STATIC_IP });

    await port.startContainer(cid);
    const details = await port.inspectContainer(cid);
    expect(details.networks).toEqual([a.name, b.name, c!.name].sort());
    expect((await inspectRaw(cid)).NetworkSettings.Networks[c!.name].IPAddress).toBe(STATIC_IP);
    // From another container on each network, the alias (and the service name) resolves to this container.
    for (const [net, alias] of [[a, 'api-a'], [b, 'api-b'], [c!, 'api-c']] as const) {
      const r = await docker(['run', '--rm', '--label', label, '--network', net.name, 'berth-test/busybox:1', 'nslookup', alias]);
      expect(r.code, `${alias} on ${net.name}: ${r.stdout}${r.stderr}`).toBe(0);
      const ip = (await inspectRaw(cid)).NetworkSettings.Networks[net.name].IPAddress as string;
      expect(r.stdout).toContain(ip);
    }
    const web = await until('the web server to answer', async () => {
      const r = await docker(['run', '--rm', '--label', label, '--network', c!.name, 'berth-test/busybox:1', 'wget', '-q', '-O-', 'http://api-c/version']);
      return r.code === 0 ? r.stdout : null;
    });
    expect(web.trim()).toBe('v1');
  });

  it('createContainer: a taken name is an error naming the operation; a network that cannot be joined leaves no container behind', async (ctx) => {
    if (!engine) ctx.skip();
    const name = `${id}-dup`;
    await port.createContainer(svc({ name: 'dup' }), name, MANAGED);
    const err = await port.createContainer(svc({ name: 'dup' }), name, MANAGED).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerEngineError);
    expect((err as DockerEngineError).statusCode).toBe(409);
    expect((err as Error).message).toMatch(new RegExp(`^create container ${name}: Conflict\\. The container name "/${name}" is already in use`));

    // An endpoint the engine refuses at connect (a static IP on a network without a configured subnet)
    // must not leave a container without that network behind.
    const a = netSpec({ key: 'conn-a' });
    const b = netSpec({ key: 'conn-b' });
    await port.createNetwork(a, MANAGED);
    await port.createNetwork(b, MANAGED);
    const half = `${id}-half`;
    await expect(port.createContainer(svc({ name: 'half', networkMode: null, networks: [svcNet(a), svcNet(b, { ipv4Address: '10.1.2.3' })] }), half, MANAGED)).rejects.toThrow(
      new RegExp(`^create container ${half}: connect network ${b.name}: user specified IP address is supported only when connecting to networks with user configured subnets`),
    );
    expect(await exists('container', half)).toBe(false);
  });

  it('start / stop / rename / remove are idempotent where the port says so; a short bind creates its host directory; volumes survive removal', async (ctx) => {
    if (!engine) ctx.skip();
    const vol: VolumeSpec = { stack: 'dd', key: 'keep', name: `${id}-keep`, external: false, driver: 'local', driverOpts: {}, labels: {} };
    await port.createVolume(vol, MANAGED);
    const hostDir = join(tmp, 'created-by-bind');
    const name = `${id}-life`;
    const spec = svc({
      name: 'life',
      stopGracePeriodSeconds: 3,
      mounts: [
        { type: 'volume', source: vol.name, target: '/keep', readOnly: false, noCopy: false },
        { type: 'volume', source: null, target: '/anon', readOnly: false, noCopy: false },
        { type: 'bind', source: hostDir, target: '/host', readOnly: false, propagation: 'rprivate', createHostPath: true, selinux: '' },
      ],
    });
    const cid = await port.createContainer(spec, name, MANAGED);
    expect(existsSync(hostDir)).toBe(false);
    await port.startContainer(cid);
    await port.startContainer(cid); // already running: 304, not an error
    expect(existsSync(hostDir)).toBe(true);
    expect((await port.inspectContainer(cid)).running).toBe(true);

    await port.stopContainer(cid);
    // The worker stopped on SIGTERM (143), not killed at the end of the grace period (137).
    expect((await docker(['inspect', '-f', '{{.State.ExitCode}}', cid])).stdout.trim()).not.toBe('137');
    await port.stopContainer(cid); // already stopped
    expect((await port.inspectContainer(cid)).status).toBe('exited');

    await port.renameContainer(cid, `${name}-renamed`);
    expect((await port.inspectContainer(cid)).name).toBe(`${name}-renamed`);
    await expect(port.renameContainer(cid, `${name}-renamed`)).rejects.toThrow(/^rename container .* to .*-renamed: /);

    const anon = ((await inspectRaw(cid)).Mounts as any[]).find((m) => m.Destination === '/anon').Name as string;
    await port.startContainer(cid);
    await port.removeContainer(cid, true); // force: removes a running one
    await port.removeContainer(cid, true); // already gone
    await port.stopContainer(cid); // already gone
    expect(await exists('container', cid)).toBe(false);
    // Never `v: true`: the named and the anonymous volume are both still there.
    expect(await exists('volume', vol.name)).toBe(true);
    expect(await exists('volume', anon)).toBe(true);
    await docker(['volume', 'rm', anon]);
    await expect(port.startContainer(cid)).rejects.toThrow(/^start container .*: No such container/);
  });

  it('connectNetwork / disconnectNetwork: aliases as given, disconnect is idempotent, connecting twice is an error', async (ctx) => {
    if (!engine) ctx.skip();
    const n = netSpec({ key: 'late' });
    await port.createNetwork(n, MANAGED);
    const home = netSpec({ key: 'home' });
    await port.createNetwork(home, MANAGED);
    const cid = await port.createContainer(svc({ name: 'late', networkMode: null, networks: [svcNet(home)] }), `${id}-late`, MANAGED);
    await port.startContainer(cid); // a created container's endpoints are only recorded; a running one's are real
    await port.connectNetwork(n.name, cid, { aliases: ['late', 'late-alias'], ipv4Address: null, ipv6Address: null });
    expect((await inspectRaw(cid)).NetworkSettings.Networks[n.name].Aliases).toEqual(expect.arrayContaining(['late', 'late-alias']));
    await expect(port.connectNetwork(n.name, cid, { aliases: ['late'], ipv4Address: null, ipv6Address: null })).rejects.toThrow(new RegExp(`^connect container ${cid} to network ${n.name}: `));
    await port.disconnectNetwork(n.name, cid);
    await port.disconnectNetwork(n.name, cid);
    expect((await port.inspectContainer(cid)).networks).toEqual([home.name]);
  });

  it('exec: exit code and output of stdout and stderr; a timeout rejects promptly and says so', async (ctx) => {
    if (!engine) ctx.skip();
    const cid = await port.createContainer(svc({ name: 'exec' }), `${id}-exec`, MANAGED);
    await port.startContainer(cid);
    const r = await port.exec(cid, ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3'], 10_000);
    expect(r.exitCode).toBe(3);
    expect(r.output).toContain('to-stdout');
    expect(r.output).toContain('to-stderr');
    expect(await port.exec(cid, ['true'], 10_000)).toEqual({ exitCode: 0, output: '' });

    const t0 = Date.now();
    // 3 s, not less: the timeout must outlast the exec's start and its first output on a
    // loaded machine (at 500 ms CI saw the timeout before "started" arrived).
    const err = await port.exec(cid, ['sh', '-c', 'echo started; sleep 30'], 3000).catch((e: unknown) => e);
    // It gave up: the command itself runs 30 s.
    expect(Date.now() - t0).toBeLessThan(25_000);
    expect((err as Error).message).toMatch(/^exec in container .*: \["sh","-c","echo started; sleep 30"\]: timed out after 3000 ms \(the Engine API cannot stop an exec: the command may still be running in the container\); output so far: started/);
    await expect(port.exec(cid, ['/no/such/binary'], 5000)).resolves.toMatchObject({ exitCode: 126 });
  });

  it('inspectContainer: an unhealthy container reports the last probe output; no healthcheck → hasHealthcheck false', async (ctx) => {
    if (!engine) ctx.skip();
    // berth-test/web:bad's probe gets a 404; test: null keeps the image's probe, the timings make it quick.
    const spec = svc({
      name: 'bad',
      image: 'berth-test/web:bad',
      healthcheck: { disable: false, test: null, intervalNs: 200e6, timeoutNs: 2e9, startPeriodNs: 1e6, startIntervalNs: null, retries: 1 },
    });
    const cid = await port.createContainer(spec, `${id}-bad`, MANAGED);
    await port.startContainer(cid);
    const d = await until('web:bad to turn unhealthy', async () => {
      const x = await port.inspectContainer(cid);
      return x.health === 'unhealthy' ? x : null;
    });
    expect(d).toMatchObject({ id: cid, name: `${id}-bad`, running: true, status: 'running', hasHealthcheck: true, restartCount: 0 });
    expect(d.lastHealthOutput).toMatch(/404/);
    expect(d.lastHealthOutput!.length).toBeLessThanOrEqual(500);
    expect(d.labels).toMatchObject(MANAGED);
    const listed = (await port.listContainers()).find((c) => c.id === cid);
    expect(listed).toMatchObject({ name: `${id}-bad`, state: 'running', health: 'unhealthy', image: 'berth-test/web:bad', networks: ['none'] });

    const plain = await port.createContainer(svc({ name: 'plain' }), `${id}-plain`, MANAGED);
    expect(await port.inspectContainer(plain)).toMatchObject({ hasHealthcheck: false, health: null, lastHealthOutput: null, running: false, status: 'created' });
    const off = await port.createContainer(svc({ name: 'off', image: 'berth-test/web:v1', healthcheck: { disable: true } }), `${id}-off`, MANAGED);
    expect((await port.inspectContainer(off)).hasHealthcheck).toBe(false);
  });

  it('inspectContainer of a missing container is a 404 DockerEngineError', async (ctx) => {
    if (!engine) ctx.skip();
    const err = await port.inspectContainer(`${id}-nope`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerEngineError);
    expect((err as DockerEngineError).statusCode).toBe(404);
    expect((err as Error).message).toBe(`inspect container ${id}-nope: No such container: ${id}-nope`);
  });
});

describe('events', () => {
  it('a managed container\'s stop arrives as an event; managed network events pass, unmanaged ones do not; unsubscribing is quiet', async (ctx) => {
    if (!engine) ctx.skip();
    const home = netSpec({ key: 'ev-home' });
    await port.createNetwork(home, MANAGED);
    const cid = await port.createContainer(svc({ name: 'ev', networkMode: null, networks: [svcNet(home)] }), `${id}-ev`, MANAGED);
    await port.startContainer(cid);
    const unmanagedCid = await port.createContainer(svc({ name: 'ev2' }), `${id}-ev-unmanaged`, TEST);
    await port.startContainer(unmanagedCid);

    const seen: DockerEvent[] = [];
    const errors: Error[] = [];
    const unsubscribe = port.events((e) => seen.push(e), (e) => errors.push(e));
    await sleep(500); // let both streams open

    const unmanagedNet = netSpec({ key: 'ev-unmanaged' });
    await port.createNetwork(unmanagedNet, TEST);
    const managedNet = netSpec({ key: 'ev-managed' });
    const netId = await port.createNetwork(managedNet, MANAGED);
    await port.stopContainer(unmanagedCid);
    // A managed container joining an unmanaged network is berth's business too (drift: wrong networks).
    await port.connectNetwork(unmanagedNet.name, cid, { aliases: [], ipv4Address: null, ipv6Address: null });
    await until('the connect of the managed container', async () => seen.find((e) => e.type === 'network' && e.action === 'connect' && e.name === unmanagedNet.name), 30_000);
    await port.stopContainer(cid);
    // How soon is the bench's business (drift detected, bench/controller.ts); here: that it comes, with its labels.
    const stopEvent = await until('the die/stop event', async () => seen.find((e) => e.type === 'container' && e.id === cid && (e.action === 'die' || e.action === 'stop')), 30_000);
    expect(stopEvent).toMatchObject({ type: 'container', name: `${id}-ev`, labels: expect.objectContaining(MANAGED) });
    expect(stopEvent.labels).not.toHaveProperty('image');
    expect(stopEvent.time).toBeGreaterThan(Date.now() - 60_000);

    await until('the managed network create event', async () => seen.find((e) => e.type === 'network' && e.id === netId && e.action === 'create'), 30_000);
    expect(seen.find((e) => e.name === managedNet.name)).toMatchObject({ type: 'network', action: 'create', labels: expect.objectContaining(MANAGED) });
    expect(seen.filter((e) => (e.name === unmanagedNet.name && !['connect', 'disconnect'].includes(e.action)) || e.id === unmanagedCid)).toEqual([]);
    expect(seen.filter((e) => e.action.startsWith('exec_'))).toEqual([]);

    unsubscribe();
    await sleep(300);
    expect(errors).toEqual([]);
  });

  it('a stream that cannot be opened is reported through onError', async (ctx) => {
    if (!engine) ctx.skip();
    const broken = DockerodeDocker.fromEnv({ DOCKER_HOST: `unix://${join(tmp, 'no.sock')}` });
    const err = await new Promise<Error>((resolve) => broken.events(() => undefined, resolve));
    expect(err.message).toMatch(/docker events .*ENOENT/);
  });
});
