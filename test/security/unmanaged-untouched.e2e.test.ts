import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { containerIds, removePrefixed } from '../support/berth-objects.js';
import { runCli } from '../support/cli.js';
import { cleanupByLabel, docker, requireEngine, uniqueName } from '../support/engine.js';
import { isolatedCopy } from '../support/isolated-repo.js';
import { changedSince, describeChanges, snapshot, volatileFields, type ObjectRef, type Snapshot } from '../support/unmanaged.js';

/**
 * Objects berth does not manage stay exactly as they were (issue 8, security
 * checks; PRODUCT.md §3): containers, networks and volumes made by hand —
 * some on berth's networks, some with names and Compose labels that look like
 * berth's — are inspected before, and after every test compared byte for byte,
 * while berth plans, applies, reports drift, rolls a service out, is refused a
 * network recreate and a taken name, and prunes a stack that left the repo.
 */
const EXAMPLE = join(import.meta.dirname, '..', '..', 'desired-state');
const prefix = `${uniqueName('u')}-`;
const LABEL = `berth.security.test=${prefix}`;

let engine = false;
let repo = '';
let env: Record<string, string> = {};
let before: Snapshot = new Map();
let comparisons = 0;
let changed = 0;

const sidecar = `${prefix}sidecar-1`; // also on berth's edge (plain bridge) and observability networks
const lookalike = `${prefix}web-web-2`; // standalone, Compose labels of berth's web stack
const intruder = `${prefix}intruder-1`; // also on berth's internal backend network
const UNMANAGED: ObjectRef[] = [
  { kind: 'container', name: sidecar },
  { kind: 'container', name: lookalike },
  { kind: 'container', name: intruder },
  { kind: 'network', name: `${prefix}web_default` },
  { kind: 'network', name: `${prefix}taken-net` },
  { kind: 'volume', name: `${prefix}data_pgdata-old` },
  { kind: 'volume', name: `${prefix}cache` },
];

