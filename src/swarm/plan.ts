import { LABEL, isManaged } from '../labels.js';
import type { DesiredState, DesiredStack, NetworkSpec, ServiceSpec, Tier } from '../model/desired.js';
import type { LiveSwarmFile, LiveSwarmNetwork, LiveSwarmService, SwarmFileKind } from '../ports/swarm.js';
import { STACK_NAMESPACE, liveShape, swarmObjectLabels } from './engine-spec.js';
import { desiredShape, shapeDiff, shapeHash, swarmServiceName, type SwarmFileNeed, type SwarmShape } from './shape.js';

/**
 * The swarm planner: desired stacks × what the manager runs → ops, as plain
 * data, in the waves of one host (networks, volumes, databases, apps; removal
 * in reverse). No I/O: src/swarm/apply.ts executes the ops and waits at each
 * step until Swarm's tasks run (and are healthy).
 */
export type SwarmWave = 'networks' | 'volumes' | 'databases' | 'apps';

interface OpBase {
  id: string;
  wave: SwarmWave;
  stack: string;
  /** Docker name for networks, `<stack>/<service>` for services. */
  object: string;
  reasons: string[];
}

export type SwarmOp =
  | (OpBase & { kind: 'network.create'; name: string; body: Record<string, unknown> })
  | (OpBase & { kind: 'network.remove'; name: string; liveId: string })
  | (OpBase & { kind: 'service.create'; service: SwarmServicePlan })
  | (OpBase & {
      kind: 'service.update';
      service: SwarmServicePlan;
      liveId: string;
      /** The service matches git's last spec but was changed by hand: a drift repair (held when selfHeal is off). */
      drift: boolean;
      /** Held: selfHeal is off for it, so the plan only reports it. */
      held: boolean;
    })
  | (OpBase & { kind: 'service.remove'; name: string; liveId: string; tier: Tier })
  /** A swarm config/secret from a repository file; its content is read only when it is created, never shown. */
  | (OpBase & { kind: 'file.create'; file: SwarmFileNeed })
  | (OpBase & { kind: 'file.remove'; fileKind: SwarmFileKind; name: string; liveId: string });

export interface SwarmServicePlan {
  stack: string;
  service: string;
  /** `<stack>_<service>`. */
  name: string;
  tier: Tier;
  shape: SwarmShape;
  configHash: string;
  /** Services of the same stack it waits for (depends_on): they are applied, and running, first. */
  dependsOn: string[];
  /** The swarm configs/secrets it mounts. */
  files: SwarmFileNeed[];
}

export interface SwarmPlan {
  ops: SwarmOp[];
  errors: { object: string; message: string }[];
  warnings: string[];
}

export interface SwarmLive {
  services: LiveSwarmService[];
  networks: LiveSwarmNetwork[];
  /** berth's swarm configs and secrets (absent: none). */
  files?: LiveSwarmFile[];
}

/** The overlay driver for Compose's default `bridge`: a stack network on a swarm spans the nodes. */
function swarmDriver(n: NetworkSpec): string {
  return n.driver === 'bridge' || n.driver === '' ? 'overlay' : n.driver;
}

export function networkBody(n: NetworkSpec): Record<string, unknown> {
  return {
    Name: n.name,
    Driver: swarmDriver(n),
    // Attachable, as the issue asks: one-off containers (`docker run --network`) and debugging can join.
    Attachable: true,
    Internal: n.internal,
    CheckDuplicate: true,
    Options: n.driverOpts,
    Labels: { ...n.labels, ...swarmObjectLabels(n.stack) },
    ...(n.ipam ? { IPAM: { Driver: n.ipam.driver, Config: n.ipam.config.map((c) => ({ Subnet: c.subnet, IPRange: c.ipRange, Gateway: c.gateway })), Options: n.ipam.options } } : {}),
  };
}

function selfHealOf(desired: DesiredState, svc: ServiceSpec): boolean {
  return svc.berth.selfHeal ?? desired.settings.stacks[svc.stack]?.selfHeal ?? desired.settings.policy.selfHeal;
}

function pruneOf(desired: DesiredState, stack: string): boolean {
  return desired.settings.stacks[stack]?.prune ?? desired.settings.policy.prune;
}

