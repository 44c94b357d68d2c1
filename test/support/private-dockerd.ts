// Private Docker engines for tests and benches that need an engine of their
// own (restart it, SIGKILL it, or stand in for several hosts). The shared
// engine serves other engineers' tests and is never restarted; a second
// dockerd is NEVER started in the host's namespaces.
//
// This file is the one implementation; scripts/test-hosts.sh is a thin CLI over
// it (test/support/test-hosts-cli.ts, compiled into dist/ by `npm run build`).
//
// Each engine is isolated the way a separate machine is (issue 18 item 4):
//  - its own NETWORK NAMESPACE (`ip netns add`): every bridge, veth, route and
//    sysctl it makes lives there. dockerd deletes an interface named `docker0`
//    in its namespace at startup with `--bridge=none` (moby 20.10
//    removeDefaultBridgeInterface); on the host that would be the SHARED
//    engine's default bridge. `up()` still checks that the host's docker0 survived;
//  - its own MOUNT and UTS namespaces (`unshare --mount --uts`, private
//    propagation): an empty tmpfs over /run/containerd, so dockerd starts a
//    containerd of its own under its exec root instead of joining a system
//    one; its own /etc/docker (so its own identity key: otherwise every engine
//    reports the shared engine's ID); its own hostname (the node name `docker
//    info` and Swarm show); and its overlay mounts never appear on the host;
//  - its own data root, exec root, pidfile, config file (empty: nothing from
//    /etc/docker/daemon.json applies) and cgroup parent (its containers are
//    found, and on a simulated crash killed, by that cgroup).
//
// A bed of several engines (`TestBed`) joins them on one bridge that lives in a
// network namespace of its own: the shared engine sets the host's iptables
// FORWARD policy to DROP and br_netfilter is loaded, so a bridge in the host
// namespace would drop the engines' traffic to each other. The host reaches the
// bridge through one veth (host → namespace traffic is not forwarded on the
// host), so each engine also answers on plain TCP, `tcp://IP:2375`, with
// `--tls=false` (without it a plain-TCP dockerd waits 15 s at start-up).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, requireEngine, type DockerResult } from './engine.js';

const SHARED_BRIDGE = '/sys/class/net/docker0';
const CGROUP_ROOT = '/sys/fs/cgroup';
const TCP_PORT = 2375;

/** What it takes to find an engine again from another process (`scripts/test-hosts.sh stop`). */
export interface EngineRecord {
  dir: string;
  name: string;
  netns: string;
  /** On a bed's bridge: its address there. */
  ip: string | null;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inNetns = (netns: string, ...args: string[]) => ip('netns', 'exec', netns, 'ip', ...args);

/** Whether a process is alive (a zombie is not). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * For a test file's beforeAll: whether private engines can run here (the shared engine answers,
 * root, the binaries). Locally a no skips the file; in CI it throws, as requireEngine does.
 */
export async function requirePrivateEngines(): Promise<boolean> {
  if (!(await requireEngine())) return false;
  const why = PrivateDockerd.unavailable();
  if (why && process.env.CI) throw new Error(`CI: ${why}`);
  return why === null;
}

export class PrivateDockerd {
  readonly dir: string;
  /** Its hostname: the name `docker info` (and a swarm) shows. */
  readonly name: string;
  /** The network namespace dockerd runs in. */
  readonly netns: string;
  /** Its address on a bed's bridge (null for an engine on its own). */
  readonly ip: string | null;
  private readonly sharedBridgeExisted = existsSync(SHARED_BRIDGE);

  private constructor(rec: EngineRecord) {
    this.dir = rec.dir;
    this.name = rec.name;
    this.netns = rec.netns;
    this.ip = rec.ip;
  }

