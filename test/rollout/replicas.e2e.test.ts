import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Replicas on the real engine (issue 12 item 1): a scaled service converges
 * under Compose's names and numbers, scales down highest-first and up again,
 * rolls over its replicas start-first without losing a request, and a failed
 * replica rolls back the ones replaced before it.
 */
const BERTH_YAML = 'rollout:\n  drainSeconds: 1\n  healthTimeoutSeconds: 20\n';
let engine = false;
const prefixes: string[] = [];

function setup(compose: string) {
  const stack = uniqueName('rep');
  prefixes.push(`${stack}-`, `${stack}_`);
  const repo = tmpRepo({ 'berth.yaml': BERTH_YAML, [`stacks/${stack}/compose.yaml`]: compose });
  const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
  return { stack, repo, env, write: (c: string) => writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), c) };
}

// The image's 2 s probe timeout is raised: on a shared engine under heavy load a probe can take longer.
const HEALTH = '    healthcheck:\n      timeout: 10s\n';
const web = (o: { replicas: number; image?: string; extra?: string }) =>
  `services:\n  web:\n    image: ${o.image ?? 'berth-test/web:v1'}\n    deploy:\n      replicas: ${o.replicas}\n      update_config:\n        order: start-first\n${o.extra ?? HEALTH}`;

/** name → [container-number label, image, state] of the stack's containers. */
async function replicas(stack: string): Promise<Record<string, [string, string, string]>> {
  const r = await docker(['ps', '-a', '--filter', `label=io.berth.stack=${stack}`, '--format', '{{.Names}}|{{.Label "com.docker.compose.container-number"}}|{{.Image}}|{{.State}}']);
  const out: Record<string, [string, string, string]> = {};
  for (const line of r.stdout.split('\n').filter(Boolean).sort()) {
    const [name, num, image, state] = line.split('|');
    out[name!] = [num!, image!, state!];
  }
  return out;
}

async function ids(stack: string): Promise<Record<string, string>> {
  const r = await docker(['ps', '-a', '--no-trunc', '--filter', `label=io.berth.stack=${stack}`, '--format', '{{.Names}} {{.ID}}']);
  return Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  if (!engine) return;
  for (const p of prefixes) await removePrefixed(p);
});