export function planSwarm(desired: DesiredState, live: SwarmLive): SwarmPlan {
  const ops: SwarmOp[] = [];
  const errors: SwarmPlan['errors'] = [];
  const warnings: string[] = [];
  const liveNets = new Map(live.networks.map((n) => [n.name, n]));
  const netNames = new Map(live.networks.map((n) => [n.id, n.name]));
  const liveSvcs = new Map(live.services.map((s) => [s.name, s]));
  const wantedNets = new Set<string>();
  const wantedSvcs = new Set<string>();

  for (const stack of desired.stacks) {
    for (const n of stack.networks) {
      wantedNets.add(n.name);
      const there = liveNets.get(n.name);
      if (n.external) {
        if (!there) errors.push({ object: n.name, message: `external network "${n.name}" does not exist on the swarm` });
        continue;
      }
      if (!there) {
        ops.push({ id: `network:${n.name}`, kind: 'network.create', wave: 'networks', stack: stack.name, object: n.name, name: n.name, body: networkBody(n), reasons: [`new ${swarmDriver(n)} network (attachable)`] });
      } else if (!isManaged(there.labels)) {
        errors.push({ object: n.name, message: `network "${n.name}" exists on the swarm but is not managed by berth (no ${LABEL.managed}=true); rename one of them` });
      } else if (there.driver !== swarmDriver(n) || there.internal !== n.internal) {
        warnings.push(`network ${n.name}: driver/internal changed in git, but a swarm network in use is not recreated by berth; remove it by hand to apply the change`);
      }
    }
    for (const svc of stack.services) planService(desired, stack, svc, liveSvcs, netNames, ops, errors, wantedSvcs);
  }

  planFiles(live, ops);

  // Prune: berth's services and networks that left git, apps before databases before networks.
  const removals: SwarmOp[] = [];
  for (const s of live.services) {
    const stack = s.labels[LABEL.stack] ?? s.labels[STACK_NAMESPACE] ?? '';
    if (wantedSvcs.has(s.name) || !isManaged(s.labels) || !pruneOf(desired, stack)) continue;
    const tier: Tier = s.labels[LABEL.tier] === 'database' ? 'database' : 'app';
    const service = s.labels[LABEL.service] ?? s.name;
    removals.push({ id: `service:${stack}/${service}`, kind: 'service.remove', wave: tier === 'database' ? 'databases' : 'apps', stack, object: `${stack}/${service}`, name: s.name, liveId: s.id, tier, reasons: ['no longer in git'] });
  }
  for (const n of live.networks) {
    const stack = n.labels[LABEL.stack] ?? '';
    if (wantedNets.has(n.name) || !isManaged(n.labels) || !pruneOf(desired, stack)) continue;
    removals.push({ id: `network:${n.name}`, kind: 'network.remove', wave: 'networks', stack, object: n.name, name: n.name, liveId: n.id, reasons: ['no longer in git'] });
  }
  removals.push(...unusedFiles(live, ops, removals));
  const removalOrder: SwarmWave[] = ['apps', 'databases', 'volumes', 'networks'];
  removals.sort((a, b) => removalOrder.indexOf(a.wave) - removalOrder.indexOf(b.wave) || (a.object < b.object ? -1 : 1));
  const waveOrder: SwarmWave[] = ['networks', 'volumes', 'databases', 'apps'];
  ops.sort((a, b) => waveOrder.indexOf(a.wave) - waveOrder.indexOf(b.wave));
  return { ops: [...ops, ...removals], errors, warnings };
}

/** Each config/secret a desired service needs and the swarm lacks: created in the volumes wave, before any service. */
function planFiles(live: SwarmLive, ops: SwarmOp[]): void {
  const have = new Set((live.files ?? []).map((f) => `${f.kind}\0${f.name}`));
  const seen = new Set<string>();
  for (const op of [...ops]) {
    if (op.kind !== 'service.create' && op.kind !== 'service.update') continue;
    if (op.kind === 'service.update' && op.held) continue;
    for (const f of op.service.files) {
      const key = `${f.kind}\0${f.objectName}`;
      if (have.has(key) || seen.has(key)) continue;
      seen.add(key);
      ops.push({ id: `${f.kind}:${f.objectName}`, kind: 'file.create', wave: 'volumes', stack: f.stack, object: f.objectName, file: f, reasons: [`new swarm ${f.kind} from ${f.path} (named by its content)`] });
    }
  }
}

