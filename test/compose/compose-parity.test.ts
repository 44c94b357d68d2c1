import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { DesiredStack } from '../../src/model/desired.js';
import { composeConfigBatch } from '../support/compose-config-batch.js';
import { CORPUS, caseEnv, corpusCases } from '../support/realworld-corpus.js';

/**
 * Parity with the reference implementation: for the example repo and every
 * seed fixture, berth's normalized model agrees with what Debian's
 * docker-compose 1.29 `config` prints, for names, networks, volumes,
 * environment and ports.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const execFileAsync = promisify(execFile);
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

/** A mount target without its trailing slash: 1.29 drops it, berth keeps the file's; the engine cleans the path either way. */
const clean = (target: string) => (target.length > 1 ? target.replace(/\/+$/, '') : target);

function docker(name: string | undefined, key: string, top: Obj | undefined, stack: string): string {
  const def = (top ?? {})[key] as Obj | null | undefined;
  if (def?.name) return def.name as string;
  if (def?.external) return key;
  return name ?? `${stack}_${key}`;
}

// Asynchronous on purpose: a repo's docker-compose runs back to back in one synchronous
// test blocked the worker past vitest's 60 s RPC timeout on a loaded CI machine.
async function compare(stack: DesiredStack, dir: string, env: Record<string, string>) {
  const { stdout: printed } = await execFileAsync('docker-compose', ['-p', stack.name, '-f', join(dir, stack.file), 'config'], {
    // The stack's folder (its name may be normalized from the folder's, e.g. lowercased).
    cwd: dirname(join(dir, stack.file)),
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  compareWith(stack, printed);
}

/** berth's model of one stack against what `docker-compose config` printed for it. */
function compareWith(stack: DesiredStack, printed: string) {
  const ref = parse(printed) as Obj;
  const services = ref.services as Obj;
  expect([...stack.services.map((s) => s.name), ...stack.inactive].sort()).toEqual(Object.keys(services).sort());

  for (const svc of stack.services) {
    const r = services[svc.name] as Obj;
    const where = `${stack.name}/${svc.name}`;
    // A build-only service: 1.29 names no image (it would tag `<project>_<service>`), nor does berth's model.
    if (r.image === undefined && r.build !== undefined) expect(svc.image, where).toBe('');
    else expect(svc.image, where).toBe(r.image);
    if (r.container_name) expect(svc.containerName, where).toBe(r.container_name);

    const env = Object.fromEntries(Object.entries((r.environment ?? {}) as Obj).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)]));
    expect(svc.environment, `${where} environment`).toEqual(env);

    const nets = r.network_mode ? [] : r.networks ? Object.keys(r.networks as Obj).map((k) => docker(undefined, k, ref.networks, stack.name)) : [`${stack.name}_default`];
    expect(svc.networks.map((n) => n.name).sort(), `${where} networks`).toEqual(nets.sort());
    for (const n of svc.networks) {
      const opts = (r.networks as Obj | undefined)?.[n.key] as Obj | null | undefined;
      expect(n.aliases, `${where} aliases`).toEqual([...((opts?.aliases as string[]) ?? [])].sort());
    }

    const ports = svc.ports.map((p) => `${p.hostIp}|${p.published ?? ''}${p.publishedEnd !== undefined ? `-${p.publishedEnd}` : ''}|${p.target}|${p.protocol}`).sort();
    expect(ports, `${where} ports`).toEqual(composePorts(r.ports as unknown[] | undefined));

    const vols = ((r.volumes ?? []) as (string | Obj)[]).map((v) => {
      if (typeof v === 'object') return `${v.type}|${v.type === 'volume' ? docker(undefined, v.source, ref.volumes, stack.name) : v.source}|${clean(v.target)}|${v.read_only === true}`;
      const parts = v.split(':');
      const [src, target, mode = 'rw'] = parts.length === 1 ? ['', parts[0]!, 'rw'] : (parts as [string, string, string?]);
      const bind = src.startsWith('/');
      return `${bind ? 'bind' : 'volume'}|${bind ? src : src === '' ? 'null' : docker(undefined, src, ref.volumes, stack.name)}|${clean(target)}|${mode.split(',').includes('ro')}`;
    });
    // docker-compose 1.29 prints secrets as their own section, not as mounts, and ignores configs (swarm only, it warns).
    const secretTargets = new Set(((r.secrets ?? []) as (string | Obj)[]).map((s) => (typeof s === 'string' ? `/run/secrets/${s}` : String(s.target ?? `/run/secrets/${s.source}`).replace(/^(?!\/)/, '/run/secrets/'))));
    for (const c of (r.configs ?? []) as (string | Obj)[]) secretTargets.add(typeof c === 'string' ? `/${c}` : String(c.target ?? `/${c.source}`));
    const ours = svc.mounts
      .filter((m) => m.type !== 'tmpfs' && !secretTargets.has(clean(m.target)))
      .map((m) => `${m.type}|${m.type === 'volume' ? (m.source ?? 'null') : m.type === 'bind' ? m.source : ''}|${clean(m.target)}|${m.type === 'tmpfs' ? false : m.readOnly}`);
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
    it(repo.slice(ROOT.length + 1), async () => {
      const env = { SLACK_WEBHOOK_URL: 'https://hooks.example.invalid/x', FROM_SHELL: 'shell-value' };
      const { state, diagnostics } = loadDesiredState(repo, { env, validators });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      for (const stack of state!.stacks) await compare(stack, repo, env);
    });
  }
});

