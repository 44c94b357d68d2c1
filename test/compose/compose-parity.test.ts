import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { DesiredStack } from '../../src/model/desired.js';

/**
 * Parity with the reference implementation: for the example repo and every
 * seed fixture, berth's normalized model agrees with what Debian's
 * docker-compose 1.29 `config` prints, for names, networks, volumes,
 * environment and ports.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const REPOS = [join(ROOT, 'desired-state'), join(ROOT, 'test/fixtures/parity'), ...readdirSync(join(ROOT, 'test/fixtures/seeds'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(ROOT, 'test/fixtures/seeds', d.name))];

function haveDockerCompose(): boolean {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = haveDockerCompose();
if (!available && process.env.CI) throw new Error('docker-compose (the parity reference) is missing in CI: .ci/run must install it');

type Obj = Record<string, any>;

/** docker-compose 1.29 prints ports either as `[IP:][HOST:]CONTAINER/PROTO` strings or as {published, target, protocol}. */
function composePorts(list: unknown[] | undefined): string[] {
  const out: string[] = [];
  for (const p of list ?? []) {
    if (typeof p === 'object' && p) {
      const o = p as Obj;
      out.push(`${o.host_ip ?? ''}|${o.published ?? ''}|${o.target}|${o.protocol ?? 'tcp'}`);
      continue;
    }
    const m = /^(?:(\[[^\]]+\]|[\d.]+):)?(?:(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)(?:\/(\w+))?$/.exec(String(p));
    if (!m) throw new Error(`unexpected port form from docker-compose: ${String(p)}`);
    const [, ip = '', host = '', target = '', proto = 'tcp'] = m;
    const [t0, t1 = t0] = target.split('-').map(Number) as [number, number?];
    const [h0, h1] = host ? (host.split('-').map(Number) as [number, number?]) : [undefined, undefined];
    for (let i = 0; i <= t1! - t0; i++) out.push(`${ip.replace(/^\[|\]$/g, '')}|${h0 === undefined ? '' : h0 + i}|${t0 + i}|${proto}`);
    void h1;
  }
  return out.sort();
}

function docker(name: string | undefined, key: string, top: Obj | undefined, stack: string): string {
  const def = (top ?? {})[key] as Obj | null | undefined;
  if (def?.name) return def.name as string;
  if (def?.external) return key;
  return name ?? `${stack}_${key}`;
}

function compare(stack: DesiredStack, dir: string, env: Record<string, string>) {
  const printed = execFileSync('docker-compose', ['-p', stack.name, '-f', join(dir, stack.file), 'config'], {
    cwd: join(dir, 'stacks', stack.name),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ref = parse(printed) as Obj;
  const services = ref.services as Obj;
  expect([...stack.services.map((s) => s.name), ...stack.inactive].sort()).toEqual(Object.keys(services).sort());

  for (const svc of stack.services) {
    const r = services[svc.name] as Obj;
    const where = `${stack.name}/${svc.name}`;
    expect(svc.image, where).toBe(r.image);
    if (r.container_name) expect(svc.containerName, where).toBe(r.container_name);

    const env = Object.fromEntries(Object.entries((r.environment ?? {}) as Obj).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)]));
    expect(svc.environment, `${where} environment`).toEqual(env);

    const nets = r.network_mode ? [] : r.networks ? Object.keys(r.networks as Obj).map((k) => docker(undefined, k, ref.networks, stack.name)) : [`${stack.name}_default`];
    expect(svc.networks.map((n) => n.name).sort(), `${where} networks`).toEqual(nets.sort());
    for (const n of svc.networks) {
      const opts = (r.networks as Obj | undefined)?.[n.key] as Obj | null | undefined;
      expect(n.aliases, `${where} aliases`).toEqual([...((opts?.aliases as string[]) ?? [])].sort());
    }

    const ports = svc.ports.map((p) => `${p.hostIp}|${p.published ?? ''}|${p.target}|${p.protocol}`).sort();
    expect(ports, `${where} ports`).toEqual(composePorts(r.ports as unknown[] | undefined));

    const vols = ((r.volumes ?? []) as (string | Obj)[]).map((v) => {
      if (typeof v === 'object') return `${v.type}|${v.type === 'volume' ? docker(undefined, v.source, ref.volumes, stack.name) : v.source}|${v.target}|${v.read_only === true}`;
      const parts = v.split(':');
      const [src, target, mode = 'rw'] = parts.length === 1 ? ['', parts[0]!, 'rw'] : (parts as [string, string, string?]);
      const bind = src.startsWith('/');
      return `${bind ? 'bind' : 'volume'}|${bind ? src : src === '' ? 'null' : docker(undefined, src, ref.volumes, stack.name)}|${target}|${mode.split(',').includes('ro')}`;
    });
    // docker-compose 1.29 prints secrets as their own section, not as mounts.
    const secretTargets = new Set(((r.secrets ?? []) as (string | Obj)[]).map((s) => (typeof s === 'string' ? `/run/secrets/${s}` : String(s.target ?? `/run/secrets/${s.source}`).replace(/^(?!\/)/, '/run/secrets/'))));
    const ours = svc.mounts
      .filter((m) => m.type !== 'tmpfs' && !secretTargets.has(m.target))
      .map((m) => `${m.type}|${m.type === 'volume' ? (m.source ?? 'null') : m.type === 'bind' ? m.source : ''}|${m.target}|${m.type === 'tmpfs' ? false : m.readOnly}`);
    expect(ours.sort(), `${where} volumes`).toEqual(vols.sort());
  }

  // Top-level objects: berth's Docker names against what Compose resolves.
  for (const n of stack.networks.filter((x) => x.key !== 'default')) {
    expect(n.name, `${stack.name} network ${n.key}`).toBe(docker(undefined, n.key, ref.networks, stack.name));
    expect(n.external, `${stack.name} network ${n.key} external`).toBe(Boolean((ref.networks as Obj)[n.key]?.external));
    expect(n.internal, `${stack.name} network ${n.key} internal`).toBe(Boolean((ref.networks as Obj)[n.key]?.internal));
  }
  for (const v of stack.volumes) {
    expect(v.name, `${stack.name} volume ${v.key}`).toBe(docker(undefined, v.key, ref.volumes, stack.name));
  }
}

describe.skipIf(!available)('parity with docker-compose 1.29 config', () => {
  const validators = createValidators();
  for (const repo of REPOS) {
    it(repo.slice(ROOT.length + 1), () => {
      const env = { SLACK_WEBHOOK_URL: 'https://hooks.example.invalid/x', FROM_SHELL: 'shell-value' };
      const { state, diagnostics } = loadDesiredState(repo, { env, validators });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      for (const stack of state!.stacks) compare(stack, repo, env);
    });
  }
});
