import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBerth } from '../faults/harness.js';
import { fullListing } from '../support/berth-objects.js';
import { freePort } from '../support/free-port.js';
import { recordingServer } from '../support/recording-server.js';
import { until } from '../support/until.js';
import { runCli } from '../support/cli.js';
import { uniqueName } from '../support/engine.js';
import { PrivateDockerd, requirePrivateEngines, TestBed } from '../support/private-dockerd.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * One repository, two Docker hosts (berth.yaml `hosts:`): two private engines
 * of a test bed (scripts/test-hosts.sh), each in namespaces of its own and
 * reached over plain TCP, stand in for two machines. Each gets
 * exactly its stacks; a change touches only its host; a host that is down
 * fails only its own part, named, while the other converges.
 */
const IMAGES = ['berth-test/worker:1'];
const CHROMIUM = '/usr/bin/chromium';
const p = `${uniqueName('hosts')}-`;
let engine = false;
let a: PrivateDockerd | null = null;
let b: PrivateDockerd | null = null;
let bed: TestBed | null = null;
let repo = '';
let env: Record<string, string> = {};

const compose = (cmd: string) => `services:\n  app:\n    image: berth-test/worker:1\n    command: ["sh", "-c", "${cmd}; exec sleep 3600"]\n    stop_grace_period: 1s\n    x-berth: {minReadySeconds: 0}\n`;

