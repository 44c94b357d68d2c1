import { LABEL } from '../labels.js';
import type { Clock } from '../ports/clock.js';
import type { SwarmPort } from '../ports/swarm.js';
import { traefikRouting } from '../rollout/traefik-gate.js';
import type { SwarmBakeGate } from '../rollout/types.js';
import { engineServiceSpec, swarmObjectLabels } from './engine-spec.js';
import { gate } from './gate.js';
import type { SwarmOp, SwarmPlan } from './plan.js';
import type { SwarmFileNeed } from './shape.js';
import type { DesiredState } from '../model/desired.js';

/**
 * Executes a swarm plan: networks, then each service wave in depends_on
 * order, every step gated — the services of a step are created or updated
 * together, then berth waits until each one's tasks run the new spec (healthy
 * where there is a healthcheck), then bakes the ones Traefik routes (berth.yaml
 * `traefik:`), before the next step. A failed update (tasks or bake) is
 * rolled back to the service's previous spec; nothing after it is applied.
 * Removals last, apps before databases before networks. No decisions here
 * beyond "did this op succeed".
 */
export interface SwarmApplyDeps {
  swarm: SwarmPort;
  clock: Clock;
  /** The content of a repository file a swarm config/secret is made from (never logged). */
  readFile: (path: string) => Promise<Buffer>;
  /** Plaintext berth holds in memory, by material path (see materialContent): decrypted SOPS and `environment`/`content` secrets. */
  material?: (path: string) => Buffer | undefined;
  revision: string | null;
  /** How long a step's tasks may take to run (berth.yaml rollout.healthTimeoutSeconds). */
  timeoutMs: number;
  /** The Traefik bake of a service whose new tasks run (berth.yaml `traefik:`); absent: none. */
  bake?: SwarmBakeGate;
  /** Between two looks at the tasks. */
  pollMs?: number;
  /** One line per finished op, one per progress note. */
  report?: (op: SwarmOp, outcome: SwarmOpResult) => void;
  progress?: (op: SwarmOp, message: string) => void;
}

export interface SwarmOpResult {
  result: 'ok' | 'failed' | 'rolled-back' | 'held' | 'skipped';
  message: string;
}

export interface SwarmApplyResult {
  ok: boolean;
  results: { op: SwarmOp; outcome: SwarmOpResult }[];
}

/** What a swarm config/secret is made of: a repository file, or plaintext held in memory. */
async function content(f: SwarmFileNeed, deps: SwarmApplyDeps): Promise<Buffer> {
  if (!f.material) return deps.readFile(f.source);
  const held = deps.material?.(f.source);
  if (!held) throw new Error(`${f.kind} ${f.key}: its plaintext is not held by this load`);
  return held;
}

/** The plaintext a desired state holds, by material path (DesiredState.secretFiles). */
export function materialContent(desired: DesiredState): (path: string) => Buffer | undefined {
  const held = new Map((desired.secretFiles?.entries() ?? []).map(([path, bytes]) => [path, bytes]));
  return (path) => held.get(path);
}

type ServiceOp = Extract<SwarmOp, { kind: 'service.create' | 'service.update' }>;