describe('replicas', () => {
  it('3 replicas converge with Compose names and numbers; scale 3 → 1 → 2', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(web({ replicas: 3 }));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const v1 = 'berth-test/web:v1';
    expect(await replicas(s.stack)).toEqual({
      [`${s.stack}-web-1`]: ['1', v1, 'running'],
      [`${s.stack}-web-2`]: ['2', v1, 'running'],
      [`${s.stack}-web-3`]: ['3', v1, 'running'],
    });
    expect((await runCli(['plan', '--repo', s.repo], s.env)).code).toBe(0);
    const status = await runCli(['status'], s.env);
    expect(status.output).toMatch(/web\s+3\/3 running/);

    s.write(web({ replicas: 1 }));
    const plan = await runCli(['plan', '--repo', s.repo], s.env);
    expect(plan.code).toBe(2);
    expect(plan.output.indexOf(`${s.stack}/web#3`)).toBeLessThan(plan.output.indexOf(`${s.stack}/web#2`));
    const down = await runCli(['apply', '--repo', s.repo], s.env);
    expect(down.code, down.output).toBe(0);
    const kept = (await ids(s.stack))[`${s.stack}-web-1`];
    expect(await replicas(s.stack)).toEqual({ [`${s.stack}-web-1`]: ['1', v1, 'running'] });

    s.write(web({ replicas: 2 }));
    expect((await runCli(['plan', '--repo', s.repo], s.env)).output).toMatch(new RegExp(`\\+ ${s.stack}/web#2 +create: +scale 1 → 2`));
    const up = await runCli(['apply', '--repo', s.repo], s.env);
    expect(up.code, up.output).toBe(0);
    expect(await replicas(s.stack)).toEqual({ [`${s.stack}-web-1`]: ['1', v1, 'running'], [`${s.stack}-web-2`]: ['2', v1, 'running'] });
    expect((await ids(s.stack))[`${s.stack}-web-1`]).toBe(kept);
    expect((await runCli(['plan', '--repo', s.repo], s.env)).code).toBe(0);

    // Drift counts replicas.
    await docker(['stop', '-t', '0', `${s.stack}-web-2`]);
    const drift = await runCli(['drift', '--repo', s.repo], s.env);
    expect(drift.code).toBe(2);
    expect(drift.output).toMatch(/web 1\/2 running/);
  });

  it('start-first rolling update over 3 replicas loses no request through the service name', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(web({ replicas: 3 }));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const poller = `${s.stack}-poller`;
    // As in rollout.e2e.test.ts: a client on the stack's network asks `web` every 50 ms and retries
    // an idempotent GET once on a connection error (Docker's DNS answers with a drained address for ~0.2 s).
    const get = 'timeout 3 wget -q -O /tmp/r http://web/ 2>/dev/null';
    const loop = `while true; do if ${get} || { echo RETRY; ${get}; }; then read r < /tmp/r; echo "ok $r"; else echo FAIL; fi; sleep 0.05; done`;
    expect((await docker(['run', '-d', '--name', poller, '--network', `${s.stack}_default`, 'berth-test/busybox:1', 'sh', '-c', loop])).code).toBe(0);
    await waitFor(async () => (await docker(['logs', poller])).stdout.includes('ok web v1'));

    s.write(web({ replicas: 3, image: 'berth-test/web:v2' }));
    const r = await runCli(['apply', '--repo', s.repo], s.env);
    expect(r.code, r.output).toBe(0);
    for (const k of [1, 2, 3]) expect(r.output).toContain(`started ${s.stack}-web-${k}_berth_tmp beside`);
    await waitFor(async () => (await docker(['logs', poller])).stdout.split('\n').slice(-5).some((l) => l.startsWith('ok web v2')));
    const lines = (await docker(['logs', poller])).stdout.split('\n').filter(Boolean);
    await docker(['rm', '-f', poller]);
    const around = lines.flatMap((l, i) => (l === 'FAIL' ? [lines.slice(Math.max(0, i - 3), i + 4).join(' | ')] : []));
    expect(around, `requests failed during the rolling update (of ${lines.length})`).toEqual([]);
    const retried = lines.filter((l) => l === 'RETRY').length;
    console.log(`rolling update of 3 replicas: ${lines.filter((l) => l.startsWith('ok')).length} requests, ${retried} retried, 0 failed`);
    // At most one retried request per replica switch (each retry is one request's second try).
    expect(retried).toBeLessThanOrEqual(6);
    const v2 = 'berth-test/web:v2';
    expect(await replicas(s.stack)).toEqual({
      [`${s.stack}-web-1`]: ['1', v2, 'running'],
      [`${s.stack}-web-2`]: ['2', v2, 'running'],
      [`${s.stack}-web-3`]: ['3', v2, 'running'],
    });
    expect((await runCli(['plan', '--repo', s.repo], s.env)).code).toBe(0);
  });

  it('a bad revision that fails on replica 2 rolls replica 1 back: all three stay on the old image', async (ctx) => {
    if (!engine) ctx.skip();
    const s = setup(web({ replicas: 3 }));
    const first = await runCli(['apply', '--repo', s.repo], s.env);
    expect(first.code, first.output).toBe(0);
    const before = await ids(s.stack);
    // web:bad answers /health with 404, so its own healthcheck never passes. This revision's check
    // lets exactly one container pass (the first to claim a shared volume): replica 1 is replaced,
    // replica 2 becomes unhealthy, and replica 1 must go back.
    const claim = `    healthcheck:\n      test: ["CMD-SHELL", "mkdir /claim/one 2>/dev/null && hostname > /claim/one/owner; grep -qx \\"$$(hostname)\\" /claim/one/owner"]\n      interval: 1s\n      timeout: 10s\n      retries: 2\n    volumes: [claim:/claim]\nvolumes:\n  claim: {}\n`;
    s.write(web({ replicas: 3, image: 'berth-test/web:bad', extra: claim }));
    const r = await runCli(['apply', '--repo', s.repo, '--json'], s.env);
    expect(r.code, r.output).toBe(1);
    const out = JSON.parse(r.stdout) as { ops: { object: string; status: string; error?: string; rollout?: { result: string; gate: string } }[] };
    const op = out.ops.find((o) => o.object === `${s.stack}/web`)!;
    expect(op.status).toBe('failed');
    expect(op.rollout).toMatchObject({ result: 'rolled_back', gate: 'unhealthy' });
    expect(op.error).toMatch(/replica #2 .*rolled back #1/);
    const v1 = 'berth-test/web:v1';
    expect(await replicas(s.stack)).toEqual({
      [`${s.stack}-web-1`]: ['1', v1, 'running'],
      [`${s.stack}-web-2`]: ['2', v1, 'running'],
      [`${s.stack}-web-3`]: ['3', v1, 'running'],
    });
    // The same containers as before: replica 1's old container came back, 2 and 3 were never stopped.
    expect(await ids(s.stack)).toEqual(before);
    expect((await listPrefixed(`${s.stack}-`)).containers).toEqual([1, 2, 3].map((k) => `${s.stack}-web-${k}`));
  });
});
