import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerodeDocker } from '../../src/adapters/dockerode-docker.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { LABEL } from '../../src/labels.js';
import type { DesiredStack } from '../../src/model/desired.js';
import { cleanupByLabel, docker, requireEngine, uniqueName } from '../support/engine.js';

/**
 * berth's container-create mapping held against the reference: the same
 * Compose file (test/fixtures/adapters/reference: ports with host ip and udp,
 * env + env_file, named/anonymous/bind/tmpfs mounts, healthchecks, restart,
 * labels, caps, security_opt, read_only, ulimits, deploy.resources,
 * extra_hosts, dns, user, working_dir, stop_signal/grace, logging, init,
 * networks with aliases, sysctls, network_mode) is created once by
 * `docker-compose --compatibility up --no-start` (1.29) and once by berth
 * (loadDesiredState + DockerodeDocker.createContainer), and `docker inspect`
 * of both must agree on every field that determines the container.
 *
 * Where berth deliberately differs, the comparison says so (DIFFERENCES):
 *
 * 1. Volume form. docker-compose 1.29 sends short-syntax volumes as
 *    HostConfig.Binds plus Config.Volumes; berth sends named and anonymous
 *    volumes and long-syntax binds as HostConfig.Mounts, and only binds that
 *    must create their host directory (short syntax) as Binds — on API 1.41
 *    Mounts rejects a missing source and has no CreateMountpoint. The mounts
 *    the container gets (top-level `Mounts`: type, volume name, source,
 *    destination, RW, propagation) are compared and equal; `Mode` (the Binds
 *    option string: "rw", "z", "") and Config.Volumes are not.
 * 2. Tmpfs sizes. 1.29 passes `size=2m` through; berth normalizes it to
 *    bytes (`size=2097152`). Compared after parsing: equal.
 * 3. RestartPolicy without `restart:`. 1.29 sends Name "" ; berth sends "no",
 *    which is what `docker run` and an explicit `restart: "no"` produce. Same
 *    behaviour.
 * 4. Networks at create. `up --no-start` in 1.29 attaches only the primary
 *    network and connects the others when it starts the container; berth
 *    attaches every network at create (API < 1.44: create + connect), so a
 *    created container is complete. The primary network (NetworkMode) and
 *    its endpoint are compared; berth's other endpoints are checked for the
 *    aliases 1.29 would give them (service name + aliases).
 * 5. Primary network choice. 1.29 takes the first network in file order
 *    (after priority); berth sorts by priority, then key, like compose v2.
 *    The fixture lists networks in key order, so both agree here.
 * 6. Labels. Compose's own (config-hash, version, project.config_files,
 *    project.working_dir) and berth's io.berth.* are not compared; the
 *    service's labels are.
 * Names, ids and hostnames derived from ids are not compared.
 */

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'adapters', 'reference');
const id = uniqueName('ref');
const hex = id.slice('ref-'.length);
const projC = `refc-${hex}`; // docker-compose's project (`<word>-<8 hex>`: other test files' listings skip it, see berth-objects.ts)
const projB = `refb-${hex}`; // berth's stack
const label = `berth.test=${id}`;
const ENV = { ...process.env, REF_PORT_A: '18080', REF_PORT_B: '18081', BERTH_TEST_ID: id };
const SERVICES = ['web', 'probe', 'quiet'];

let engine = false;
let root = '';
let stack: DesiredStack;
type Obj = Record<string, any>;
const inspected: { compose: Record<string, Obj>; berth: Record<string, Obj> } = { compose: {}, berth: {} };

function haveDockerCompose(): Promise<boolean> {
  return new Promise((resolve) => execFile('docker-compose', ['version'], (err) => resolve(!err)));
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { cwd, env: ENV, timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve(stdout))),
  );
}