export async function applySwarm(plan: SwarmPlan, deps: SwarmApplyDeps): Promise<SwarmApplyResult> {
  const results: SwarmApplyResult['results'] = [];
  const done = (op: SwarmOp, outcome: SwarmOpResult) => {
    results.push({ op, outcome });
    deps.report?.(op, outcome);
  };
  let ok = true;
  /** One engine call for an op: its outcome reported, a failure remembered. */
  const attempt = async (op: SwarmOp, message: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      done(op, { result: 'ok', message });
    } catch (e) {
      ok = false;
      done(op, { result: 'failed', message: (e as Error).message });
    }
  };
  await Promise.all(plan.ops.map((op) => (op.kind === 'network.create' ? attempt(op, 'created', () => deps.swarm.createNetwork(op.body)) : null)));
  await Promise.all(
    plan.ops.map((op) => {
      if (op.kind !== 'file.create') return null;
      const f = op.file;
      return attempt(op, 'created', async () => deps.swarm.createSwarmFile(f.kind, f.objectName, { ...swarmObjectLabels(f.stack), [LABEL.file]: f.key }, await content(f, deps)));
    }),
  );
  const services = plan.ops.filter((o): o is ServiceOp => o.kind === 'service.create' || o.kind === 'service.update');
  for (const op of services) if (op.kind === 'service.update' && op.held) done(op, { result: 'held', message: 'selfHeal off: drift reported, not undone' });
  const active = services.filter((o) => !(o.kind === 'service.update' && o.held));
  if (ok && active.length > 0) {
    const [nets, files] = await Promise.all([deps.swarm.listNetworks(), deps.swarm.listSwarmFiles()]);
    const ids = { networks: new Map(nets.map((n) => [n.name, n.id])), files: new Map(files.map((f) => [f.name, f.id])) };
    for (const wave of ['databases', 'apps'] as const) {
      for (const step of steps(active.filter((o) => o.wave === wave))) {
        const outcomes = await Promise.all(step.map((op) => rollOut(op, ids, deps)));
        step.forEach((op, i) => done(op, outcomes[i]!));
        if (outcomes.some((o) => o.result !== 'ok')) ok = false;
        if (!ok) break;
      }
      if (!ok) break;
    }
  }
  const applied = new Set(results.map((r) => r.op.id));
  for (const op of active) if (!applied.has(op.id)) done(op, { result: 'skipped', message: 'not applied: an earlier step failed' });
  if (!ok) {
    for (const op of plan.ops) if (op.kind.endsWith('.remove')) done(op, { result: 'skipped', message: 'not applied: an earlier step failed' });
    return { ok, results };
  }
  for (const op of plan.ops) {
    if (op.kind === 'service.remove') await attempt(op, 'removed', () => deps.swarm.removeService(op.liveId));
    else if (op.kind === 'file.remove') await attempt(op, 'removed', () => deps.swarm.removeSwarmFile(op.fileKind, op.liveId));
    else if (op.kind === 'network.remove') {
      const r = await removeNetworkWhenFree(op.liveId, deps);
      if (r.result !== 'ok') ok = false;
      done(op, r);
    }
  }
  return { ok, results };
}

/** A wave's services in depends_on order: each step only depends on earlier steps (or on other waves). */
function steps(ops: ServiceOp[]): ServiceOp[][] {
  const out: ServiceOp[][] = [];
  const left = new Map(ops.map((o) => [o.service.name, o]));
  while (left.size > 0) {
    const ready = [...left.values()].filter((o) => o.service.dependsOn.every((d) => !left.has(d)));
    // A cycle cannot pass validation; should one slip through, apply the rest together rather than never.
    const step = ready.length > 0 ? ready : [...left.values()];
    for (const o of step) left.delete(o.service.name);
    out.push(step);
  }
  return out;
}

async function rollOut(op: ServiceOp, ids: { networks: ReadonlyMap<string, string>; files: ReadonlyMap<string, string> }, deps: SwarmApplyDeps): Promise<SwarmOpResult> {
  const svc = op.service;
  const spec = engineServiceSpec(svc.shape, { stack: svc.stack, service: svc.service, name: svc.name, tier: svc.tier, configHash: svc.configHash, revision: deps.revision }, ids.networks, ids.files);
  let id: string;
  let previous: string | null = null;
  try {
    if (op.kind === 'service.create') {
      id = await deps.swarm.createService(spec);
    } else {
      id = op.liveId;
      const now = await deps.swarm.inspectService(id);
      if (!now) return { result: 'failed', message: 'the service disappeared before its update' };
      previous = now.labels[LABEL.configHash] ?? null;
      await deps.swarm.updateService(id, now.version, spec);
    }
  } catch (e) {
    return { result: 'failed', message: (e as Error).message };
  }
  let verdict = await waitFor(id, svc.configHash, deps, op, false);
  if (verdict.state === 'converged') {
    const baked = await bake(id, op, deps);
    const done = op.kind === 'service.create' ? 'created, tasks running' : 'updated, tasks running';
    if (baked.ok) return { result: 'ok', message: baked.line ? `${done}; ${baked.line}` : done };
    verdict = { state: 'failed', why: baked.why };
  }
  if (op.kind === 'service.create' || !previous) return { result: 'failed', message: verdict.why };
  // Back to the previous spec: Swarm's own rollback (rollback=previous), unless Swarm already started it (failure_action: rollback).
  try {
    const now = await deps.swarm.inspectService(id);
    if (now && !now.updateStatus?.state.startsWith('rollback')) await deps.swarm.updateService(id, now.version, now.spec as Record<string, unknown>, { rollback: true });
  } catch (e) {
    return { result: 'failed', message: `${verdict.why}; rolling back failed too: ${(e as Error).message}` };
  }
  deps.progress?.(op, `rolling back: ${verdict.why}`);
  const back = await waitFor(id, previous, deps, op, true);
  return back.state === 'converged'
    ? { result: 'rolled-back', message: `${verdict.why}; rolled back to the previous spec, its tasks run again` }
    : { result: 'failed', message: `${verdict.why}; rolled back, but the previous spec's tasks do not run: ${back.why}` };
}

