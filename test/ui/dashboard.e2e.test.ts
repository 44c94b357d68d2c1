import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { freePort } from '../support/free-port.js';
import { stopChild, until } from '../support/until.js';
import { isolatedCopy } from '../support/isolated-repo.js';

/**
 * The dashboard in a real browser: Debian's chromium (scripts/ensure-chromium.sh)
 * driven by playwright-core, against `berth run` (the built CLI) on a prefixed
 * copy of the example repo. berth listens beyond loopback with BERTH_UI_TOKEN,
 * so the browser logs in with basic auth, as a person would. The test also
 * keeps the README's screenshot (docs/dashboard.png) current.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'ui-token-for-dashboard-e2e-41c7';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let engine = false;
const prefix = `${uniqueName('ui')}-`;
let repo = '';
let port = 0;
let child: ChildProcess | null = null;
let logs = '';
let browser: Browser | null = null;
const origin = () => `http://127.0.0.1:${port}`;

const waitFor = <T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs = 90_000) => until(what, fn, timeoutMs, () => logs);

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/ensure-chromium.sh (.ci/run does)`);
  repo = isolatedCopy(join(ROOT, 'desired-state'), prefix);
  // Report drift and leave it (else berth undoes the stop before the page could show it).
  const berthYaml = join(repo, 'berth.yaml');
  writeFileSync(berthYaml, readFileSync(berthYaml, 'utf8').replace(/selfHeal: true/, 'selfHeal: false'));
  // A git checkout, so the page has a revision and a commit subject to show.
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.invalid', ...args], { cwd: repo });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'example: traefik-style infra, postgres + redis, web, api + worker');
  port = await freePort();
  const stateDir = join(mkdtempSync(join(tmpdir(), 'berth-ui-')), 'state');
  child = spawn(process.execPath, [CLI, 'run', '--repo', repo, '--interval', '1h', '--listen', `0.0.0.0:${port}`, '--name', 'demo-host'], {
    env: { ...process.env, BERTH_STATE_DIR: stateDir, BERTH_UI_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  await waitFor('berth to converge the example repo', async () => (await fetch(`${origin()}/readyz`)).status === 200, 150_000);
  // launch() gives chromium a fresh --user-data-dir of its own (a temp profile, removed on close):
  // no state from an earlier run or from a person's browser.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await stopChild(child);
  recordCapture('berth run (dashboard e2e) stdout+stderr', logs);
  if (engine) await removePrefixed(prefix);
});

describe('dashboard in a browser', () => {
  it('shows every stack live; a stopped service shows up as drift without a reload; nothing leaves the origin', async (ctx) => {
    if (!engine) ctx.skip();
    const context = await browser!.newContext({ httpCredentials: { username: 'berth', password: TOKEN }, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    let navigations = 0;
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });

    await page.goto(`${origin()}/`);
    const stacks = readdirSync(join(repo, 'stacks')).sort();
    expect(stacks.length).toBeGreaterThan(1);
    for (const s of stacks) await page.locator(`[data-stack="${s}"]`).waitFor();
    await page.locator('#live', { hasText: 'live' }).waitFor();
    // Every service of the example repo has a row with its state and image.
    const status = (await (await fetch(`${origin()}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      stacks: { name: string; services: { name: string; image: string }[] }[];
    };
    for (const st of status.stacks) {
      for (const svc of st.services) {
        const row = page.locator(`[data-service="${st.name}/${svc.name}"]`);
        await expect(row.textContent()).resolves.toContain(svc.image);
      }
    }
    await page.locator('#drift h2', { hasText: 'Drift (0)' }).waitFor();
    // Settled: no pass running (the containers' own start events trigger a few).
    await page.locator('body[data-sync="in-sync"]').waitFor({ timeout: 60_000 });
    await expect(page.locator('#summary').textContent()).resolves.toContain('example: traefik-style infra');

    // The README's screenshot: the converged example repo.
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png'), fullPage: true });

    // docker stop of a service: the open page shows its drift, no reload.
    const web = `${prefix}web-web-1`;
    const t0 = Date.now();
    expect((await docker(['stop', '--time', '1', web])).code).toBe(0);
    const stopped = Date.now();
    const drift = page.locator(`[data-drift="${prefix}web/container/${web}/stopped"]`);
    await drift.waitFor({ timeout: 60_000 });
    // Figures for the closing note, not assertions: how soon an open page shows a change, and what a page load costs.
    const weight = await Promise.all(['/', '/ui/app.js', '/ui/app.css', '/ui/favicon.svg'].map(async (p) => (await (await fetch(`${origin()}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } })).arrayBuffer()).byteLength));
    console.log(
      `[dashboard] docker stop took ${stopped - t0} ms; drift on the open page ${Date.now() - stopped} ms after the stop returned; page weight ${weight.reduce((a, b) => a + b, 0)} bytes uncompressed (${weight.join(' + ')}: html, js, css, icon)`,
    );
    await expect(page.locator(`[data-service="${prefix}web/web"]`).textContent()).resolves.toMatch(/exited/);
    expect(navigations).toBe(1);

    // A phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    // A string: the test's own types have no DOM (it runs in the browser, not here).
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);

    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(`${origin()}/`))).toEqual([]);
    await context.close();
  });

  it('beyond loopback the page needs the token', async (ctx) => {
    if (!engine) ctx.skip();
    // Without credentials (or with wrong ones) berth answers 401 + a Basic challenge; headless
    // chromium has nobody to ask for a password and gives up on the page.
    for (const httpCredentials of [undefined, { username: 'berth', password: 'wrong' }]) {
      const context = await browser!.newContext(httpCredentials ? { httpCredentials } : {});
      const page = await context.newPage();
      let shown = '';
      const answered = new Promise<number>((resolve) => page.on('response', (r) => (r.url() === `${origin()}/` ? resolve(r.status()) : undefined)));
      await page.goto(`${origin()}/`).then(
        async () => (shown = await page.content()),
        (e: Error) => expect(e.message).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/),
      );
      expect(await answered).toBe(401);
      expect(shown).not.toContain('data-stack');
      await context.close();
    }
    expect((await fetch(`${origin()}/api/status`)).status).toBe(401);
    expect((await fetch(`${origin()}/api/events`)).status).toBe(401);
    expect((await fetch(`${origin()}/healthz`)).status).toBe(200);
    expect((await fetch(`${origin()}/metrics`)).status).toBe(200);
  });
});
