import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { docker, uniqueName } from '../support/engine.js';
import { requirePrivateEngines } from '../support/private-dockerd.js';
import { PrivateSwarm } from '../support/private-swarm.js';
import { BINARY_PLAINTEXT, vectorBytes, vectorPath } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * A `mode: swarm` host: a 3-node swarm (1 manager, 2 workers) of private
 * engines. A stack becomes swarm objects as `docker stack deploy` names them;
 * waves are kept and gated on tasks; a bad update is rolled back; a hand edit
 * is drift that the next apply undoes. The shared engine is never touched.
 * (No IPVS in this kernel: services use endpoint_mode dnsrr.)
 */
const IMAGES = ['berth-test/web:v1', 'berth-test/web:v2', 'berth-test/web:bad', 'berth-test/postgres:18'];
const p = `${uniqueName('swarm')}-`;
const stack = `${p}shop`;
let engine = false;
let swarm: PrivateSwarm | null = null;
let repo = '';
let env: Record<string, string> = {};
let sharedBefore = '';
let sharedSince = 0;

/**
 * What of the shared engine this test could have touched: objects named with
 * its prefix (every stack of it has the prefix) and the engine's swarm state.
 * Not the full listing: other engineers' suites on the shared engine create
 * and remove objects under names no filter can predict, at any moment.
 */
async function sharedState(): Promise<string> {
  const info = await docker(['info', '--format', '{{.Swarm.LocalNodeState}}']);
  return JSON.stringify({ objects: await listPrefixed(p), swarm: info.stdout.trim() });
}

const compose = (webImage: string) => `services:
  db:
    image: berth-test/postgres:18
    volumes: [data:/var/lib/postgresql/data]
    deploy:
      endpoint_mode: dnsrr
      placement:
        constraints: [node.hostname == node-2]
  web:
    image: ${webImage}
    depends_on:
      db: {condition: service_healthy}
    environment:
      DB_HOST: db
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      update_config: {order: start-first, parallelism: 1, failure_action: rollback, monitor: 1s}
volumes:
  data: {}
`;

async function tasks(service: string): Promise<string[]> {
  const r = await swarm!.docker(['service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.Image}} {{.CurrentState}}']);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
}

async function inspect(kind: 'service' | 'network', name: string, format: string): Promise<string> {
  const r = await swarm!.docker([kind, 'inspect', name, '--format', format]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  engine = await requirePrivateEngines();
  if (!engine) return;
  sharedBefore = await sharedState();
  sharedSince = Math.floor(Date.now() / 1000) - 1;
  swarm = await PrivateSwarm.start(3, IMAGES);
  repo = tmpRepo({
    'berth.yaml': `rollout:\n  healthTimeoutSeconds: 40\nhosts:\n  cluster:\n    docker: ${swarm.manager.dockerHost}\n    mode: swarm\n    stacks: ["${p}*"]\n`,
    [`stacks/${stack}/compose.yaml`]: compose('berth-test/web:v1'),
  });
  env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-swarm-state-')) };
}, 120_000);

afterAll(async () => {
  await swarm?.destroy();
}, 120_000);