  /** Why a private dockerd cannot run here, or null when it can. */
  static unavailable(): string | null {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'a private dockerd needs root';
    const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, bin)));
    for (const bin of ['dockerd', 'ip', 'nsenter', 'unshare']) if (!onPath(bin)) return `${bin} is not on PATH`;
    return null;
  }

  /** One engine on its own (no bridge: reached through its unix socket only). */
  static async start(): Promise<PrivateDockerd> {
    const name = `berth-dockerd-${randomBytes(4).toString('hex')}`;
    const d = PrivateDockerd.create(name, name, null);
    await d.up();
    return d;
  }

  /** Make the directory and network namespace of an engine (not started). `netns` must be unique on the machine; it also names the cgroup parent. */
  static create(name: string, netns: string, net: { hub: string; ip: string; link: string } | null): PrivateDockerd {
    const dir = mkdtempSync('/tmp/bdk-');
    const d = new PrivateDockerd({ dir, name, netns, ip: net?.ip ?? null });
    writeFileSync(join(dir, 'daemon.json'), '{}\n');
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'engine.json'), JSON.stringify(d.record()));
    ip('netns', 'add', d.netns);
    inNetns(d.netns, 'link', 'set', 'lo', 'up');
    if (net) {
      // eth0 in the engine's namespace, its peer on the hub's bridge.
      ip('link', 'add', net.link, 'type', 'veth', 'peer', 'name', `${net.link}p`);
      ip('link', 'set', `${net.link}p`, 'netns', d.netns);
      ip('link', 'set', net.link, 'netns', net.hub);
      inNetns(net.hub, 'link', 'set', net.link, 'master', 'br0', 'up');
      inNetns(d.netns, 'link', 'set', `${net.link}p`, 'name', 'eth0');
      inNetns(d.netns, 'addr', 'add', `${net.ip}/24`, 'dev', 'eth0');
      inNetns(d.netns, 'link', 'set', 'eth0', 'up');
    }
    return d;
  }

  /** An engine made by another process, from its record. */
  static attach(rec: EngineRecord): PrivateDockerd {
    return new PrivateDockerd(rec);
  }

  record(): EngineRecord {
    return { dir: this.dir, name: this.name, netns: this.netns, ip: this.ip };
  }

  /** Throws when the shared engine's docker0 went missing since this engine was made. */
  assertSharedBridgeIntact(): void {
    if (this.sharedBridgeExisted && !existsSync(SHARED_BRIDGE)) throw new Error('the shared engine\'s docker0 bridge disappeared while the private dockerd ran');
  }

  get socketPath(): string {
    return join(this.dir, 'docker.sock');
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  /** Plain TCP on the bed's bridge (what another machine would dial); null for an engine on its own. */
  get tcpHost(): string | null {
    return this.ip ? `tcp://${this.ip}:${TCP_PORT}` : null;
  }

  private get cgroupParent(): string {
    return `/${this.netns}`;
  }

  /** The daemon's own log (for failure messages). */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'dockerd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** The docker CLI against this engine. */
  docker(args: string[], timeoutMs = 120_000): Promise<DockerResult> {
    return docker(args, { env: { DOCKER_HOST: this.dockerHost }, timeoutMs });
  }

  /** dockerd's pid while it runs. */
  pid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.dir, 'spawned.pid'), 'utf8'));
      return pid > 0 && alive(pid) ? pid : null;
    } catch {
      return null;
    }
  }

  /** Start dockerd (same data root every time) and wait until it answers. */
  async up(): Promise<void> {
    if (this.pid() !== null) throw new Error(`private dockerd ${this.name} already running`);
    // What a dead daemon left (its containerd's pid file and socket, shims' state) must not be mistaken for a live one.
    this.killLeftovers();
    rmSync(join(this.dir, 'exec'), { recursive: true, force: true });
    const logFd = openSync(join(this.dir, 'dockerd.log'), 'a');
    const dockerd = [
      'dockerd',
      '--config-file', join(this.dir, 'daemon.json'),
      '--host', this.dockerHost,
      ...(this.ip ? ['--host', `tcp://${this.ip}:${TCP_PORT}`, '--tls=false'] : []),
      '--data-root', join(this.dir, 'root'),
      '--exec-root', join(this.dir, 'exec'),
      '--pidfile', join(this.dir, 'docker.pid'),
      '--cgroup-parent', this.cgroupParent,
      // No default bridge: berth creates its own networks.
      '--bridge=none',
      // iptables state is per namespace, but the xtables lock is host-wide: stay out of the shared engine's way.
      '--iptables=false',
      '--ip-masq=false',
    ];
    // nsenter, unshare and sh each exec the next: the pid spawned is dockerd's.
    const inside = `mount -t tmpfs tmpfs /run/containerd && mount --bind "$1" /etc/docker && hostname "$2" && shift 2 && exec "$@"`;
    const proc = spawn('nsenter', [`--net=/run/netns/${this.netns}`, 'unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', inside, 'sh', join(this.dir, 'etc'), this.name, ...dockerd], {
      stdio: ['ignore', logFd, logFd],
      detached: true,
    });
    closeSync(logFd);
    proc.unref();
    writeFileSync(join(this.dir, 'spawned.pid'), String(proc.pid));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await this.docker(['version', '--format', '{{.Server.Version}}'], 10_000);
      if (r.code === 0) {
        this.assertSharedBridgeIntact();
        return;
      }
      if (!alive(proc.pid!) || Date.now() > deadline) throw new Error(`private dockerd ${this.name} did not come up:\n${this.log().slice(-3000)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  /** SIGTERM dockerd (it stops its containers, as on a host's `systemctl restart docker`) and wait for it to exit. */
  async down(): Promise<void> {
    const pid = this.pid();
    if (pid === null) return;
    signal(pid, 'SIGTERM');
    if (!(await gone(pid, 60_000))) signal(pid, 'SIGKILL');
    await gone(pid, 10_000);
  }

  /**
   * The host crashes: SIGKILL dockerd, its containerd and shims, and every
   * process of its containers, all at once. Nothing stops cleanly; `up()`
   * afterwards is the machine booting again.
   */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (pid !== null) signal(pid, 'SIGKILL');
    this.killLeftovers();
    if (pid !== null) await gone(pid, 10_000);
  }

  /** SIGKILL whatever of this engine still runs: processes in its network namespace, and its containers (by cgroup parent). */
  private killLeftovers(): void {
    const pids = new Set<number>();
    try {
      for (const p of execFileSync('ip', ['netns', 'pids', this.netns], { encoding: 'utf8' }).split('\n')) if (p.trim()) pids.add(Number(p));
    } catch {
      // no such namespace (any more)
    }
    for (const p of this.cgroupPids()) pids.add(p);
    for (const p of pids) signal(p, 'SIGKILL');
  }

  private cgroupPids(): number[] {
    const root = join(CGROUP_ROOT, 'pids', this.cgroupParent);
    const out: number[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p.trim()) out.push(Number(p));
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    };
    walk(root);
    return out;
  }

  /** The cgroups dockerd made under its parent stay after it stops; empty ones can go. */
  private removeCgroups(): void {
    for (const controller of readdirSync(CGROUP_ROOT)) {
      const top = join(CGROUP_ROOT, controller, this.cgroupParent);
      const rm = (dir: string) => {
        if (!existsSync(dir)) return;
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(join(dir, e.name));
        try {
          rmdirSync(dir);
        } catch {
          // still in use or not a cgroup dir: left as it is
        }
      };
      rm(top);
    }
  }

  /** Copy images from the shared engine into this one (`docker save | docker load`). */
  async loadImages(images: string[]): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const save = spawn('docker', ['save', ...images], { stdio: ['ignore', 'pipe', 'pipe'] });
      const load = spawn('docker', ['load', '-q'], { env: { ...process.env, DOCKER_HOST: this.dockerHost }, stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      save.stderr.on('data', (d: Buffer) => (err += d.toString()));
      load.stderr.on('data', (d: Buffer) => (err += d.toString()));
      save.stdout.pipe(load.stdin);
      load.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker save | docker load: exit ${code}: ${err}`))));
    });
  }

  /** Remove everything it holds, stop it, delete its directory and namespace. */
  async destroy(): Promise<void> {
    if (this.pid() !== null) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids]);
      await this.docker(['network', 'prune', '-f']);
      await this.down();
    }
    this.killLeftovers();
    // Its mounts live in its own mount namespace, gone with its last process.
    await new Promise((r) => setTimeout(r, 200));
    this.removeCgroups();
    rmSync(this.dir, { recursive: true, force: true });
    try {
      ip('netns', 'del', this.netns);
    } catch {
      // already gone
    }
  }
}

