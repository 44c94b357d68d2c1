import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { requireEngine, uniqueName } from '../support/engine.js';
import { stallingRegistry, type StallingRegistry } from '../fakes/stalling-registry.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * A registry that accepts the connection and then never answers: the real
 * engine waits on it forever, so berth bounds each pull (berth.yaml
 * `images.pullStallSeconds` / `images.pullTimeoutSeconds`). The apply fails
 * with an error naming the service and the image and saying it timed out,
 * and nothing on the host changed — not even the stack's network or the
 * other service, whose image is local. (Engine 20.10 keeps its own request
 * to the registry open after berth hangs up; berth no longer waits on it.)
 */
const stack = uniqueName('stall');
let engine = false;
let reg: StallingRegistry | null = null;

beforeAll(async () => {
  engine = await requireEngine();
  if (engine) reg = await stallingRegistry();
});

afterAll(async () => {
  await reg?.close();
  if (engine) await removePrefixed(stack);
});

const repo = (images: string) =>
  tmpRepo({
    'berth.yaml': `images:\n${images}`,
    [`stacks/${stack}/compose.yaml`]: `services:\n  local:\n    image: berth-test/worker:1\n  remote:\n    image: ${reg!.host}/stall/app:v1\n`,
  });

describe('a registry that stops answering', () => {
  it('no progress for pullStallSeconds: the apply fails, names the image and the timeout, cancels the pull and changes nothing', async (ctx) => {
    if (!reg) ctx.skip();
    const image = `${reg!.host}/stall/app:v1`;
    const r = await runCli(['apply', '--repo', repo('  pullStallSeconds: 2\n')], { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain(`${stack}/remote`);
    expect(r.output).toContain(`image ${image} could not be pulled from ${reg!.host}: timed out: no progress for 2s (images.pullStallSeconds)`);
    expect(await listPrefixed(stack)).toEqual({ containers: [], networks: [], volumes: [] });
    // The engine got as far as the manifest request, where it would have waited for good.
    expect(reg!.stalled).toContain('HEAD /v2/stall/app/manifests/v1');
  });

  it('a pull longer than pullTimeoutSeconds fails the same way', async (ctx) => {
    if (!reg) ctx.skip();
    const r = await runCli(['apply', '--repo', repo('  pullStallSeconds: 0\n  pullTimeoutSeconds: 2\n')], { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')) });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain(`image ${reg!.host}/stall/app:v1 could not be pulled from ${reg!.host}: timed out after 2s (images.pullTimeoutSeconds)`);
    expect(await listPrefixed(stack)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
