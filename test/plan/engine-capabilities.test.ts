import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { reconcile } from '../../src/loop/reconcile.js';
import { compareApi, engineCapabilityErrors, engineRequirements } from '../../src/plan/engine-capabilities.js';
import { systemClock } from '../../src/ports/clock.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const COMPOSE = `services:
  with_image:
    image: berth-test/busybox:1
    volumes:
      - type: image
        source: nginx:alpine
        target: /mnt/image
        image:
          subpath: usr/share/nginx/html/
  test:
    image: berth-test/busybox:1
    networks:
      default:
        interface_name: foobar
  plain:
    image: berth-test/busybox:1
`;

/** An empty engine of the given version; any call but the four lists and the version fails the test (nothing may change). */
function engineOf(version: string, apiVersion: string, calls: string[]): DockerPort {
  return new Proxy({} as DockerPort, {
    get: (_t, prop) => {
      const name = String(prop);
      if (name === 'then') return undefined;
      return async () => {
        calls.push(name);
        if (name === 'engineVersion') return { version, apiVersion };
        if (name.startsWith('list')) return [];
        throw new Error(`Docker was asked to ${name}`);
      };
    },
  });
}

describe('engine capabilities are a plan-time question', () => {
  it('validation accepts image mounts and interface_name: they are valid Compose', () => {
    const r = loadDesiredState(tmpRepo({ 'stacks/s/compose.yaml': COMPOSE }), { env: {}, validators });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const svc = (n: string) => r.state!.stacks[0]!.services.find((s) => s.name === n)!;
    expect(svc('with_image').mounts).toEqual([{ type: 'image', source: 'nginx:alpine', target: '/mnt/image', readOnly: true, subpath: 'usr/share/nginx/html/' }]);
    expect(svc('test').networks[0]!.interfaceName).toBe('foobar');
    expect(engineRequirements(r.state!).map((q) => [q.service, q.path.join('.'), q.apiVersion])).toEqual([
      ['test', 'services.test.networks.default.interface_name', '1.49'],
      ['with_image', 'services.with_image.volumes', '1.48'],
    ]);
  });

  it('an engine too old for a key fails the plan naming the key, its version and the one needed; a new enough one does not', () => {
    const state = loadDesiredState(tmpRepo({ 'stacks/s/compose.yaml': COMPOSE }), { env: {}, validators }).state!;
    const needs = engineRequirements(state);
    expect(engineCapabilityErrors(needs, { version: '20.10.24', apiVersion: '1.41' }).map((e) => e.message)).toEqual([
      '`interface_name` needs Docker Engine 28.1 (API 1.49) or newer; this engine is 20.10.24 (API 1.41)',
      'mount `type: image` (nginx:alpine at /mnt/image) needs Docker Engine 28.0 (API 1.48) or newer; this engine is 20.10.24 (API 1.41)',
    ]);
    expect(engineCapabilityErrors(needs, { version: '28.0.4', apiVersion: '1.48' }).map((e) => e.object)).toEqual(['test']);
    expect(engineCapabilityErrors(needs, { version: '28.1.1', apiVersion: '1.49' })).toEqual([]);
    expect(compareApi('1.9', '1.41')).toBeLessThan(0);
    expect(compareApi('1.41', '1.41')).toBe(0);
  });

  it('apply against a fake 20.10 engine is a plan error located in the file, with no change asked of the engine', async () => {
    const repo = tmpRepo({ 'stacks/s/compose.yaml': COMPOSE });
    const state = new StateDir(mkdtempSync(join(tmpdir(), 'berth-state-')));
    const calls: string[] = [];
    const r = await reconcile({ dir: repo, revision: 'abc', origin: repo }, { docker: engineOf('20.10.24', '1.41', calls), state, clock: systemClock, env: {} }, 'apply');
    expect(r.outcome).toBe('plan-error');
    expect(r.plan!.errors.map((e) => [e.code, e.object, e.path?.join('.')])).toEqual([
      ['engine-too-old', 'test', 'services.test.networks.default.interface_name'],
      ['engine-too-old', 'with_image', 'services.with_image.volumes'],
    ]);
    expect(calls.filter((c) => !c.startsWith('list')).sort()).toEqual(['engineVersion']);

    // A new enough engine passes the check (and the plan goes on to create).
    const fine: string[] = [];
    const ok = await reconcile({ dir: repo, revision: 'abc', origin: repo }, { docker: engineOf('28.1.1', '1.49', fine), state, clock: systemClock, env: {} }, 'plan');
    expect(ok.plan!.errors).toEqual([]);
    expect(ok.outcome).toBe('changes-pending');
  });

  it('a state without such keys never asks the engine its version (a no-op pass stays at its list calls)', async () => {
    const repo = tmpRepo({ 'stacks/s/compose.yaml': 'services:\n  plain:\n    image: berth-test/busybox:1\n' });
    const state = new StateDir(mkdtempSync(join(tmpdir(), 'berth-state-')));
    const calls: string[] = [];
    await reconcile({ dir: repo, revision: 'abc', origin: repo }, { docker: engineOf('20.10.24', '1.41', calls), state, clock: systemClock, env: {} }, 'plan');
    expect(calls).not.toContain('engineVersion');
  });
});