/**
 * berth's configs/secrets no service will use once the plan ran: removed
 * last (a rotated file's old object, one whose stack left git). One that a
 * service keeps using (no update planned for it) stays.
 */
function unusedFiles(live: SwarmLive, ops: SwarmOp[], removals: SwarmOp[]): SwarmOp[] {
  const replaced = new Set([...ops, ...removals].flatMap((o) => (o.kind === 'service.update' && !o.held ? [o.liveId] : o.kind === 'service.remove' ? [o.liveId] : [])));
  const used = new Set<string>();
  for (const s of live.services) if (!replaced.has(s.id)) for (const f of liveShape(s.spec, new Map()).files) used.add(`${f.kind}\0${f.name}`);
  for (const o of ops) if (o.kind === 'service.create' || (o.kind === 'service.update' && !o.held)) for (const f of o.service.files) used.add(`${f.kind}\0${f.objectName}`);
  return (live.files ?? [])
    .filter((f) => isManaged(f.labels) && !used.has(`${f.kind}\0${f.name}`))
    .map((f) => ({ id: `${f.kind}:${f.name}`, kind: 'file.remove' as const, wave: 'volumes' as const, stack: f.labels[LABEL.stack] ?? '', object: f.name, fileKind: f.kind, name: f.name, liveId: f.id, reasons: ['no service uses it any more'] }));
}

function planService(
  desired: DesiredState,
  stack: DesiredStack,
  svc: ServiceSpec,
  liveSvcs: Map<string, LiveSwarmService>,
  netNames: ReadonlyMap<string, string>,
  ops: SwarmOp[],
  errors: SwarmPlan['errors'],
  wanted: Set<string>,
): void {
  const name = swarmServiceName(stack.name, svc.name);
  const object = `${stack.name}/${svc.name}`;
  wanted.add(name);
  const { shape, unsupported, files } = desiredShape(svc);
  if (unsupported.length > 0) {
    errors.push({ object, message: `not supported on a swarm host: ${unsupported.join(', ')}` });
    return;
  }
  const plan: SwarmServicePlan = {
    stack: stack.name,
    service: svc.name,
    name,
    tier: svc.berth.tier,
    shape,
    configHash: shapeHash(shape),
    dependsOn: svc.dependsOn.map((d) => swarmServiceName(stack.name, d.service)),
    files,
  };
  const wave: SwarmWave = svc.berth.tier === 'database' ? 'databases' : 'apps';
  const base = { id: `service:${object}`, wave, stack: stack.name, object };
  const there = liveSvcs.get(name);
  if (!there) {
    ops.push({ ...base, kind: 'service.create', service: plan, reasons: [`new ${shape.mode === 'global' ? 'global service' : `service, ${shape.mode.replicated} ${shape.mode.replicated === 1 ? 'replica' : 'replicas'}`}`] });
    return;
  }
  if (!isManaged(there.labels)) {
    errors.push({ object, message: `service "${name}" exists on the swarm but is not managed by berth (no ${LABEL.managed}=true); remove or rename it` });
    return;
  }
  const now = liveShape(there.spec, netNames);
  const diff = shapeDiff(now, shape);
  const labelHash = there.labels[LABEL.configHash];
  if (diff.length === 0 && labelHash === plan.configHash) return;
  // The service still says it runs git's last spec but does not: someone changed it by hand.
  const byHand = labelHash !== undefined && shapeHash(now) !== labelHash;
  const drift = byHand && labelHash === plan.configHash;
  const reasons = diff.length > 0 ? diff.map((d) => (byHand ? `changed by hand: ${d}` : d)) : ['config-hash label out of date'];
  const held = drift && !selfHealOf(desired, svc);
  ops.push({ ...base, kind: 'service.update', service: plan, liveId: there.id, drift, held, reasons: held ? [...reasons, 'selfHeal off: reported, not undone'] : reasons });
}
