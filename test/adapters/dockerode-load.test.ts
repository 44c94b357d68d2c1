import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * dockerode loads without docker-modem's SSH transport (ssh2) and dockerode's BuildKit session
 * (@grpc/grpc-js): ~13 MB of an idle `berth run`. An ssh:// engine still gets the real transport,
 * loaded when docker-modem first asks for it. In a fresh process (fixtures/dockerode-load-probe.ts):
 * the require cache is per process, and the unit test files share one.
 */
describe('loadDockerode', () => {
  it('leaves ssh2 and the BuildKit session unloaded until an ssh transport is asked for', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite-node', 'vite-node.mjs'), join(ROOT, 'test', 'adapters', 'fixtures', 'dockerode-load-probe.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const probe = JSON.parse(out.trim().split('\n').pop()!) as { afterLoad: Record<string, boolean>; afterSsh: Record<string, boolean> };
    expect(probe.afterLoad).toEqual({ ssh2: false, grpc: false, client: true });
    expect(probe.afterSsh).toEqual({ ssh2: true, grpc: false, agent: true });
  });
});
