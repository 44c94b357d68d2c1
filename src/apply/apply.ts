import PQueue from 'p-queue';
import { RETIRED_SUFFIX, TEMP_SUFFIX } from '../labels.js';
import type { BerthSettings, DesiredState, ServiceSpec } from '../model/desired.js';
import type { Op, Plan, ServiceRecreateOp } from '../model/plan.js';
import { replicaNames } from '../model/replicas.js';
import type { ApplyResult, OpResult, OpStatus } from '../model/outcome.js';
import type { Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import { waitForCondition } from '../rollout/gates.js';
import { recreate } from '../rollout/recreate.js';
import { rollingUpdate } from '../rollout/rolling.js';
import { startFirst } from '../rollout/start-first.js';
import { RolloutFailure, type BakeGate, type RolloutReport } from '../rollout/types.js';
import { containerLabels, networkLabels, volumeLabels } from './labels-for.js';
import { withHooks } from './hooks.js';
import type { CredentialsPort } from '../ports/registry.js';
import { digestLabel, imageOps, prepareImages, pullLimits, pullRefOf, withRunImage, type PreparedImages, type PullReporter } from './prepare-images.js';

export type { ApplyResult, OpResult, OpStatus } from '../model/outcome.js';


export interface ApplyReporter extends PullReporter {
  /** Called once with the plan about to be applied. */
  planned?(plan: Plan): void;
  started?(op: Op): void;
  /** `op` is only named by its object: a build of `pull_policy: build` reports before any op exists. */
  progress?(op: Pick<Op, 'object'>, message: string): void;
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
  /** How a changed service's container is replaced; default: the op's rollout strategy. */
  replace?: ReplaceContainer;
  /** The gate between "new container ready" and "old container goes" (the Traefik bake). */
  bake?: BakeGate;
  /** Registry credentials for pulls (the docker config); none = anonymous pulls. */
  credentials?: CredentialsPort;
  /** Set by applyPlan from the prepare phase: digests for the `io.berth.image-digest` label. */
  prepared?: PreparedImages;
}

export type ReplaceContainer = (op: ServiceRecreateOp, ctx: ApplyContext) => Promise<RolloutReport>;

/**
 * Execute a plan: phases in the plan's order (removals, networks, volumes,
 * databases, apps, network removals), ops inside a phase concurrently
 * (bounded), each op after the ops it depends on. Apply makes no decisions
 * beyond "did this op succeed": an op whose dependency failed is skipped,
 * a service is skipped when a network or volume it needs could not be made.
 */
export async function applyPlan(plan: Plan, given: ApplyContext): Promise<ApplyResult> {
  // post_start / pre_stop hooks run around every start and stop of a service's container.
  let ctx: ApplyContext = { ...given, docker: withHooks(given.docker, given.desired) };
  const start = ctx.clock.now();
  if (plan.errors.length > 0) throw new Error('refusing to apply a plan with errors');
  ctx.reporter?.planned?.(plan);
  const limits = pullLimits(ctx.settings);
  const prepared = await prepareImages(plan.ops, { docker: ctx.docker, clock: ctx.clock, credentials: ctx.credentials, reporter: ctx.reporter, signal: ctx.signal, limits });
  if (prepared.failures.size > 0) return refused(plan, ctx, start, prepared);
  ctx = { ...ctx, prepared };
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
    pulled: prepared.pulled,
  };
}

/**
 * An image could not be had: nothing was touched. The ops that needed it
 * failed (with the registry's answer), every other op was skipped.
 */
function refused(plan: Plan, ctx: ApplyContext, start: number, prepared: PreparedImages): ApplyResult {
  const failedImage = new Map(imageOps(plan.ops).flatMap((op) => {
    const ref = pullRefOf(op);
    const why = ref ? prepared.failures.get(ref) : undefined;
    return why ? [[op.id, why] as const] : [];
  }));
  const missing = [...prepared.failures.keys()].join(', ');
  const results = plan.ops.map((op): OpResult => {
    const why = failedImage.get(op.id);
    const r: OpResult = why
      ? { id: op.id, kind: op.kind, action: op.action, object: op.object, status: 'failed', durationMs: 0, error: `${why}; nothing was changed` }
      : skipped(op, `not started: ${missing} could not be pulled, so the plan changed nothing`);
    ctx.reporter?.finished?.(op, r);
    return r;
  });
  const notApplied = new Set(plan.ops.flatMap((op) => ('service' in op && typeof op.service === 'object' ? [`${op.stack}/${op.service.name}`] : [])));
  return { ok: false, results, durationMs: ctx.clock.now() - start, notApplied, aborted: false, pulled: prepared.pulled };
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
  if (op.kind !== 'service.create' && op.kind !== 'service.recreate' && op.kind !== 'service.rolling' && op.kind !== 'service.start') return [];
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
  const result = (status: OpStatus, extra: Partial<OpResult> = {}): OpResult => ({
    id: op.id,
    kind: op.kind,
    action: op.action,
    object: op.object,
    status,
    durationMs: ctx.clock.now() - t0,
    ...extra,
  });
  try {
    const rollout = await executeOp(op, ctx);
    return result('ok', rollout ? { rollout } : {});
  } catch (e) {
    const rollout = e instanceof RolloutFailure ? e.report() : undefined;
    return result('failed', { error: (e as Error).message, ...(rollout ? { rollout } : {}) });
  }
}

async function executeOp(op: Op, ctx: ApplyContext): Promise<RolloutReport | void> {
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
      const id = await docker.createContainer(withRunImage(op).service, op.service.containerName, { ...containerLabels(op.service, ctx.revision), ...digestLabel(ctx.prepared, op) });
      await docker.startContainer(id);
      return;
    }
    case 'service.recreate':
    case 'service.rolling':
      await waitForDependencies(op.service, ctx, op);
      // The image was pulled in the prepare phase; a pinned one runs by image ID.
      if (op.kind === 'service.rolling') {
        return rollingUpdate(withRunImage(op), { ...rolloutContext(op, ctx), labels: (spec) => ({ ...containerLabels(spec, ctx.revision), ...digestLabel(ctx.prepared, op) }) });
      }
      return (ctx.replace ?? rollout)(withRunImage(op), ctx);
    case 'service.start':
      await waitForDependencies(op.service, ctx, op);
      if (op.restart) await docker.stopContainer(op.containerId);
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

/** The op's strategy (PRODUCT.md §8): start-first beside the old container, or recreate with rollback. */
export const rollout: ReplaceContainer = (op, ctx) => {
  const rctx = { ...rolloutContext(op, ctx), labels: { ...containerLabels(op.service, ctx.revision), ...digestLabel(ctx.prepared, op) } };
  return op.strategy === 'start-first' ? startFirst(op, rctx) : recreate(op, rctx);
};

function rolloutContext(op: Op, ctx: ApplyContext) {
  return {
    docker: ctx.docker,
    clock: ctx.clock,
    settings: ctx.settings,
    signal: ctx.signal,
    progress: (message: string) => ctx.reporter?.progress?.(op, message),
    bake: ctx.bake,
  };
}

function serviceByContainer(desired: DesiredState, name: string): ServiceSpec | undefined {
  const base = name.endsWith(TEMP_SUFFIX) ? name.slice(0, -TEMP_SUFFIX.length) : name.endsWith(RETIRED_SUFFIX) ? name.slice(0, -RETIRED_SUFFIX.length) : name;
  for (const s of desired.stacks) for (const svc of s.services) if (replicaNames(svc).includes(base)) return svc;
  return undefined;
}
