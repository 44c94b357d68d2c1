import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators } from '../../src/compose/schema.js';
import { previewStatus, renderPreviewComment } from '../../src/forge/preview-comment.js';
import { planPreview, type PreviewHost } from '../../src/forge/preview.js';
import { DEFAULT_SETTINGS, type ForgeSpec, type TargetSpec } from '../../src/model/desired.js';
import type { DockerPort } from '../../src/ports/docker.js';
import { systemClock } from '../../src/ports/clock.js';
import { fakeEngine } from '../support/fake-docker.js';
import { tmpRepo } from '../support/tmp-repo.js';
import { FsWorkingTreeHasher } from '../../src/adapters/working-tree-hasher.js';
import { FakeManager } from '../swarm/fake-manager.js';

/**
 * Previews with berth.yaml `hosts:`: each host's part is planned against the
 * engine berth drives for that host (grouped by host in the comment), and a
 * host the head adds or moves is never dialled.
 */
const forge: ForgeSpec = { type: 'github', url: 'https://api.github.com', repo: 'acme/infra', token: 'deployed-token-7d1e' };
const validators = createValidators();
const source = (dir: string) => ({ dir, revision: 'c'.repeat(40), origin: 'https://git.example.org/infra.git' });
const spec = (name: string, docker: string, stacks: string[]): TargetSpec => ({ name, docker, tls: null, mode: 'engine', stacks });
const compose = 'services:\n  web:\n    image: berth-test/web:v1\n';