async function names(d: PrivateDockerd): Promise<string[]> {
  return (await d.docker(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout.split('\n').filter(Boolean).sort();
}
async function ids(d: PrivateDockerd): Promise<string> {
  return (await d.docker(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean).sort().join(',');
}

beforeAll(async () => {
  engine = await requirePrivateEngines();
  if (!engine) return;
  bed = await TestBed.start(2, { images: IMAGES });
  [a, b] = bed.engines as [PrivateDockerd, PrivateDockerd];
  repo = tmpRepo({
    'berth.yaml': `hosts:\n  app-1:\n    docker: ${a.tcpHost}\n    stacks: ["${p}web*"]\n  db-1:\n    docker: ${b.tcpHost}\n    stacks: [${p}data]\n`,
    [`stacks/${p}web/compose.yaml`]: compose('echo web'),
    [`stacks/${p}webadmin/compose.yaml`]: compose('echo admin'),
    [`stacks/${p}data/compose.yaml`]: compose('echo data'),
  });
  env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-hosts-state-')) };
});

afterAll(async () => {
  await bed?.destroy();
});

describe('several Docker hosts from one repository', () => {
  it('each host gets exactly its stacks, plan groups by host, status lists both', async (ctx) => {
    if (!engine) ctx.skip();
    const apply = await runCli(['apply', '--repo', repo], env);
    expect(apply.code, apply.output).toBe(0);
    expect(apply.stdout).toContain('app-1 │ Apply complete');
    expect(apply.stdout).toContain('db-1 │ Apply complete');
    expect(await names(a!)).toEqual([`${p}web-app-1 running`, `${p}webadmin-app-1 running`]);
    expect(await names(b!)).toEqual([`${p}data-app-1 running`]);

    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(0);
    expect(plan.stdout).toMatch(/Host app-1 · tcp:\/\/[^\n]+\n[\s\S]*Host db-1 · /);

    const json = JSON.parse((await runCli(['plan', '--repo', repo, '--json'], env)).stdout) as { hosts: { host: string; exitCode: number; ops: unknown[] }[] };
    expect(json.hosts.map((h) => [h.host, h.exitCode, h.ops.length])).toEqual([
      ['app-1', 0, 0],
      ['db-1', 0, 0],
    ]);

    const status = await runCli(['status', '--host', 'db-1'], env);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain(`${p}data`);
    expect(status.stdout).not.toContain(`${p}web`);
  });

  it('a change to one host\'s stack touches only that host', async (ctx) => {
    if (!engine) ctx.skip();
    const before = await ids(a!);
    writeFileSync(join(repo, 'stacks', `${p}data`, 'compose.yaml'), compose('echo data v2'));
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    const dbPart = plan.stdout.slice(plan.stdout.indexOf('Host db-1'));
    expect(dbPart).toContain(`${p}data/app`);
    expect(plan.stdout.slice(0, plan.stdout.indexOf('Host db-1'))).not.toContain('recreate');
    const apply = await runCli(['apply', '--repo', repo, '--host', 'db-1'], env);
    expect(apply.code, apply.output).toBe(0);
    expect(await ids(a!)).toBe(before);
    expect((await runCli(['plan', '--repo', repo], env)).code).toBe(0);

    // Each host keeps its own history: grouped by host, narrowed by --host.
    const hist = JSON.parse((await runCli(['history', '--json'], env)).stdout) as { hosts: { host: string; output: unknown[] }[] };
    expect(hist.hosts.map((h) => [h.host, h.output.length])).toEqual([
      ['app-1', 1],
      ['db-1', 2],
    ]);
    const narrowed = await runCli(['history', '--host', 'db-1'], env);
    expect(narrowed.code, narrowed.output).toBe(0);
    expect(narrowed.stdout).toContain('Host db-1 · ');
    expect(narrowed.stdout).not.toContain('Host app-1');
  });

  it('a host whose dockerd was SIGKILLed fails its own part, named; the other host still converges; back up, it converges too', async (ctx) => {
    if (!engine) ctx.skip();
    await b!.kill();
    writeFileSync(join(repo, 'stacks', `${p}web`, 'compose.yaml'), compose('echo web v2'));
    writeFileSync(join(repo, 'stacks', `${p}data`, 'compose.yaml'), compose('echo data v3'));
    const apply = await runCli(['apply', '--repo', repo], env);
    expect(apply.code, apply.output).toBe(1);
    expect(apply.stderr).toMatch(/host db-1 \(tcp:\/\/[^)]+\) failed: /);
    expect(apply.stderr).toContain('1 of 2 hosts failed: db-1');
    expect(apply.stdout).toContain('app-1 │ Apply complete');
    const web = await a!.docker(['inspect', '-f', '{{json .Config.Cmd}}', `${p}web-app-1`]);
    expect(web.stdout).toContain('echo web v2');

    await b!.up();
    const again = await runCli(['apply', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);
    const data = await b!.docker(['inspect', '-f', '{{json .Config.Cmd}}', `${p}data-app-1`]);
    expect(data.stdout).toContain('echo data v3');
    expect((await runCli(['drift'], env)).code).toBe(0);
  });

  it('berth run: one loop per host; a host that is down fails alone and is told once, the other converges; back up, it converges', async (ctx) => {
    if (!engine) ctx.skip();
    const chat = await recordingServer();
    writeFileSync(join(repo, 'berth.yaml'), `${readFileSync(join(repo, 'berth.yaml'), 'utf8')}notify:\n  - type: webhook\n    url: ${chat.url}/hook\n`);
    const port = await freePort();
    const run = spawnBerth(['run', '--repo', repo, '--interval', '1h', '--listen', `127.0.0.1:${port}`, '--name', 'berth-1'], env);
    let out = '';
    run.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    run.child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const logs = () => out;
    const get = async (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    type Host = { host: string; up: boolean | null; sync: string; stacks: string[]; lastApplied: { revision: string | null } | null };
    type Status = { ready: boolean; sync: string; hosts: Host[]; stacks: { name: string; host: string; services: { state: string }[] }[] };
    const status = async () => (await (await get('/api/status')).json()) as Status;
    const host = (s: Status, name: string) => s.hosts.find((h) => h.host === name);
    const chatKinds = () => chat.received.map((r) => JSON.parse(r.body) as { kind: string; host: string; title: string }).map((m) => `${m.kind} ${m.host}`);
    try {
      const first = await until('both hosts in sync', async () => {
        const s = await status();
        return s.ready && s.hosts.length === 2 && s.hosts.every((h) => h.up === true && h.sync === 'in sync') ? s : null;
      }, 60_000, logs);
      expect(first.hosts.map((h) => [h.host, h.stacks])).toEqual([
        ['app-1', [`${p}web`, `${p}webadmin`]],
        ['db-1', [`${p}data`]],
      ]);
      expect(first.stacks.map((st) => [st.name, st.host])).toEqual([
        [`${p}web`, 'app-1'],
        [`${p}webadmin`, 'app-1'],
        [`${p}data`, 'db-1'],
      ]);
      const metrics = await (await get('/metrics')).text();
      expect(metrics).toContain('berth_host_up{host="app-1"} 1');
      expect(metrics).toContain('berth_host_up{host="db-1"} 1');

      await b!.down();
      writeFileSync(join(repo, 'stacks', `${p}web`, 'compose.yaml'), compose('echo web v3'));
      await until('app-1 ran the change while db-1 is down', async () => {
        const s = await status();
        const cmd = await a!.docker(['inspect', '-f', '{{json .Config.Cmd}}', `${p}web-app-1`]);
        return host(s, 'db-1')?.up === false && host(s, 'db-1')?.sync === 'failed' && cmd.stdout.includes('echo web v3') && host(s, 'app-1')?.sync === 'in sync';
      }, 60_000, logs);
      expect(await (await get('/metrics')).text()).toContain('berth_host_up{host="db-1"} 0');
      await until('the outage in chat', () => chatKinds().includes('host-down db-1'), 30_000, logs);
      // The dashboard groups by host (Debian's chromium, as test/ui does; CI installs it).
      if (existsSync(CHROMIUM) || process.env.CI) {
        const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
        try {
          const page = await browser.newPage();
          await page.goto(`http://127.0.0.1:${port}/`);
          await page.locator('[data-host="db-1"] .badge.failed', { hasText: 'unreachable' }).waitFor();
          await page.locator('#hosts [data-host="app-1"] .badge.ok', { hasText: 'up' }).waitFor();
          expect(await page.locator(`[data-stack="${p}data"]`).getAttribute('data-host')).toBe('db-1');
          expect(await page.locator(`[data-stack="${p}data"] h2`).textContent()).toBe(`db-1 · ${p}data`);
        } finally {
          await browser.close();
        }
      }

      await b!.up();
      // dockerd stopped the containers on its way down; the host's own event stream brings berth back to them.
      await until('db-1 back and converged', async () => {
        const s = await status();
        return host(s, 'db-1')?.up === true && host(s, 'db-1')?.sync === 'in sync' && (await names(b!)).join() === `${p}data-app-1 running`;
      }, 90_000, logs);
      await until('the return in chat', () => chatKinds().includes('host-up db-1'), 30_000, logs);
      expect(chatKinds().filter((k) => k.startsWith('host-'))).toEqual(['host-down db-1', 'host-up db-1']);
      expect(chat.received.map((r) => (JSON.parse(r.body) as { title: string }).title).join('\n')).toMatch(/^Host db-1 is unreachable/m);
      expect(await (await get('/metrics')).text()).toContain('berth_host_up{host="db-1"} 1');
      expect(await names(a!)).toEqual([`${p}web-app-1 running`, `${p}webadmin-app-1 running`]);
    } finally {
      run.child.kill('SIGTERM');
      const done = await run.done;
      await chat.close();
      expect(done.code, done.output.slice(-3000)).toBe(0);
    }
  });

  it('a network of a stack on another host is a validation error, and the shared engine was never touched', async (ctx) => {
    if (!engine) ctx.skip();
    const bad = tmpRepo({
      'berth.yaml': readFileSync(join(repo, 'berth.yaml'), 'utf8'),
      [`stacks/${p}web/compose.yaml`]: `${compose('echo web')}    networks: [edge]\nnetworks:\n  edge:\n    external: true\n    name: ${p}edge\n`,
      [`stacks/${p}webadmin/compose.yaml`]: compose('echo admin'),
      [`stacks/${p}data/compose.yaml`]: `${compose('echo data')}networks:\n  edge:\n    name: ${p}edge\n`,
    });
    const r = await runCli(['validate', '--repo', bad], env);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(new RegExp(`stacks/${p}web/compose\\.yaml:\\d+:\\d+: error: .*defined by stack "${p}data" on host "db-1".*\\[external-on-other-host\\]`));
    // Whatever berth would wrongly do on the shared engine with this repo carries this run's prefix
    // (every stack, network and container name starts with it); other runs' objects come and go meanwhile.
    expect((await fullListing(p)).split('\n').filter((l) => l.startsWith(p))).toEqual([]);
  });
});