/**
 * The real-world corpus (../shared/realworld-compose, read in place): every
 * case both tools accept is compared as above. 1.29 predates these parts of
 * the Compose Specification, so it refuses the cases below (each listed
 * with 1.29's own reason; a listed case 1.29 starts to accept fails, so the
 * list stays true). For those, the corpus test and the spec-key unit tests
 * check berth against the Specification instead.
 */
const TOO_NEW_FOR_1_29: Record<string, string> = {
  'awesome-compose-react-rust-postgres': 'top-level `name` (spec, not in 1.29)',
  'compose-go-loader-extends-reset': '`!reset` tag',
  'compose-go-loader-extends': 'top-level `name`',
  'compose-go-loader-include': 'top-level `include`',
  'compose-go-loader-with-version': 'top-level `name` (berth refuses it too: build context is a file)',
  'docker-compose-compose-model': '`models`',
  'docker-compose-config-from-env': '`configs.*.environment`',
  'docker-compose-config-hash': 'long-form `env_file` (`path`, `required`)',
  'docker-compose-hooks': '`post_start`/`pre_stop`',
  'docker-compose-image-volume': 'mount `type: image`',
  'docker-compose-interface-name': '`interface_name`',
  'docker-compose-logging-driver': '`depends_on.*.restart`',
  'docker-compose-not-required-deps': '`depends_on.*.required`',
  'docker-compose-pull-policy-daily': '`pull_policy: daily`',
  'docker-compose-raw-env-file': 'long-form `env_file` (`format: raw`)',
  'docker-compose-restart-depends-on': '`depends_on.*.restart`',
  'docker-compose-secret-from-env': '`secrets.*.environment`, top-level `include`',
  'docker-compose-watch': '`build.dockerfile_inline`',
};

describe.skipIf(!available || CORPUS === null)('parity with docker-compose 1.29 config on the real-world corpus', () => {
  const validators = createValidators();
  const cases = corpusCases();
  // One docker-compose process for the whole corpus (its start-up per case made this minutes long).
  const batch = composeConfigBatch();
  afterAll(() => batch.close());
  const config = (stack: DesiredStack, repo: string, env: Record<string, string>) =>
    batch.config({ project: stack.name, file: join(repo, stack.file), cwd: dirname(join(repo, stack.file)), env });

  it('lists only cases of the corpus', () => {
    expect(Object.keys(TOO_NEW_FOR_1_29).filter((c) => !cases.includes(c))).toEqual([]);
  });

  it.each(cases)('%s', async (c) => {
    const repo = join(CORPUS!, c);
    const env = caseEnv(c);
    const { state, diagnostics } = loadDesiredState(repo, { env, validators });
    if (c in TOO_NEW_FOR_1_29) {
      // 1.29 must still refuse it, or it belongs in the comparison.
      for (const stack of state?.stacks ?? []) {
        const r = await config(stack, repo, env);
        expect(r.code, `${c}: docker-compose 1.29 now reads it (${TOO_NEW_FOR_1_29[c]}): remove it from TOO_NEW_FOR_1_29`).not.toBe(0);
      }
      return;
    }
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    for (const stack of state!.stacks) {
      const r = await config(stack, repo, env);
      expect(r.code, r.stderr).toBe(0);
      compareWith(stack, r.stdout);
    }
  });
});
