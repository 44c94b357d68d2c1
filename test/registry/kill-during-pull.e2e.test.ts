import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { runCli } from '../support/cli.js';
import { docker, requireEngine, uniqueName } from '../support/engine.js';
import { basicAuth, dockerConfigDir, registryOnlyImage, requireRegistry, type RegistryInfo } from '../support/registry.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * kill -9 of `berth apply` while it pulls: the prepare phase runs before
 * anything on the host changes, so there is no half state; the rerun pulls
 * (or finds) the image and converges.
 */
const CLI = resolve(import.meta.dirname, '../../dist/bundle/main.js');
let reg: RegistryInfo | null = null;
const stack = uniqueName('kp');
let image = '';

beforeAll(async () => {
  if (!(await requireEngine())) return;
  reg = requireRegistry();
  if (reg) image = await registryOnlyImage(reg, stack);
});

afterAll(async () => {
  if (!reg) return;
  await removePrefixed(`${stack}-`);
  await docker(['rmi', image]);
});

describe('kill -9 during a pull', () => {
  it('leaves nothing half made; the rerun converges', async (ctx) => {
    if (!reg) ctx.skip();
    const repo = tmpRepo({ [`stacks/${stack}/compose.yaml`]: `services:\n  api:\n    image: ${image}\n    container_name: ${stack}-api\n    x-berth: {minReadySeconds: 0}\n` });
    const env = {
      ...process.env,
      BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-state-')),
      DOCKER_CONFIG: dockerConfigDir({ auths: { [reg!.host]: { auth: basicAuth(reg!.username, reg!.password) } } }),
    };
    const child = spawn(process.execPath, [CLI, 'apply', '--repo', repo], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const killed = new Promise<void>((done) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes(`↓ ${image}  pulling`)) child.kill('SIGKILL');
      });
      child.stderr.on('data', (b: Buffer) => void (out += b.toString()));
      child.on('exit', () => done());
    });
    await killed;
    recordCapture('kill-during-pull child output', out);
    expect(child.signalCode, out).toBe('SIGKILL');
    const half = await docker(['ps', '-a', '--filter', `name=${stack}-`, '--format', '{{.Names}}']);
    expect(half.stdout.trim()).toBe('');

    const rerun = await runCli(['apply', '--repo', repo], env);
    expect(rerun.code, rerun.output).toBe(0);
    const again = await runCli(['plan', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);
  });
});