/**
 * The Traefik bake of a service whose new tasks run: only when berth.yaml has
 * `traefik:` and the service's deploy.labels (what Traefik's swarm provider
 * reads) route it over HTTP; the servers are the running tasks' addresses —
 * or, with `traefik.docker.lbswarm` / `traefik.swarm.lbswarm`, the service's
 * virtual IP, the one server Traefik then lists (the bake then watches the
 * service's health behind it, under the circuit breaker).
 */
async function bake(id: string, op: ServiceOp, deps: SwarmApplyDeps): Promise<{ ok: true; line: string | null } | { ok: false; why: string }> {
  const svc = op.service;
  const labels = svc.shape.serviceLabels;
  const routing = traefikRouting(labels, svc.stack, svc.service, svc.name);
  if (!deps.bake || routing.kind !== 'route' || !routing.labelled) return { ok: true, line: null };
  try {
    let serverHosts: string[];
    if (lbSwarm(labels)) {
      serverHosts = (await deps.swarm.inspectService(id))?.virtualIps ?? [];
      // endpoint_mode dnsrr has no VIP: Traefik has nothing to send to, and no server of this service to bake.
      if (serverHosts.length === 0) return { ok: true, line: 'traefik: not checked (lbswarm, but the service has no virtual IP: endpoint_mode dnsrr)' };
    } else {
      const tasks = (await deps.swarm.listTasks(id)).filter((t) => t.desiredState === 'running' && t.state === 'running');
      serverHosts = tasks.flatMap((t) => t.addresses);
    }
    const line = await deps.bake({ stack: svc.stack, service: svc.service, name: svc.name, labels, serverHosts, progress: (m) => deps.progress?.(op, m) });
    return { ok: true, line };
  } catch (e) {
    return { ok: false, why: `traefik bake failed: ${(e as Error).message}` };
  }
}

/** Traefik's swarm provider balances through Swarm's VIP instead of the tasks (`lbswarm`: v2 `traefik.docker.`, v3 `traefik.swarm.`). */
function lbSwarm(labels: Record<string, string>): boolean {
  return Object.entries(labels).some(([k, v]) => /^traefik\.(docker|swarm)\.lbswarm$/i.test(k) && v.trim().toLowerCase() === 'true');
}

async function waitFor(id: string, hash: string, deps: SwarmApplyDeps, op: SwarmOp, rollingBack: boolean) {
  const deadline = deps.clock.now() + deps.timeoutMs;
  let last = '';
  for (;;) {
    const [svc, tasks] = await Promise.all([deps.swarm.inspectService(id), deps.swarm.listTasks(id)]);
    const v = gate(hash, svc, tasks, { rollingBack });
    if (v.state !== 'waiting') return v;
    if (v.why !== last) deps.progress?.(op, v.why);
    last = v.why;
    if (deps.clock.now() >= deadline) return { state: 'failed' as const, why: `not converged within ${Math.round(deps.timeoutMs / 1000)}s: ${v.why}` };
    await deps.clock.sleep(deps.pollMs ?? 500);
  }
}

/** A network leaves only once the removed services' tasks have let go of it. */
async function removeNetworkWhenFree(id: string, deps: SwarmApplyDeps): Promise<SwarmOpResult> {
  const deadline = deps.clock.now() + deps.timeoutMs;
  for (;;) {
    try {
      await deps.swarm.removeNetwork(id);
      return { result: 'ok', message: 'removed' };
    } catch (e) {
      if (deps.clock.now() >= deadline) return { result: 'failed', message: (e as Error).message };
      await deps.clock.sleep(deps.pollMs ?? 500);
    }
  }
}