async function inspect(name: string): Promise<Obj> {
  const r = await docker(['inspect', name]);
  if (r.code !== 0) throw new Error(`docker inspect ${name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Obj[])[0]!;
}

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  if (!(await haveDockerCompose())) {
    if (process.env.CI) throw new Error('docker-compose (the reference) is missing in CI');
    engine = false;
    return;
  }
  root = mkdtempSync(join(tmpdir(), 'berth-ref-'));
  const dirC = join(root, 'compose', 'stacks', projC);
  const dirB = join(root, 'berth', 'stacks', projB);
  cpSync(FIXTURE, dirC, { recursive: true });
  cpSync(FIXTURE, dirB, { recursive: true });

  // The reference. --compatibility: 1.29 ignores deploy.resources without it.
  await run('docker-compose', ['--compatibility', '-p', projC, 'up', '--no-start'], dirC);
  for (const s of SERVICES) inspected.compose[s] = await inspect(`${projC}_${s}_1`);

  // berth: the same file through the loader and the adapter.
  const loaded = loadDesiredState(join(root, 'berth'), { env: ENV });
  expect(loaded.diagnostics).toEqual([]);
  stack = loaded.state!.stacks[0]!;
  const port = new DockerodeDocker();
  const common = (key: string, kind: 'network' | 'volume') => ({
    [LABEL.managed]: 'true',
    [LABEL.stack]: projB,
    [LABEL.composeProject]: projB,
    [kind === 'network' ? LABEL.composeNetwork : LABEL.composeVolume]: key,
  });
  for (const n of stack.networks) await port.createNetwork(n, common(n.key, 'network'));
  for (const v of stack.volumes) await port.createVolume(v, common(v.key, 'volume'));
  for (const s of stack.services) {
    await port.createContainer(s, s.containerName, {
      ...s.labels,
      [LABEL.managed]: 'true',
      [LABEL.stack]: projB,
      [LABEL.service]: s.name,
      [LABEL.configHash]: s.configHash,
      [LABEL.revision]: 'test',
      [LABEL.composeProject]: projB,
      [LABEL.composeService]: s.name,
      [LABEL.composeContainerNumber]: '1',
      [LABEL.composeOneoff]: 'False',
    });
    inspected.berth[s.name] = await inspect(s.containerName);
  }
});

afterAll(async () => {
  if (engine) await cleanupByLabel(label);
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Project names and the temp root replaced, so both sides can be compared. */
function neutral(o: unknown, project: string): any {
  return JSON.parse(JSON.stringify(o ?? null).split(root).join('<ROOT>').split(`/compose/stacks/${projC}`).join('/<STACK>').split(`/berth/stacks/${projB}`).join('/<STACK>').split(project).join('<P>'));
}

const SIZE: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** `size=2m,mode=1770,noexec` → sorted options with the size in bytes (DIFFERENCES 2). */
function tmpfsOptions(s: string): string[] {
  return s
    .split(',')
    .filter(Boolean)
    .map((o) => {
      const m = /^size=(\d+)([kmg]?)$/i.exec(o);
      return m ? `size=${Number(m[1]) * SIZE[m[2]!.toLowerCase()]!}` : o;
    })
    .sort();
}

const CONFIG_FIELDS = ['Image', 'Cmd', 'Entrypoint', 'Healthcheck', 'ExposedPorts', 'User', 'WorkingDir', 'Domainname', 'Tty', 'OpenStdin', 'StopSignal', 'StopTimeout'];
const HOST_FIELDS = [
  'PortBindings', 'NetworkMode', 'ReadonlyRootfs', 'Privileged', 'Init', 'CapAdd', 'CapDrop', 'SecurityOpt', 'Sysctls', 'GroupAdd',
  'Devices', 'ExtraHosts', 'Dns', 'DnsSearch', 'LogConfig', 'Ulimits', 'ShmSize', 'Memory', 'MemoryReservation', 'NanoCpus',
  'CpusetCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'MemorySwap', 'MemorySwappiness', 'OomScoreAdj', 'OomKillDisable',
  'PidsLimit', 'PidMode', 'IpcMode', 'AutoRemove', 'VolumeDriver',
];

/** The container-determining part of an inspect, in comparable form. */
function view(c: Obj, project: string): Obj {
  const n = neutral(c, project) as Obj;
  const cfg = n.Config as Obj;
  const host = n.HostConfig as Obj;
  const out: Obj = { Config: {}, HostConfig: {} };
  for (const f of CONFIG_FIELDS) out.Config[f] = cfg[f];
  out.Config.Env = [...(cfg.Env as string[])].sort();
  out.Config.Labels = Object.fromEntries(Object.entries(cfg.Labels as Obj).filter(([k]) => !k.startsWith('com.docker.compose.') && !k.startsWith('io.berth.')));
  // Hostname: only when the file sets it (otherwise the engine derives it from the id).
  out.Config.Hostname = cfg.Hostname === 'webhost' ? cfg.Hostname : '<from id>';
  for (const f of HOST_FIELDS) out.HostConfig[f] = host[f];
  // DIFFERENCES 3: "" and "no" are the same policy.
  out.HostConfig.RestartPolicy = { ...host.RestartPolicy, Name: host.RestartPolicy.Name === '' ? 'no' : host.RestartPolicy.Name };
  out.HostConfig.Tmpfs = Object.fromEntries(Object.entries((host.Tmpfs ?? {}) as Record<string, string>).map(([k, v]) => [k, tmpfsOptions(v)]));
  // DIFFERENCES 1: the mounts the container gets, not the API form that asked for them.
  out.Mounts = (n.Mounts as Obj[])
    .map((m) => ({
      Type: m.Type,
      Name: m.Type === 'volume' ? (/^[0-9a-f]{64}$/.test(m.Name) ? '<anonymous>' : m.Name) : undefined,
      Source: m.Type === 'bind' ? m.Source : undefined,
      Destination: m.Destination,
      RW: m.RW,
      Propagation: m.Type === 'bind' ? m.Propagation : undefined,
    }))
    .sort((a, b) => (a.Destination < b.Destination ? -1 : 1));
  // DIFFERENCES 4: the primary network's endpoint.
  const primary = (n.NetworkSettings.Networks as Obj)[host.NetworkMode] as Obj | undefined;
  out.PrimaryEndpoint = primary
    ? { Aliases: [...((primary.Aliases as string[] | null) ?? [])].sort(), IPAMConfig: primary.IPAMConfig && Object.keys(primary.IPAMConfig).length > 0 ? primary.IPAMConfig : null }
    : null;
  return out;
}

describe('container create: berth vs docker-compose 1.29', () => {
  for (const service of SERVICES) {
    it(`${service}: Config, HostConfig, mounts and primary network agree`, (ctx) => {
      if (!engine) ctx.skip();
      const ref = view(inspected.compose[service]!, projC);
      const got = view(inspected.berth[service]!, projB);
      expect(got).toEqual(ref);
    });
  }

  it('web: the fixture exercises what it claims (a guard against a vacuous comparison)', (ctx) => {
    if (!engine) ctx.skip();
    const w = view(inspected.berth.web!, projB);
    expect(w.HostConfig.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '8081/udp': [{ HostIp: '', HostPort: '18081' }],
      '9090/tcp': [{ HostIp: '', HostPort: '' }],
    });
    expect(w.Config.Env).toEqual(expect.arrayContaining(['FROM_FILE=file value', 'GREETING=hello world', 'EMPTY=']));
    expect(w.Mounts.map((m: Obj) => `${m.Type}:${m.Name ?? m.Source}:${m.Destination}:${m.RW ? 'rw' : 'ro'}`)).toEqual([
      'volume:<anonymous>:/cache:rw',
      'volume:<P>_data:/data:rw',
      'bind:<ROOT>/<STACK>/conf:/etc/conf:ro',
      'volume:<P>_logs:/logs:rw',
      'bind:<ROOT>/<STACK>/made-by-create:/made:rw',
      'tmpfs:undefined:/scratch:rw',
      'bind:<ROOT>/<STACK>/static:/static:ro',
    ]);
    expect(w.HostConfig.Tmpfs).toEqual({ '/run': ['mode=1770', 'noexec', 'size=2097152'] });
    expect(w.HostConfig).toMatchObject({ Memory: 64 * 2 ** 20, MemoryReservation: 32 * 2 ** 20, NanoCpus: 5e8, PidsLimit: 100, Init: true, ReadonlyRootfs: true });
    expect(w.Config).toMatchObject({ StopSignal: 'SIGINT', StopTimeout: 7, User: '65534:65534', WorkingDir: '/srv' });
    expect(w.PrimaryEndpoint).toEqual({ Aliases: ['api', 'web'], IPAMConfig: null });
    expect(view(inspected.berth.probe!, projB).Config.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', expect.stringContaining('/health')], Interval: 3e9, Retries: 7 });
  });

  it('short-syntax binds (which create a missing host directory at start) go to HostConfig.Binds on both sides', (ctx) => {
    if (!engine) ctx.skip();
    // The directory itself appears when the container starts: test/adapters/dockerode-docker.test.ts starts one.
    expect(neutral(inspected.berth.web!.HostConfig.Binds, projB)).toEqual(['<ROOT>/<STACK>/conf:/etc/conf:ro', '<ROOT>/<STACK>/made-by-create:/made:rw']);
    expect([...neutral(inspected.compose.web!.HostConfig.Binds, projC)].sort()).toEqual(['<P>_data:/data:rw', '<ROOT>/<STACK>/conf:/etc/conf:ro', '<ROOT>/<STACK>/made-by-create:/made:rw']);
  });

  it('berth attaches the secondary networks at create, with the aliases compose gives them at start (DIFFERENCES 4)', (ctx) => {
    if (!engine) ctx.skip();
    const nets = inspected.berth.web!.NetworkSettings.Networks as Obj;
    expect(Object.keys(nets).sort()).toEqual([`${projB}_back`, `${projB}_front`]);
    // The engine itself adds the short id and the hostname to a user-defined network's aliases when it
    // connects a container (compose's containers get the same on every network when they start).
    const shortId = (inspected.berth.web!.Id as string).slice(0, 12);
    expect([...(nets[`${projB}_front`].Aliases as string[])].sort()).toEqual([shortId, 'web', 'web-alias', 'webhost', 'www'].sort());
    expect(Object.keys(inspected.compose.web!.NetworkSettings.Networks as Obj)).toEqual([`${projC}_back`]);
    expect(Object.keys(inspected.berth.quiet!.NetworkSettings.Networks as Obj)).toEqual(['none']);
  });
});
