import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from './engine.js';
import { freePort } from './free-port.js';

/**
 * The real registry of the tests (scripts/test-registry.sh): Debian's
 * docker-registry with htpasswd auth on loopback. Tests read the shared
 * instance's registry.json, or start one of their own (same binary, own port
 * and storage) when they need to stop it (an outage).
 */
export interface RegistryInfo {
  host: string;
  port: number;
  username: string;
  password: string;
  /** A DOCKER_CONFIG dir logged in to this registry (for the test's own pushes). */
  dockerConfig: string;
  binary: string;
  htpasswd: string;
  images: Record<string, string>;
}

export const REGISTRY_FILE = join(process.env.BERTH_TEST_REGISTRY_DIR ?? '/tmp/berth-test-registry', 'registry.json');

/** For `beforeAll`: the shared registry, or null (skip) outside CI; under CI its absence fails loudly. */
export function requireRegistry(): RegistryInfo | null {
  if (existsSync(REGISTRY_FILE)) return JSON.parse(readFileSync(REGISTRY_FILE, 'utf8')) as RegistryInfo;
  const msg = `no test registry (${REGISTRY_FILE} missing); run \`bash scripts/test-registry.sh\``;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${msg}`);
  console.warn(`[registry] skipping registry tests: ${msg}`);
  return null;
}

/** `auths` entry value for the registry: base64 of `user:password`, as `docker login` writes it. */
export function basicAuth(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

/** A fresh DOCKER_CONFIG dir holding `config` as config.json. */
export function dockerConfigDir(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-dockercfg-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** docker CLI under a DOCKER_CONFIG (so the test's login never touches root's ~/.docker). */
export async function dockerAs(config: string, args: string[]): Promise<string> {
  const r = await docker(args, { env: { DOCKER_CONFIG: config } });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * An image of its own (own ID, removable without touching the stand-ins):
 * a stand-in plus a label, built offline by the classic builder.
 */
export async function uniqueImage(tag: string, variant: string, base = 'berth-test/worker:1'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-img-'));
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${base}\nLABEL berth.test.variant=${variant}\n`);
  const r = await docker(['build', '-q', '-t', tag, dir], { env: { DOCKER_BUILDKIT: '0' } });
  rmSync(dir, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`docker build ${tag}: ${r.stderr}`);
  return (await docker(['image', 'inspect', '-f', '{{.Id}}', tag])).stdout.trim();
}

/** Push `local` as `remote` through `config`; returns the manifest digest. Drops the remote tag locally. */
export async function pushAs(config: string, local: string, remote: string): Promise<string> {
  await dockerAs(config, ['tag', local, remote]);
  const out = await dockerAs(config, ['push', remote]);
  await docker(['rmi', remote]);
  const m = /digest: (sha256:[0-9a-f]{64})/.exec(out);
  if (!m) throw new Error(`push ${remote}: no digest in ${out}`);
  return m[1]!;
}

/** A registry process of the test's own: same auth as the shared one, own port and storage; can be stopped and started again. */
export class OwnRegistry {
  private child: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  host = '';
  dockerConfig = join(this.dir, 'docker-config');

  constructor(private readonly shared: RegistryInfo) {}

  async start(): Promise<void> {
    if (!this.host) this.host = `127.0.0.1:${await freePort()}`;
    const cfg = join(this.dir, 'config.yml');
    mkdirSync(join(this.dir, 'storage'), { recursive: true });
    const htpasswd = join(this.dir, 'htpasswd');
    if (!existsSync(htpasswd)) writeFileSync(htpasswd, readFileSync(join(REGISTRY_FILE, '..', 'htpasswd')));
    writeFileSync(
      cfg,
      `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${this.dir}/storage\n  delete:\n    enabled: true\nhttp:\n  addr: ${this.host}\nauth:\n  htpasswd:\n    realm: berth-test\n    path: ${htpasswd}\n`,
    );
    this.child = spawn(this.shared.binary, ['serve', cfg], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const ok = await fetch(`http://${this.host}/v2/`).then((r) => r.status === 401, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    mkdirSync(this.dockerConfig, { recursive: true });
    const r = await docker(['login', '-u', this.shared.username, '-p', this.shared.password, this.host], { env: { DOCKER_CONFIG: this.dockerConfig } });
    if (r.code !== 0) throw new Error(`docker login ${this.host}: ${r.stderr}`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An image of its own, only in the registry (`HOST/<name>/app:v1`): every apply that wants it must pull. */
export async function registryOnlyImage(reg: RegistryInfo, name: string): Promise<string> {
  const local = `berth-local-${name}/app:v1`;
  await uniqueImage(local, name);
  const remote = `${reg.host}/${name}/app:v1`;
  await pushAs(reg.dockerConfig, local, remote);
  await docker(['rmi', local]);
  return remote;
}