async function must(args: string[]): Promise<string> {
  const r = await docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function editCompose(stack: string, edit: (doc: ReturnType<typeof parseDocument>) => void): void {
  const path = join(repo, 'stacks', `${prefix}${stack}`, 'compose.yaml');
  const doc = parseDocument(readFileSync(path, 'utf8'));
  edit(doc);
  writeFileSync(path, doc.toString());
}

const running = async (name: string) => (await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim() === 'true';

beforeAll(async () => {
  engine = await requireEngine();
  if (!engine) return;
  repo = isolatedCopy(EXAMPLE, prefix);
  env = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-unmanaged-state-')) };
  const applied = await runCli(['apply', '--repo', repo], env);
  expect(applied.code, applied.output).toBe(0);

  const compose = (project: string, extra: string[]) => ['--label', `com.docker.compose.project=${prefix}${project}`, ...extra];
  await must(['network', 'create', '--label', LABEL, '--label', 'io.berth.managed=false', ...compose('web', ['--label', 'com.docker.compose.network=default']), `${prefix}web_default`]);
  await must(['network', 'create', '--label', LABEL, `${prefix}taken-net`]);
  await must(['volume', 'create', '--label', LABEL, ...compose('data', ['--label', 'com.docker.compose.volume=pgdata-old']), `${prefix}data_pgdata-old`]);
  await must(['volume', 'create', '--label', LABEL, `${prefix}cache`]);
  // Started on the unmanaged network (this engine may run without docker0), then connected to berth's.
  await must(['run', '-d', '--name', sidecar, '--label', LABEL, '--network', `${prefix}web_default`, 'berth-test/worker:1']);
  await must(['network', 'connect', `${prefix}edge`, sidecar]);
  await must(['network', 'connect', `${prefix}observability`, sidecar]);
  await must(['run', '-d', '--name', intruder, '--label', LABEL, '--network', `${prefix}web_default`, 'berth-test/worker:1']);
  await must(['network', 'connect', `${prefix}backend`, intruder]);
  await must(['run', '-d', '--name', lookalike, '--label', LABEL, '--network', 'none', ...compose('web', ['--label', 'com.docker.compose.service=web', '--label', 'com.docker.compose.container-number=2', '--label', 'com.docker.compose.oneoff=False']), 'berth-test/worker:1']);
  before = await snapshot(UNMANAGED);
});

afterEach(async () => {
  if (!engine) return;
  const changes = await changedSince(before, UNMANAGED);
  comparisons += UNMANAGED.length;
  changed += changes.length;
  expect(changes, describeChanges(changes)).toEqual([]);
});

afterAll(async () => {
  if (!engine) return;
  console.log(`[unmanaged] ${UNMANAGED.length} unmanaged objects (3 containers, 2 networks, 2 volumes) compared after each of the flows: ${comparisons} comparisons, ${changed} changed (ignored as volatile: ${volatileFields()})`);
  await cleanupByLabel(LABEL);
  await removePrefixed(prefix);
  rmSync(repo, { recursive: true, force: true });
});

describe('unmanaged objects next to berth', () => {
  it('plan, drift and status leave them alone; drift names the foreign container on the internal network', async (ctx) => {
    if (!engine) return ctx.skip();
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(0);
    const drift = await runCli(['drift', '--repo', repo], env);
    expect(drift.code, drift.output).toBe(2);
    expect(drift.output).toContain(intruder);
    expect(drift.output).not.toContain(sidecar); // edge is not internal: sharing it is allowed
    expect((await runCli(['status'], env)).code).toBe(0);
  });

  it('apply with self-heal on reports the intruder but does not disconnect it', async (ctx) => {
    if (!engine) return ctx.skip();
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);
    const nets = await must(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', intruder]);
    expect(nets.split(' ')).toContain(`${prefix}backend`);
  });

  it('a start-first rollout on the networks they share (web, env change) recreates only berth’s container', async (ctx) => {
    if (!engine) return ctx.skip();
    const ids = await containerIds(prefix);
    const r = await runCli(['apply', '--repo', repo], { ...env, WEB_GREETING: 'changed by the security test' });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(new RegExp(`~ ${prefix}web/web\\s+recreated`));
    const after = await containerIds(prefix);
    expect(after[`${prefix}web-web-1`]).not.toBe(ids[`${prefix}web-web-1`]);
    for (const name of [sidecar, lookalike, intruder]) expect(after[name]).toBe(ids[name]);
  });

  it('refuses to recreate a network an unmanaged container is attached to, and changes nothing', async (ctx) => {
    if (!engine) return ctx.skip();
    editCompose('infra', (doc) => doc.setIn(['networks', 'edge', 'attachable'], false));
    try {
      const plan = await runCli(['plan', '--repo', repo], { ...env, WEB_GREETING: 'changed by the security test' });
      expect(plan.code, plan.output).toBe(1);
      expect(plan.output).toMatch(new RegExp(`network ${prefix}edge must be recreated \\(attachable true → false\\) but containers not managed by berth are attached: .*${sidecar}`));
      const ids = await containerIds(prefix);
      const apply = await runCli(['apply', '--repo', repo], { ...env, WEB_GREETING: 'changed by the security test' });
      expect(apply.code, apply.output).toBe(1);
      expect(apply.output).toContain('nothing was changed');
      expect(await containerIds(prefix)).toEqual(ids);
    } finally {
      editCompose('infra', (doc) => doc.setIn(['networks', 'edge', 'attachable'], true));
    }
  });

  it('a network name taken by an unmanaged network is an error naming it; nothing is touched', async (ctx) => {
    if (!engine) return ctx.skip();
    // The isolated copy prefixes `name:`; this one is written after the copy, so it is exactly the squatter's name.
    editCompose('infra', (doc) => doc.setIn(['networks', 'taken'], doc.createNode({ name: `${prefix}taken-net` })));
    try {
      const apply = await runCli(['apply', '--repo', repo], { ...env, WEB_GREETING: 'changed by the security test' });
      expect(apply.code, apply.output).toBe(1);
      expect(apply.output).toContain(`network ${prefix}taken-net exists but is not managed by berth`);
    } finally {
      editCompose('infra', (doc) => doc.deleteIn(['networks', 'taken']));
    }
  });

  it('prune: a stack removed from the repo goes, its look-alikes stay; a dropped network with an unmanaged container stays', async (ctx) => {
    if (!engine) return ctx.skip();
    rmSync(join(repo, 'stacks', `${prefix}web`), { recursive: true });
    editCompose('infra', (doc) => doc.deleteIn(['networks', 'observability']));
    const plan = await runCli(['plan', '--repo', repo], env);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.output).toMatch(new RegExp(`- ${prefix}web/web\\s+remove`));
    expect(plan.output).toContain(`network ${prefix}observability: no longer declared by stack "${prefix}infra", but containers not managed by berth are attached (${sidecar}`);
    expect(plan.output).not.toMatch(new RegExp(`- ${prefix}web_default|- ${prefix}observability|${lookalike}\\s+remove`));
    const r = await runCli(['apply', '--repo', repo], env);
    expect(r.code, r.output).toBe(0);
    const ids = await containerIds(prefix);
    expect(ids[`${prefix}web-web-1`]).toBeUndefined();
    expect(ids[lookalike]).toBeDefined();
    expect(await running(lookalike)).toBe(true);
    expect((await docker(['network', 'inspect', `${prefix}observability`])).code).toBe(0);
    const again = await runCli(['plan', '--repo', repo], env);
    expect(again.code, again.output).toBe(0);
  });
});

describe('the before/after check itself', () => {
  it('sees a change made by hand (network connect) and an object gone', async (ctx) => {
    if (!engine) return ctx.skip();
    const probe: ObjectRef[] = [
      { kind: 'container', name: `${prefix}probe-1` },
      { kind: 'volume', name: `${prefix}probe-vol` },
    ];
    // Its own networks: attaching it to one of UNMANAGED would change that one.
    await must(['network', 'create', '--label', LABEL, `${prefix}probe-net`]);
    await must(['network', 'create', '--label', LABEL, `${prefix}probe-net2`]);
    await must(['run', '-d', '--name', probe[0]!.name, '--label', LABEL, '--network', `${prefix}probe-net`, 'berth-test/worker:1']);
    await must(['volume', 'create', '--label', LABEL, probe[1]!.name]);
    const was = await snapshot(probe);
    expect(await changedSince(was, probe)).toEqual([]);
    await must(['network', 'connect', `${prefix}probe-net2`, probe[0]!.name]);
    await must(['volume', 'rm', probe[1]!.name]);
    const changes = await changedSince(was, probe);
    expect(changes.map((c) => c.object)).toEqual([`container ${prefix}probe-1`, `volume ${prefix}probe-vol`]);
    expect(changes[0]!.diff.join('\n')).toContain(`${prefix}probe-net2`);
    expect(changes[1]!.diff.join('\n')).toContain('MISSING');
  });
});
