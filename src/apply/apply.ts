import PQueue from 'p-queue';
import { RETIRED_SUFFIX, TEMP_SUFFIX } from '../labels.js';
import type { BerthSettings, DesiredState, ServiceSpec } from '../model/desired.js';
import type { Op, Plan, ServiceRecreateOp } from '../model/plan.js';
import type { Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import { waitForCondition } from '../rollout/gates.js';
import { containerLabels, networkLabels, volumeLabels } from './labels-for.js';

export type OpStatus = 'ok' | 'failed' | 'skipped';

export interface OpResult {
  id: string;
  kind: Op['kind'];
  action: Op['action'];
  object: string;
  status: OpStatus;
  durationMs: number;
  /** Why it failed or was skipped. */
  error?: string;
}

export interface ApplyResult {
  ok: boolean;
  results: OpResult[];
  durationMs: number;
  /** `<stack>/<service>` of services whose desired spec is not what the host runs now. */
  notApplied: Set<string>;
  /** True when a stop signal ended the apply between ops. */
  aborted: boolean;
}

export interface ApplyReporter {
  /** Called once with the plan about to be applied. */
  planned?(plan: Plan): void;
  started?(op: Op): void;
  progress?(op: Op, message: string): void;
  finished?(op: Op, result: OpResult): void;
}

export interface ApplyContext {
  docker: DockerPort;
  clock: Clock;
  desired: DesiredState;
  settings: BerthSettings;
  revision: string | null;
  concurrency?: number;
  reporter?: ApplyReporter;
  /** Stop between ops (ops in flight finish). */
  signal?: AbortSignal;
  /** How a changed service's container is replaced; the rollout strategies plug in here. */
  replace?: ReplaceContainer;
}

export type ReplaceContainer = (op: ServiceRecreateOp, ctx: ApplyContext) => Promise<void>;

/**
 * Execute a plan: phases in the plan's order (removals, networks, volumes,
 * databases, apps, network removals), ops inside a phase concurrently
 * (bounded), each op after the ops it depends on. Apply makes no decisions
 * beyond "did this op succeed": an op whose dependency failed is skipped,
 * a service is skipped when a network or volume it needs could not be made.
 */
export async function applyPlan(plan: Plan, ctx: ApplyContext): Promise<ApplyResult> {
  const start = ctx.clock.now();
  if (plan.errors.length > 0) throw new Error('refusing to apply a plan with errors');
  ctx.reporter?.planned?.(plan);
  const results = new Map<string, OpResult>();
  const done = new Map<string, Promise<OpStatus>>();
  const failedObjects = new Set<string>();
  let aborted = false;

  for (const phase of phases(plan.ops)) {
    const queue = new PQueue({ concurrency: ctx.concurrency ?? 4 });
    for (const op of phase) {
      const run = async (): Promise<OpStatus> => {
        const deps = await Promise.all(op.after.map((id) => done.get(id) ?? Promise.resolve<OpStatus>('ok')));
        const blockedBy = op.after.filter((_, i) => deps[i] !== 'ok');
        const missing = neededObjects(op).filter((o) => failedObjects.has(o));
        let result: OpResult;
        if (ctx.signal?.aborted) {
          aborted = true;
          result = skipped(op, 'stopped before this step (shutdown requested)');
        } else if (blockedBy.length > 0) {
          result = skipped(op, `skipped: ${blockedBy.join(', ')} did not succeed`);
        } else if (missing.length > 0) {
          result = skipped(op, `skipped: ${missing.join(', ')} could not be created`);
        } else {
          result = await queue.add(() => execute(op, ctx), { throwOnTimeout: true });
        }
        if (result.status !== 'ok') failedObjects.add(objectKey(op));
        results.set(op.id, result);
        ctx.reporter?.finished?.(op, result);
        return result.status;
      };
      done.set(op.id, run());
    }
    await Promise.all(phase.map((op) => done.get(op.id)));
  }

  const ordered = plan.ops.map((op) => results.get(op.id)!);
  const notApplied = new Set<string>();
  for (const op of plan.ops) {
    if (results.get(op.id)!.status === 'ok') continue;
    if ('service' in op && typeof op.service === 'object') notApplied.add(`${op.stack}/${op.service.name}`);
  }
  return {
    ok: ordered.every((r) => r.status === 'ok'),
    results: ordered,
    durationMs: ctx.clock.now() - start,
    notApplied,
    aborted,
  };
}

/** Consecutive ops of the same wave and direction form a phase. */
function phases(ops: Op[]): Op[][] {
  const out: Op[][] = [];
  let key = '';
  for (const op of ops) {
    const k = `${op.wave}:${op.action === 'remove'}`;
    if (k !== key || out.length === 0) {
      out.push([]);
      key = k;
    }
    out[out.length - 1]!.push(op);
  }
  return out;
}

function objectKey(op: Op): string {
  if (op.kind.startsWith('network.')) return `network ${op.object}`;
  if (op.kind.startsWith('volume.')) return `volume ${op.object}`;
  return op.object;
}

function neededObjects(op: Op): string[] {
  if (op.kind !== 'service.create' && op.kind !== 'service.recreate' && op.kind !== 'service.start') return [];
  const s = op.service;
  return [
    ...s.networks.map((n) => `network ${n.name}`),
    ...s.mounts.flatMap((m) => (m.type === 'volume' && m.source ? [`volume ${m.source}`] : [])),
  ];
}

function skipped(op: Op, error: string): OpResult {
  return { id: op.id, kind: op.kind, action: op.action, object: op.object, status: 'skipped', durationMs: 0, error };
}

async function execute(op: Op, ctx: ApplyContext): Promise<OpResult> {
  const t0 = ctx.clock.now();
  ctx.reporter?.started?.(op);
  try {
    await executeOp(op, ctx);
    return { id: op.id, kind: op.kind, action: op.action, object: op.object, status: 'ok', durationMs: ctx.clock.now() - t0 };
  } catch (e) {
    return { id: op.id, kind: op.kind, action: op.action, object: op.object, status: 'failed', durationMs: ctx.clock.now() - t0, error: (e as Error).message };
  }
}

async function executeOp(op: Op, ctx: ApplyContext): Promise<void> {
  const { docker } = ctx;
  switch (op.kind) {
    case 'network.create':
      await docker.createNetwork(op.network, networkLabels(op.network, ctx.revision));
      return;
    case 'network.recreate': {
      for (const c of op.attached) await docker.disconnectNetwork(op.network.name, c);
      await docker.removeNetwork(op.liveId);
      await docker.createNetwork(op.network, networkLabels(op.network, ctx.revision));
      for (const c of op.attached) {
        const svc = serviceByContainer(ctx.desired, c);
        const n = svc?.networks.find((x) => x.name === op.network.name);
        await docker.connectNetwork(op.network.name, c, {
          aliases: [...(n?.aliases ?? []), ...(svc ? [svc.name] : [])],
          ipv4Address: n?.ipv4Address ?? null,
          ipv6Address: n?.ipv6Address ?? null,
        });
      }
      return;
    }
    case 'network.remove':
      await docker.removeNetwork(op.liveId);
      return;
    case 'volume.create':
      await docker.createVolume(op.volume, volumeLabels(op.volume, ctx.revision));
      return;
    case 'service.create': {
      await waitForDependencies(op.service, ctx, op);
      if (op.pull) await pull(op.service.image, ctx, op);
      const id = await docker.createContainer(op.service, op.service.containerName, containerLabels(op.service, ctx.revision));
      await docker.startContainer(id);
      return;
    }
    case 'service.recreate':
      await waitForDependencies(op.service, ctx, op);
      if (op.pull) await pull(op.service.image, ctx, op);
      await (ctx.replace ?? replaceLikeCompose)(op, ctx);
      return;
    case 'service.start':
      await waitForDependencies(op.service, ctx, op);
      await docker.startContainer(op.containerId);
      return;
    case 'service.connect':
      for (const n of op.disconnect) await docker.disconnectNetwork(n, op.containerId);
      for (const n of op.connect) {
        await docker.connectNetwork(n.name, op.containerId, {
          aliases: [...n.aliases, op.service.name],
          ipv4Address: n.ipv4Address,
          ipv6Address: n.ipv6Address,
        });
      }
      return;
    case 'service.remove':
      await docker.stopContainer(op.containerId);
      await docker.removeContainer(op.containerId, true);
      return;
    case 'container.cleanup':
      await docker.removeContainer(op.containerId, true);
      return;
  }
}

async function pull(image: string, ctx: ApplyContext, op: Op): Promise<void> {
  ctx.reporter?.progress?.(op, `pulling ${image}`);
  await ctx.docker.pullImage(image);
}

async function waitForDependencies(spec: ServiceSpec, ctx: ApplyContext, op: Op): Promise<void> {
  const stack = ctx.desired.stacks.find((s) => s.name === spec.stack);
  for (const dep of spec.dependsOn) {
    if (dep.condition === 'service_started') continue;
    const target = stack?.services.find((s) => s.name === dep.service);
    if (!target) continue;
    ctx.reporter?.progress?.(op, `waiting for ${spec.stack}/${dep.service} (${dep.condition})`);
    await waitForCondition(
      { docker: ctx.docker, clock: ctx.clock, timeoutMs: ctx.settings.rollout.healthTimeoutSeconds * 1000, signal: ctx.signal },
      target.containerName,
      `${spec.stack}/${dep.service}`,
      dep.condition,
    );
  }
}

/**
 * Compose's way to replace a container: create the new one under a
 * temporary name, stop and remove the old one, give the new one the name,
 * start it. A crash at any point leaves a state the next plan repairs
 * (a leftover `_berth_tmp` is cleaned up; a missing service is created).
 */
export const replaceLikeCompose: ReplaceContainer = async (op, ctx) => {
  const { docker } = ctx;
  const canonical = op.service.containerName;
  const tmpName = `${canonical}${TEMP_SUFFIX}`;
  const id = await docker.createContainer(op.service, tmpName, containerLabels(op.service, ctx.revision));
  try {
    await docker.stopContainer(op.old.id);
    await docker.removeContainer(op.old.id, true);
  } catch (e) {
    await docker.removeContainer(id, true).catch(() => undefined);
    throw e;
  }
  await docker.renameContainer(id, canonical);
  await docker.startContainer(id);
};

function serviceByContainer(desired: DesiredState, name: string): ServiceSpec | undefined {
  const base = name.endsWith(TEMP_SUFFIX) ? name.slice(0, -TEMP_SUFFIX.length) : name.endsWith(RETIRED_SUFFIX) ? name.slice(0, -RETIRED_SUFFIX.length) : name;
  for (const s of desired.stacks) for (const svc of s.services) if (svc.containerName === base) return svc;
  return undefined;
}