function driven(...hosts: [TargetSpec, DockerPort][]): PreviewHost[] {
  return hosts.map(([s, docker]) => ({ spec: s, docker, state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-preview-host-'))) }));
}
const deps = (hosts: PreviewHost[] | null) => ({ validators, docker: fakeEngine().docker, state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-preview-state-'))), clock: systemClock, env: {}, hosts: () => hosts });

describe('plan previews with berth.yaml hosts:', () => {
  const berthYaml = (extra = '') => `hosts:\n  app-1:\n    docker: tcp://10.0.0.1:2375\n    stacks: [web]\n  db-1:\n    docker: tcp://10.0.0.2:2375\n    stacks: [data]\n${extra}`;

  it('plans each host against its own engine and groups the comment by host', async () => {
    const app = fakeEngine();
    const db = fakeEngine();
    let dbAsked = 0;
    const dbDocker: DockerPort = { ...db.docker, listContainers: (...a) => ((dbAsked += 1), db.docker.listContainers(...a)) };
    const dir = tmpRepo({ 'berth.yaml': berthYaml(), 'stacks/web/compose.yaml': compose, 'stacks/data/compose.yaml': compose });
    const hosts = driven([spec('app-1', 'tcp://10.0.0.1:2375', ['web']), app.docker], [spec('db-1', 'tcp://10.0.0.2:2375', ['data']), dbDocker]);
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge }, deps(hosts));
    expect(r.kind).toBe('hosts');
    if (r.kind !== 'hosts') return;
    expect(r.hosts.map((h) => [h.host, h.plan?.ops.map((op) => op.object)])).toEqual([
      ['app-1', ['web_default', 'web/web']],
      ['db-1', ['data_default', 'data/web']],
    ]);
    expect(dbAsked).toBeGreaterThan(0);
    const body = renderPreviewComment(r, { host: 'berth-1', deployed: null });
    expect(body).toContain('against hosts `app-1`, `db-1`');
    expect(body.indexOf('#### Host `app-1`')).toBeLessThan(body.indexOf('#### Host `db-1`'));
    expect(body.slice(body.indexOf('#### Host `db-1`'))).toContain('data/web');
    expect(body.slice(0, body.indexOf('#### Host `db-1`'))).not.toContain('data/web');
    expect(previewStatus(r, null)).toMatchObject({ state: 'success', description: 'valid: app-1 2 to create, 0 to recreate, 0 to update, 0 to remove; db-1 2 to create, 0 to recreate, 0 to update, 0 to remove' });
  });

  it('never dials a host the head adds or moves to another endpoint; says so, and the status fails', async () => {
    const app = fakeEngine();
    const dir = tmpRepo({
      'berth.yaml': `hosts:\n  app-1:\n    docker: tcp://attacker.invalid:2375\n    stacks: [web]\n  new-1:\n    docker: tcp://10.9.9.9:2375\n    stacks: [data]\n`,
      'stacks/web/compose.yaml': compose,
      'stacks/data/compose.yaml': compose,
    });
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge }, deps(driven([spec('app-1', 'tcp://10.0.0.1:2375', ['web']), app.docker])));
    expect(r.kind).toBe('hosts');
    if (r.kind !== 'hosts') return;
    expect(r.hosts.map((h) => [h.host, h.plan === undefined, h.error?.split(':')[0]])).toEqual([
      ['app-1', true, 'not previewed'],
      ['new-1', true, 'not previewed'],
    ]);
    expect(previewStatus(r, null)).toMatchObject({ state: 'failure' });
    expect(previewStatus(r, null).description).toMatch(/^not planned on app-1: not previewed: this change moves the host to another endpoint/);
  });

  it('a host that does not answer fails only its own part', async () => {
    const app = fakeEngine();
    const down: DockerPort = { ...app.docker, listContainers: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.2:2375')) };
    const dir = tmpRepo({ 'berth.yaml': berthYaml(), 'stacks/web/compose.yaml': compose, 'stacks/data/compose.yaml': compose });
    const hosts = driven([spec('app-1', 'tcp://10.0.0.1:2375', ['web']), app.docker], [spec('db-1', 'tcp://10.0.0.2:2375', ['data']), down]);
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge }, deps(hosts));
    if (r.kind !== 'hosts') throw new Error(r.kind);
    expect(r.hosts[0]!.plan?.ops.length).toBe(2);
    expect(r.hosts[1]!.error).toBe('could not plan against the host: connect ECONNREFUSED 10.0.0.2:2375');
    expect(previewStatus(r, null).description).toBe('not planned on db-1: could not plan against the host: connect ECONNREFUSED 10.0.0.2:2375');
  });

  it('a berth that drives one engine still refuses a head with hosts:', async () => {
    const dir = tmpRepo({ 'berth.yaml': berthYaml(), 'stacks/web/compose.yaml': compose, 'stacks/data/compose.yaml': compose });
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge }, deps(null));
    expect(r.kind).toBe('invalid');
    expect(r.diagnostics.map((d) => d.code)).toContain('hosts-unsupported');
  });
  it('a swarm host is planned from its manager, read-only, and shown as a swarm plan', async () => {
    const app = fakeEngine();
    const manager = new FakeManager();
    const dir = tmpRepo({
      'berth.yaml': 'hosts:\n  app-1:\n    docker: tcp://10.0.0.1:2375\n    stacks: [web]\n  cluster:\n    docker: tcp://10.0.0.3:2376\n    mode: swarm\n    stacks: [shop]\n',
      'stacks/web/compose.yaml': compose,
      'stacks/shop/compose.yaml': 'services:\n  api:\n    image: acme/api:2\n    deploy: {replicas: 3}\n',
    });
    const hosts: PreviewHost[] = [
      ...driven([spec('app-1', 'tcp://10.0.0.1:2375', ['web']), app.docker]),
      { spec: { ...spec('cluster', 'tcp://10.0.0.3:2376', ['shop']), mode: 'swarm' }, swarm: async () => manager, files: { git: null, hasher: new FsWorkingTreeHasher() } },
    ];
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge }, deps(hosts));
    expect(r.kind).toBe('hosts');
    if (r.kind !== 'hosts') return;
    expect(r.hosts.map((h) => [h.host, (h.plan ?? h.swarmPlan)?.ops.map((op) => op.object)])).toEqual([
      ['app-1', ['web_default', 'web/web']],
      ['cluster', ['shop_default', 'shop/api']],
    ]);
    expect(manager.calls).toEqual([]);
    const body = renderPreviewComment(r, { host: 'berth-1', deployed: null });
    const part = body.slice(body.indexOf('#### Host `cluster`'));
    expect(part).toContain('**Valid**: 2 to create, 0 to update, 0 to remove (swarm).');
    expect(part).toMatch(/Wave 4 · apps\n {2}\+ shop\/api +create: new service, 3 replicas/);
    expect(previewStatus(r, null)).toMatchObject({ state: 'success', description: 'valid: app-1 2 to create, 0 to recreate, 0 to update, 0 to remove; cluster 2 to create, 0 to update, 0 to remove' });
  });
});