/** What `scripts/test-hosts.sh` keeps of a running bed. */
export interface BedRecord {
  hub: string;
  /** The host's end of the hub link. */
  hostLink: string;
  subnet: string;
  lease: string;
  engines: EngineRecord[];
}

const LEASES = '/tmp/berth-test-hosts-subnets';

/**
 * A /24 for one bed, leased by an atomic mkdir so beds of concurrent test
 * files never share one (10.231.0.0/16, away from the shared engine's pools).
 * A lease whose hub namespace is gone is stale and reused.
 */
function leaseSubnet(): { n: number; lease: string } {
  mkdirSync(LEASES, { recursive: true });
  const hubs = new Set(existsSync('/run/netns') ? readdirSync('/run/netns') : []);
  for (let n = 1; n < 255; n++) {
    const lease = join(LEASES, String(n));
    try {
      mkdirSync(lease);
      return { n, lease };
    } catch {
      const owner = existsSync(join(lease, 'hub')) ? readFileSync(join(lease, 'hub'), 'utf8') : null;
      if (owner !== null && !hubs.has(owner)) {
        rmSync(lease, { recursive: true, force: true });
        n--;
      }
    }
  }
  throw new Error(`no free test-bed subnet under ${LEASES}`);
}

/**
 * N private engines on one bridge, standing in for N machines: engine i is
 * `NAME-i` at 10.231.L.(10+i), reachable from the host and from each other.
 */
