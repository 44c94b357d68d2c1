import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTraefikName } from '../../src/rollout/traefik-gate.js';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { FakeTraefik, type ServerState } from '../fakes/traefik.js';

/**
 * start-first behind Traefik, on the real engine, with a fake Traefik API:
 * the fake "sees" the new container the way Traefik's docker provider would
 * (its IP on the stack network becomes a server of `<service>-<stack>`), and
 * the test decides what Traefik reports about it during the bake.
 */
let engine = false;
const stacks: string[] = [];

beforeAll(async () => {
  engine = await requireEngine();
});

afterAll(async () => {
  if (engine) for (const s of stacks) await removePrefixed(`${s}-`), await removePrefixed(`${s}_`);
});

const compose = (image: string, stack: string) => `services:
  web:
    image: ${image}
    labels:
      traefik.enable: "true"
      traefik.http.routers.${stack}.rule: Host(\`${stack}.example.test\`)
      traefik.http.services.${stack}.loadbalancer.server.port: "80"
`;

interface Scenario {
  /** Status Traefik reports for the new server. */
  status: ServerState;
  /** Responses counted per poll while the new server is in Traefik: [code, n][] */
  traffic: [number, number][];
}

async function rollout(scenario: Scenario) {
  const stack = uniqueName('rt');
  stacks.push(stack);
  const traefik = await FakeTraefik.start();
  const berthYaml = `rollout:\n  bakeSeconds: 2\n  drainSeconds: 0\n  healthTimeoutSeconds: 20\ntraefik:\n  api: ${traefik.url}\n  circuitBreaker: "ResponseCodeRatio(500, 600, 0, 600) > 0.25"\n`;
  const repo = tmpRepo({ 'berth.yaml': berthYaml, [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v1', stack) });
  const env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) };
  const service = normalizeTraefikName(stack);
  try {
    // First deploy: nothing to replace, so no bake; Traefik then serves the old container.
    expect((await runCli(['apply', '--repo', repo], env)).code).toBe(0);
    traefik.addServer(service, `http://${await ip(`${stack}-web-1`)}:80`, 'UP');
    const before = (await docker(['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', `${stack}-web-1`])).stdout.trim();

    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose('berth-test/web:v2', stack));
    let stop = false;
    const seen = new Set<string>();
    // The docker provider: once the new container is healthy, its address becomes a server.
    const provider = (async () => {
      while (!stop) {
        const r = await docker(['inspect', '-f', '{{.State.Health.Status}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', `${stack}-web-1_berth_tmp`]);
        const [health, addr] = r.stdout.trim().split(' ');
        if (r.code === 0 && health === 'healthy' && addr && !seen.has(addr)) {
          seen.add(addr);
          traefik.addServer(service, `http://${addr}:80`, scenario.status);
        }
        if (seen.size > 0) for (const [code, n] of scenario.traffic) traefik.addRequests(service, n, code);
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    const result = await runCli(['apply', '--repo', repo, '--json'], env);
    stop = true;
    await provider;
    const after = (await docker(['inspect', '-f', '{{.Id}} {{.State.StartedAt}}', `${stack}-web-1`])).stdout.trim();
    const op = (JSON.parse(result.stdout) as { ops: { object: string; error?: string; rollout?: { result: string; gate?: string; notes?: string[] } }[] }).ops.find((o) => o.object === `${stack}/web`)!;
    return { code: result.code, op, before, after, containers: (await listPrefixed(`${stack}-`)).containers, stack, requests: traefik.requests.length };
  } finally {
    await traefik.close();
  }
}

async function ip(container: string): Promise<string> {
  return (await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container])).stdout.trim();
}

describe('start-first behind Traefik', () => {
  it('promotes the new container when Traefik reports it UP and the error ratio stays low', async (ctx) => {
    if (!engine) ctx.skip();
    const r = await rollout({ status: 'UP', traffic: [[200, 9], [500, 1]] });
    expect(r.code, JSON.stringify(r.op)).toBe(0);
    expect(r.op.rollout).toMatchObject({ result: 'succeeded' });
    expect(r.op.rollout!.notes!.join(' ')).toMatch(/baked 2s/);
    expect(r.after).not.toBe(r.before);
    expect(r.containers).toEqual([`${r.stack}-web-1`]);
    expect(r.requests).toBeGreaterThan(0);
  });

  it('rolls back when Traefik marks the new server DOWN: the old container is untouched', async (ctx) => {
    if (!engine) ctx.skip();
    const r = await rollout({ status: 'DOWN', traffic: [[200, 5]] });
    expect(r.code).toBe(1);
    expect(r.op.rollout).toMatchObject({ result: 'rolled_back', gate: 'traefik-server-down' });
    expect(r.after).toBe(r.before);
    expect(r.containers).toEqual([`${r.stack}-web-1`]);
  });

  it('rolls back when the 5xx ratio goes over the circuit-breaker threshold during the bake', async (ctx) => {
    if (!engine) ctx.skip();
    const r = await rollout({ status: 'UP', traffic: [[200, 6], [503, 4]] });
    expect(r.code).toBe(1);
    expect(r.op.rollout).toMatchObject({ result: 'rolled_back', gate: 'circuit-breaker' });
    expect(r.op.error).toMatch(/ResponseCodeRatio\(500, ?600, ?0, ?600\) = 0\.40/);
    expect(r.after).toBe(r.before);
    expect(r.containers).toEqual([`${r.stack}-web-1`]);
  });
});
