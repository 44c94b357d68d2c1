// A second, private Docker engine for tests that must stop and start dockerd
// (the shared one serves other engineers' tests and is never restarted).
//
// It gets its own socket, data root, exec root (with its own containerd) and
// pid file under one /tmp directory, an empty config file (so nothing from
// /etc/docker/daemon.json applies), and — the part that matters — its own
// NETWORK NAMESPACE (`ip netns add` + `nsenter --net`): every bridge, veth,
// route and sysctl it makes lives there, not on the host.
//
// Why the namespace: dockerd deletes an interface named `docker0` in its
// network namespace at startup when started with `--bridge=none`, and also
// on a restart that finds a stale default network while
// `--default-address-pool` is set (moby 20.10 removeDefaultBridgeInterface).
// On the host that is the SHARED engine's default bridge: every `docker run`
// without a network there then fails with "could not find bridge docker0".
// Inside its own namespace the private engine can do as it likes; `up()`
// still checks that the host's docker0 survived.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, type DockerResult } from './engine.js';

const SHARED_BRIDGE = '/sys/class/net/docker0';

export class PrivateDockerd {
  readonly dir: string;
  /** The network namespace dockerd runs in. */
  private readonly netns = `berth-dockerd-${randomBytes(4).toString('hex')}`;
  private readonly sharedBridgeExisted = existsSync(SHARED_BRIDGE);
  private proc: ChildProcess | null = null;

  private constructor() {
    this.dir = mkdtempSync('/tmp/bdk-');
    writeFileSync(join(this.dir, 'daemon.json'), '{}\n');
    execFileSync('ip', ['netns', 'add', this.netns]);
    execFileSync('ip', ['netns', 'exec', this.netns, 'ip', 'link', 'set', 'lo', 'up']);
  }

  /** Throws when the shared engine's docker0 went missing since this engine was made. */
  assertSharedBridgeIntact(): void {
    if (this.sharedBridgeExisted && !existsSync(SHARED_BRIDGE)) throw new Error('the shared engine\'s docker0 bridge disappeared while the private dockerd ran');
  }

  /** Why a private dockerd cannot run here, or null when it can. */
  static unavailable(): string | null {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'a private dockerd needs root';
    const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, bin)));
    for (const bin of ['dockerd', 'ip', 'nsenter']) if (!onPath(bin)) return `${bin} is not on PATH`;
    return null;
  }

  static async start(): Promise<PrivateDockerd> {
    const d = new PrivateDockerd();
    await d.up();
    return d;
  }

  get socketPath(): string {
    return join(this.dir, 'docker.sock');
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
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

  /** Start dockerd (same data root every time) and wait until it answers. */
  async up(): Promise<void> {
    if (this.proc) throw new Error('private dockerd already running');
    const logFd = openSync(join(this.dir, 'dockerd.log'), 'a');
    const args = [
      `--net=/run/netns/${this.netns}`,
      'dockerd',
      '--config-file', join(this.dir, 'daemon.json'),
      '--host', this.dockerHost,
      '--data-root', join(this.dir, 'root'),
      '--exec-root', join(this.dir, 'exec'),
      '--pidfile', join(this.dir, 'docker.pid'),
      // No default bridge: berth creates its own networks.
      '--bridge=none',
      // iptables state is per namespace, but the xtables lock is host-wide: stay out of the shared engine's way.
      '--iptables=false',
      '--ip-masq=false',
    ];
    const proc = spawn('nsenter', args, { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    this.proc = proc;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await this.docker(['version', '--format', '{{.Server.Version}}'], 10_000);
      if (r.code === 0) {
        this.assertSharedBridgeIntact();
        return;
      }
      const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 250))]);
      if (gone || Date.now() > deadline) throw new Error(`private dockerd did not come up:\n${this.log().slice(-3000)}`);
    }
  }

  /** SIGTERM dockerd (it stops its containers, as on a host's `systemctl restart docker`) and wait for it to exit. */
  async down(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
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

  /** Remove everything it holds, stop it, delete its directory. */
  async destroy(): Promise<void> {
    if (this.proc) {
      const ids = (await this.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids]);
      await this.docker(['network', 'prune', '-f']);
      await this.down();
    }
    // A clean shutdown unmounts everything; only then is the data root safe to delete.
    const mounted = readFileSync('/proc/mounts', 'utf8').includes(this.dir);
    if (!mounted) rmSync(this.dir, { recursive: true, force: true });
    execFileSync('ip', ['netns', 'del', this.netns]);
  }
}