describe('a swarm host (mode: swarm)', () => {
  it('a stack becomes stack-named swarm objects, in waves: the pinned database runs before the 3 app replicas start', async (ctx) => {
    if (!engine) ctx.skip();
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toMatch(/Wave 1 · networks\n {2}\+ \S+_default +create: new overlay network \(attachable\)[\s\S]*Wave 3 · databases\n {2}\+ \S+\/db[\s\S]*Wave 4 · apps\n {2}\+ \S+\/web +create: new service, 3 replicas/);

    const apply = await runCli(['apply', '--repo', repo], env);
    expect(apply.code, apply.output).toBe(0);
    // The database's tasks ran before the app was even created.
    expect(apply.stdout.indexOf(`+ ${stack}/db`)).toBeLessThan(apply.stdout.indexOf(`… ${stack}/web`));
    expect(apply.stdout).toContain('Apply complete');

    const stackPs = await swarm!.docker(['stack', 'ps', stack, '--format', '{{.Name}} {{.Node}} {{.CurrentState}}']);
    const lines = stackPs.stdout.split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 2).join(' ')).sort();
    expect(lines.filter((l) => l.startsWith(`${stack}_db.`))).toEqual([`${stack}_db.1 node-2`]);
    expect(lines.filter((l) => l.startsWith(`${stack}_web.`))).toHaveLength(3);
    expect(await tasks(`${stack}_web`)).toEqual(Array(3).fill('berth-test/web:v1 Running'));

    const labels = JSON.parse(await inspect('service', `${stack}_web`, '{{json .Spec.Labels}}')) as Record<string, string>;
    expect(labels).toMatchObject({ 'com.docker.stack.namespace': stack, 'io.berth.managed': 'true', 'io.berth.stack': stack, 'io.berth.service': 'web', 'io.berth.tier': 'app' });
    expect(labels['io.berth.config-hash']).toMatch(/^v1:[0-9a-f]{64}$/);
    expect(await inspect('service', `${stack}_web`, '{{.Spec.EndpointSpec.Mode}} {{.Spec.UpdateConfig.Order}} {{.Spec.UpdateConfig.FailureAction}}')).toBe('dnsrr start-first rollback');
    expect(await inspect('service', `${stack}_db`, '{{json .Spec.TaskTemplate.Placement.Constraints}}')).toBe('["node.hostname == node-2"]');
    expect(await inspect('network', `${stack}_default`, '{{.Driver}} {{.Attachable}} {{index .Labels "com.docker.stack.namespace"}} {{index .Labels "io.berth.managed"}}')).toBe(`overlay true ${stack} true`);

    const status = await runCli(['status', '--host', 'cluster'], env);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${stack}_web +3/3 running +berth-test/web:v1`));

    const again = await runCli(['plan', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);
    expect(again.stdout).toContain('No changes. The swarm matches the desired state.');
  }, 90_000);

  it('a start-first rolling update puts every task on the new image', async (ctx) => {
    if (!engine) ctx.skip();
    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose('berth-test/web:v2'));
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.stdout).toMatch(/~ \S+\/web +update: image berth-test\/web:v1 → berth-test\/web:v2/);
    const apply = await runCli(['apply', '--repo', repo], env);
    expect(apply.code, apply.output).toBe(0);
    expect(apply.stdout).toMatch(/~ \S+\/web +updated, tasks running/);
    expect(await tasks(`${stack}_web`)).toEqual(Array(3).fill('berth-test/web:v2 Running'));
  }, 90_000);

  it('an image that never gets healthy is rolled back: every task on the previous image, exit 1', async (ctx) => {
    if (!engine) ctx.skip();
    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose('berth-test/web:bad'));
    const apply = await runCli(['apply', '--repo', repo], env);
    expect(apply.code, apply.output).toBe(1);
    expect(apply.stderr).toMatch(/✗ \S+\/web: rolled-back: .*rolled back to the previous spec, its tasks run again/);
    expect(await tasks(`${stack}_web`)).toEqual(Array(3).fill('berth-test/web:v2 Running'));
    expect(await inspect('service', `${stack}_web`, '{{.Spec.TaskTemplate.ContainerSpec.Image}}')).toBe('berth-test/web:v2');
    // Git still asks for the bad image: the change stays pending, nothing else changed.
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toMatch(/update: image berth-test\/web:v2 → berth-test\/web:bad$/m);
  }, 90_000);

  it('a service scaled and re-imaged by hand is drift; apply undoes it', async (ctx) => {
    if (!engine) ctx.skip();
    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), compose('berth-test/web:v2'));
    expect((await runCli(['plan', '--repo', repo], env)).code).toBe(0);
    const hand = await swarm!.docker(['service', 'update', '--detach', '--no-resolve-image', '--image', 'berth-test/web:v1', '--replicas', '1', '--env-add', 'DEBUG=1', `${stack}_web`]);
    expect(hand.code, hand.stderr).toBe(0);
    const drift = await runCli(['drift', '--host', 'cluster'], env);
    expect(drift.code, drift.output).toBe(2);
    expect(drift.stdout).toMatch(/! \S+\/web +service spec: expected the spec berth applied, found changed by hand: image berth-test\/web:v2 → berth-test\/web:v1; replicas 3 → replicas 1; env DEBUG added/);
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toContain('changed by hand: image berth-test/web:v1 → berth-test/web:v2; changed by hand: replicas 1 → replicas 3; changed by hand: env DEBUG removed');
    expect(plan.stdout).not.toContain('1=');
    const apply = await runCli(['apply', '--repo', repo], env);
    expect(apply.code, apply.output).toBe(0);
    expect(await tasks(`${stack}_web`)).toEqual(Array(3).fill('berth-test/web:v2 Running'));
    expect((await runCli(['plan', '--repo', repo], env)).code).toBe(0);
    const healed = await runCli(['drift', '--host', 'cluster'], env);
    expect(healed.code, healed.output).toBe(0);
    expect(healed.stdout).toContain('No drift: the swarm matches what berth applied.');
  }, 90_000);

  it('a rotated secret file is a new swarm secret; the service moves to it and the old one is removed; SOPS and environment secrets reach the task decrypted', async (ctx) => {
    if (!engine) ctx.skip();
    const withSecret = (c: string) =>
      `${c.replace('    image: berth-test/postgres:18\n', '    image: berth-test/postgres:18\n    secrets: [dbpw, blob, token]\n')}secrets:\n  dbpw: {file: ./db.pw}\n  blob: {file: ./blob.enc.txt}\n  token: {environment: SWARM_TOKEN}\n`;
    writeFileSync(join(repo, 'stacks', stack, 'db.pw'), 'fixture-secret-swarm-one\n');
    writeFileSync(join(repo, 'stacks', stack, 'blob.enc.txt'), vectorBytes('binary.enc.txt'));
    writeFileSync(join(repo, 'stacks', stack, 'compose.yaml'), withSecret(compose('berth-test/web:v2')));
    const senv = { ...env, SOPS_AGE_KEY_FILE: vectorPath('keys.txt'), SWARM_TOKEN: 'fixture-secret-swarm-token' };
    const first = await runCli(['apply', '--repo', repo], senv);
    expect(first.code, first.output).toBe(0);
    expect(first.output).not.toContain('fixture-secret-swarm');
    expect(first.output).not.toContain(BINARY_PLAINTEXT.trim().split('\n')[0]!);
    const names = async () => (await swarm!.docker(['secret', 'ls', '--format', '{{.Name}}'])).stdout.split('\n').filter(Boolean).sort();
    const dbpw = async () => (await names()).filter((n) => n.startsWith(`${stack}_dbpw-`));
    expect(await names()).toEqual([expect.stringMatching(new RegExp(`^${stack}_blob-[0-9a-f]{12}$`)), expect.stringMatching(new RegExp(`^${stack}_dbpw-[0-9a-f]{12}$`)), expect.stringMatching(new RegExp(`^${stack}_token-[0-9a-f]{12}$`))]);
    const [one] = await dbpw();
    expect(await inspect('service', `${stack}_db`, '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.File.Name}} {{end}}')).toBe('blob dbpw token');
    // In the task (on node-2, where the database is pinned): the plaintext.
    const node2 = swarm!.nodes[1]!;
    const task = (await node2.docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${stack}_db`])).stdout.trim().split('\n')[0]!;
    const cat = async (f: string) => (await node2.docker(['exec', task, 'cat', `/run/secrets/${f}`])).stdout;
    expect(await cat('blob')).toBe(BINARY_PLAINTEXT);
    expect(await cat('token')).toBe('fixture-secret-swarm-token');

    writeFileSync(join(repo, 'stacks', stack, 'db.pw'), 'fixture-secret-swarm-two\n');
    const plan = await runCli(['plan', '--repo', repo], senv);
    expect(plan.stdout).toMatch(/\+ \S+_dbpw-[0-9a-f]{12} +create: new swarm secret from stacks\/\S+\/db\.pw \(named by its content\)/);
    expect(plan.stdout).toMatch(/update: secret \/run\/secrets\/dbpw rotated/);
    expect(plan.output).not.toContain('fixture-secret-swarm');
    const rotate = await runCli(['apply', '--repo', repo], senv);
    expect(rotate.code, rotate.output).toBe(0);
    expect(rotate.stdout).toContain(`- ${one}`);
    const [two, ...rest] = await dbpw();
    expect(rest).toEqual([]);
    expect(two).not.toBe(one);
    expect(await names()).toHaveLength(3);
    expect(await inspect('service', `${stack}_db`, '{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.SecretName}} {{end}}')).toContain(two);
    expect(await tasks(`${stack}_db`)).toEqual(['berth-test/postgres:18 Running']);
  }, 90_000);

  it('the shared engine was never touched', async (ctx) => {
    if (!engine) ctx.skip();
    expect(await sharedState()).toBe(sharedBefore);
    // Nothing of this test's stacks was created, changed or removed there meanwhile, not even for a moment.
    const events = await docker(['events', '--since', String(sharedSince), '--until', String(Math.ceil(Date.now() / 1000)), '--format', '{{json .}}']);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout.split('\n').filter((l) => l.includes(p))).toEqual([]);
  });
});
