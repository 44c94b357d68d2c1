import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Issue 12 on the real engine: a service in another's network and PID
 * namespace (`service:X`) is recreated into the new X when X is replaced;
 * `extends` (other file) + `include` + `links` give the containers the
 * environment, labels, aliases and links Compose would (the reference for
 * what 1.29 knows is its own `docker-compose config` over the same files).
 */
const execFileAsync = promisify(execFile);
const prefixes: string[] = [];
let engine = false;
beforeAll(async () => {
  engine = await requireEngine();
});
afterAll(async () => {
  if (engine) for (const p of prefixes) await removePrefixed(p);
});

const inspect = async (name: string, format: string) => (await docker(['inspect', '-f', format, name])).stdout.trim();
const state = () => ({ BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) });
const SLEEPER = ['    image: berth-test/busybox:1', '    command: ["sleep", "3600"]', '    stop_signal: SIGKILL'];

describe('shared namespaces and legacy links on the real engine', () => {
  it('network_mode/pid: service:a follow a replaced a', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('ns')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}ns`;
    const file = (v: string) =>
      ['services:', '  a:', ...SLEEPER, `    environment: {VERSION: "${v}"}`, '  b:', ...SLEEPER, '    network_mode: service:a', '    pid: service:a', ''].join('\n');
    const repo = tmpRepo({ 'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n', [`stacks/${stack}/compose.yaml`]: file('1') });
    const env = state();
    const first = await runCli(['apply', '--repo', repo], env);
    expect(first.code, first.output).toBe(0);
    const a1 = await inspect(`${stack}-a-1`, '{{.Id}}');
    const b1 = await inspect(`${stack}-b-1`, '{{.Id}}');
    expect(await inspect(`${stack}-b-1`, '{{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}}')).toBe(`container:${a1} container:${a1}`);

    writeFileSync(join(repo, `stacks/${stack}/compose.yaml`), file('2'));
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.output).toMatch(new RegExp(`${stack}/b.*network_mode service:a: a is replaced`));
    const second = await runCli(['apply', '--repo', repo], env);
    expect(second.code, second.output).toBe(0);
    const a2 = await inspect(`${stack}-a-1`, '{{.Id}}');
    const b2 = await inspect(`${stack}-b-1`, '{{.Id}}');
    expect(a2).not.toBe(a1);
    expect(b2).not.toBe(b1);
    // The engine resolves `container:<name>` to the id at create time: b joined the NEW a.
    expect(await inspect(`${stack}-b-1`, '{{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}}')).toBe(`container:${a2} container:${a2}`);
    expect(await inspect(`${stack}-b-1`, '{{.State.Running}}')).toBe('true');
    const quiet = await runCli(['plan', '--repo', repo], env);
    expect(quiet.code, quiet.output).toBe(0);
    expect(quiet.output).not.toMatch(new RegExp(`[~+-] ${stack}/`));
  });

  it('extends (other file) + include + links give the containers what docker-compose config says', async (ctx) => {
    if (!engine) ctx.skip();
    const prefix = `${uniqueName('xl')}-`;
    prefixes.push(prefix);
    const stack = `${prefix}xl`;
    const main = ['services:', '  web:', '    extends: {file: base.yaml, service: common}', '    environment: {LEVEL: web}', '    labels: {role: web}', '    links: ["db:database"]', ''].join('\n');
    const base = ['services:', '  common:', ...SLEEPER, '    environment: {LEVEL: base, SHARED: from-base}', '    labels: {tier: base}', ''].join('\n');
    const included = ['services:', '  db:', ...SLEEPER, '    environment: {ROLE: db}', '    networks:', '      default:', '        aliases: [store]', ''].join('\n');
    const dir = `stacks/${stack}`;
    const repo = tmpRepo({
      'berth.yaml': 'rollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n',
      [`${dir}/compose.yaml`]: `include:\n  - inc/compose.yaml\n${main}`,
      [`${dir}/base.yaml`]: base,
      [`${dir}/inc/compose.yaml`]: included,
    });
    const a = await runCli(['apply', '--repo', repo], state());
    expect(a.code, a.output).toBe(0);

    // 1.29 has no `include` (spec 2.20): it reads the including file without it, merged with the included file.
    const ref = mkdtempSync(join(tmpdir(), 'berth-ref-'));
    writeFileSync(join(ref, 'main.yaml'), main);
    writeFileSync(join(ref, 'base.yaml'), readFileSync(join(repo, dir, 'base.yaml')));
    writeFileSync(join(ref, 'inc.yaml'), included);
    const { stdout } = await execFileAsync('docker-compose', ['-p', stack, '-f', join(ref, 'main.yaml'), '-f', join(ref, 'inc.yaml'), 'config'], { cwd: ref, encoding: 'utf8' });
    const services = (parse(stdout) as { services: Record<string, Record<string, any>> }).services;
    expect(Object.keys(services).sort()).toEqual(['db', 'web']);

    const net = `${stack}_default`;
    for (const [name, r] of Object.entries(services)) {
      const c = `${stack}-${name}-1`;
      const envList = JSON.parse(await inspect(c, '{{json .Config.Env}}')) as string[];
      const own = Object.fromEntries(envList.filter((e) => !e.startsWith('PATH=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      expect(own, `${name} environment`).toEqual(r.environment ?? {});
      const labels = JSON.parse(await inspect(c, '{{json .Config.Labels}}')) as Record<string, string>;
      expect(labels, `${name} labels`).toMatchObject(r.labels ?? {});
      expect(labels['com.docker.compose.service']).toBe(name);
      const endpoint = JSON.parse(await inspect(c, `{{json (index .NetworkSettings.Networks "${net}")}}`)) as { Aliases: string[] | null; Links: string[] | null };
      expect(endpoint.Aliases ?? [], `${name} aliases`).toEqual(expect.arrayContaining([name, ...((r.networks?.default?.aliases as string[]) ?? [])]));
      for (const l of (r.links ?? []) as string[]) {
        const [svc, alias = svc] = l.split(':');
        expect(endpoint.Links ?? [], `${name} links`).toContain(`${stack}-${svc}-1:${alias}`);
      }
    }
    // The link alias resolves from web (and only the alias the link names, not a made-up one).
    const dbIp = await inspect(`${stack}-db-1`, `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`);
    const found = await docker(['exec', `${stack}-web-1`, 'nslookup', 'database', '127.0.0.11']);
    expect(found.stdout).toContain(dbIp);
    const store = await docker(['exec', `${stack}-web-1`, 'nslookup', 'store', '127.0.0.11']);
    expect(store.stdout).toContain(dbIp);
  });
});