export class TestBed {
  private constructor(
    readonly rec: BedRecord,
    readonly engines: PrivateDockerd[],
  ) {}

  static async start(count: number, opts: { images?: string[]; prefix?: string } = {}): Promise<TestBed> {
    const id = randomBytes(3).toString('hex');
    const { n, lease } = leaseSubnet();
    const subnet = `10.231.${n}`;
    const hub = `berth-hub-${id}`;
    writeFileSync(join(lease, 'hub'), hub);
    const rec: BedRecord = { hub, hostLink: `bh${id}`, subnet: `${subnet}.0/24`, lease, engines: [] };
    const bed = new TestBed(rec, []);
    try {
      ip('netns', 'add', hub);
      inNetns(hub, 'link', 'set', 'lo', 'up');
      inNetns(hub, 'link', 'add', 'br0', 'type', 'bridge');
      inNetns(hub, 'link', 'set', 'br0', 'up');
      ip('link', 'add', rec.hostLink, 'type', 'veth', 'peer', 'name', `${rec.hostLink}p`);
      ip('link', 'set', `${rec.hostLink}p`, 'netns', hub);
      inNetns(hub, 'link', 'set', `${rec.hostLink}p`, 'master', 'br0', 'up');
      ip('addr', 'add', `${subnet}.1/24`, 'dev', rec.hostLink);
      ip('link', 'set', rec.hostLink, 'up');
      for (let i = 1; i <= count; i++) {
        const e = PrivateDockerd.create(`${opts.prefix ?? `berth-${id}`}-${i}`, `berth-${id}-${i}`, { hub, ip: `${subnet}.${10 + i}`, link: `be${id}${i}` });
        bed.engines.push(e);
        rec.engines.push(e.record());
      }
      await Promise.all(bed.engines.map((e) => e.up()));
      if (opts.images?.length) await Promise.all(bed.engines.map((e) => e.loadImages(opts.images!)));
      return bed;
    } catch (e) {
      await bed.destroy();
      throw e;
    }
  }

  static attach(rec: BedRecord): TestBed {
    return new TestBed(rec, rec.engines.map((e) => PrivateDockerd.attach(e)));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.engines.map((e) => e.destroy()));
    for (const args of [['link', 'del', this.rec.hostLink], ['netns', 'del', this.rec.hub]]) {
      try {
        ip(...args);
      } catch {
        // already gone
      }
    }
    rmSync(this.rec.lease, { recursive: true, force: true });
  }
}
