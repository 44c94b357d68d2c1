import { canonicalJson } from '../src/compose/hash.js';
import { secretMountReasons } from './secret-mounts.js';
import { fileReasons } from '../src/files/reasons.js';
import { isStatefulImage } from '../src/compose/tier.js';
import { hostPortText } from '../src/compose/ports.js';
import { LABEL, RETIRED_SUFFIX, TEMP_SUFFIX, isManaged } from '../src/labels.js';
import type { AppliedRecord, RedactedServiceSpec } from '../src/model/applied.js';
import type {
  DesiredStack,
  DesiredState,
  HealthcheckSpec,
  MountSpec,
  PortSpec,
  ResourcesSpec,
  RolloutStrategy,
  ServiceNetwork,
  ServiceSpec,
  Tier,
} from '../src/model/desired.js';
import type { LiveContainer, LiveState } from '../src/model/live.js';
import { decideImage, type ImageDecision } from './image.js';
import { containerNumber } from '../src/model/replicas.js';
import type {
  ContainerCleanupOp,
  PlanError,
  ServiceConnectOp,
  ServiceCreateOp,
  ServiceRecreateOp,
  ServiceRemoveOp,
  ServiceStartOp,
  Wave,
} from '../src/model/plan.js';
import {
  cmp,
  controllerContext,
  describeContainer,
  emptyResult,
  hashEnvValue,
  normalizeImageRef,
  notInInventory,
  pruneEnabled,
  serviceKey,
  shortHash,
  type ControllerContext,
  type ControllerResult,
} from './context.js';
import { claimedByScale, planReplicas } from './replicas.js';

/**
 * Services, shared by both tiers (database.ts is the database-tier entry
 * point). For each desired service the live container is the one named
 * `spec.containerName`; its `io.berth.config-hash` label decides:
 *
 *   missing                     → service.create
 *   unmanaged                   → error (berth never touches it)
 *   hash differs (or dead)      → service.recreate, with the differences as reasons
 *   same hash, not running      → service.start (not a one-shot that did its job)
 *   same hash, wrong networks   → service.connect
 *
 * Leftovers of an interrupted rollout (`*_berth_tmp`, `*_berth_old`) are
 * cleaned up, or the old one stands in for a missing container. Managed
 * containers whose service left the repository are pruned.
 */

/** A rule that may force a different rollout strategy than `x-berth.rollout`, with the reason. */
export type StrategyRule = (spec: ServiceSpec) => { strategy: RolloutStrategy; reason: string } | null;

export interface TierOptions {
  /** Extra strategy rules, tried after the built-in ones. */
  strategyRules?: StrategyRule[];
}

export function waveOf(tier: Tier): Wave {
  return tier === 'database' ? 'databases' : 'apps';
}

/** The app-tier entry point: every desired app service, plus app-tier leftovers and prune. */
export function planApps(
  desired: DesiredState,
  live: LiveState,
  applied: AppliedRecord | null,
  ctx: ControllerContext = controllerContext(desired, live, applied),
): ControllerResult {
  return planServiceTier('app', ctx);
}

/** Ops for every desired service of `tier` and for the managed containers of that tier nobody wants. */
export function planServiceTier(tier: Tier, ctx: ControllerContext, opts: TierOptions = {}): ControllerResult {
  const out = emptyResult();
  for (const stack of ctx.stacks) {
    for (const spec of stack.services) {
      if (spec.berth.tier !== tier) continue;
      merge(out, planReplicas(spec, ctx, (replica) => planService(replica, stack, ctx, opts), waveOf(tier)));
    }
  }
  merge(out, planContainerPrune(tier, ctx));
  return out;
}

/** Ops for one desired service. */
export function planService(spec: ServiceSpec, stack: DesiredStack, ctx: ControllerContext, opts: TierOptions = {}): ControllerResult {
  const out = emptyResult();
  const wave = waveOf(spec.berth.tier);
  const canonical = ctx.containers.get(spec.containerName);
  const tmp = ctx.containers.get(spec.containerName + TEMP_SUFFIX);
  const old = ctx.containers.get(spec.containerName + RETIRED_SUFFIX);

  if (tmp && isManaged(tmp.labels)) out.ops.push(cleanupOp(tmp, spec.stack, wave, 'leftover of an interrupted rollout'));

  if (canonical && !isManaged(canonical.labels)) {
    out.errors.push(
      serviceError(
        'container-unmanaged',
        spec,
        `container ${describeContainer(canonical)} exists but is not managed by berth; remove or rename it, or give the service another container_name`,
      ),
    );
    return out;
  }

  let current = canonical;
  let standIn = false;
  if (old && isManaged(old.labels)) {
    if (canonical && proven(canonical)) out.ops.push(cleanupOp(old, spec.stack, wave, `leftover of an interrupted rollout; ${spec.containerName} exists`));
    else if (canonical) {
      // A crash after the new container was made and before it proved itself: the old one is the
      // way back, so keep it and replace the unproven one through a health-gated rollout again
      // (pruning the old one would leave e.g. a never-healthy database with no rollback).
      out.ops.push(cleanupOp(canonical, spec.stack, wave, `unproven new container of an interrupted rollout; ${old.name} stands in until a new one is healthy`));
      current = old;
      standIn = true;
    } else {
      // A crash mid-recreate left only the retired container: it is the service now.
      current = old;
      standIn = true;
    }
  }

  if (!current) {
    const image = imageFor(spec, ctx, out);
    const op: ServiceCreateOp = {
      kind: 'service.create',
      ...base(spec, wave, 'create'),
      reasons: ['missing', ...image.reasons],
      service: secretSafe(spec),
      pull: image.image.pullRef !== null,
      image: image.image,
    };
    out.ops.push(op);
    return out;
  }

  const liveHash = current.labels[LABEL.configHash];
  const recovering = standIn ? [`recovering ${current.name} after an interrupted rollout`] : [];
  if (liveHash !== spec.configHash || current.state === 'dead') {
    const reasons =
      liveHash === spec.configHash ? [`dead (${current.status || 'Dead'})`] : recreateReasons(spec, current, ctx);
    out.ops.push(recreateOp(spec, current, wave, [...recovering, ...reasons], ctx, out, opts));
    return out;
  }

  switch (current.state) {
    case 'running': {
      const peek = standIn ? null : decideImage(spec, ctx.imageIndex, true, ctx.imageInputs, current);
      if (peek?.moved) {
        out.ops.push(recreateOp(spec, current, wave, [peek.moved], ctx, out, opts));
        return out;
      }
      out.warnings.push(...(peek?.warnings ?? []));
      if (standIn) {
        // Same config, but under the retired name: recreate restores the canonical name.
        out.ops.push(recreateOp(spec, current, wave, [`running as ${current.name} after an interrupted rollout: recreate as ${spec.containerName}`], ctx, out, opts));
        return out;
      }
      const connect = networkDrift(spec, current);
      if (connect) {
        const op: ServiceConnectOp = {
          kind: 'service.connect',
          ...base(spec, wave, 'update'),
          reasons: [connect.reason],
          service: secretSafe(spec),
          containerId: current.id,
          connect: connect.connect,
          disconnect: connect.disconnect,
        };
        out.ops.push(op);
      }
      return out;
    }
    case 'exited':
    case 'created': {
      if (current.state === 'exited' && exitCode(current.status) === 0 && isCompletionTarget(spec, stack)) return out;
      const halfMade = current.state === 'created' ? networkDrift(spec, current) : null;
      if (halfMade) {
        // Before API 1.44 a container joins one network at create and the others by
        // connect calls; a crash in between leaves a never-started container short of
        // networks. Starting it would converge only in a second pass (then connect);
        // it never ran, so nothing is lost by replacing it now.
        const reason = `created but never started, ${halfMade.reason} (an interrupted create)`;
        out.ops.push(recreateOp(spec, current, wave, [...recovering, reason], ctx, out, opts));
        return out;
      }
      const why = current.state === 'created' ? `created but never started (${current.status || 'Created'})` : `stopped (${current.status || 'Exited'})`;
      const op: ServiceStartOp = {
        kind: 'service.start',
        ...base(spec, wave, 'start'),
        reasons: [...recovering, why],
        service: secretSafe(spec),
        containerId: current.id,
      };
      out.ops.push(op);
      return out;
    }
    default:
      // paused, restarting (a crash loop), removing: starting would not help; drift reports them.
      out.warnings.push(`${spec.stack}/${spec.name}: container ${current.name} is ${current.state} (${current.status}); berth leaves it as it is`);
      return out;
  }
}

/** Running, and healthy when it has a healthcheck: the new container of a rollout that got this far needs no second look. */
function proven(c: LiveContainer): boolean {
  return c.state === 'running' && c.health !== 'starting' && c.health !== 'unhealthy';
}

function base(spec: ServiceSpec, wave: Wave, action: 'create' | 'recreate' | 'start' | 'update') {
  return {
    id: `service:${spec.stack}/${spec.name}`,
    wave,
    action,
    stack: spec.stack,
    object: `${spec.stack}/${spec.name}`,
    after: [] as string[],
  };
}

function recreateOp(
  spec: ServiceSpec,
  current: LiveContainer,
  wave: Wave,
  reasons: string[],
  ctx: ControllerContext,
  out: ControllerResult,
  opts: TierOptions,
): ServiceRecreateOp {
  const { strategy, reason } = effectiveStrategy(spec, opts.strategyRules);
  // Both strategies park a container under these names for a while.
  for (const suffix of [TEMP_SUFFIX, RETIRED_SUFFIX]) {
    const squatter = ctx.containers.get(spec.containerName + suffix);
    if (squatter && !isManaged(squatter.labels)) {
      out.errors.push(
        serviceError('container-unmanaged', spec, `container ${describeContainer(squatter)} is not managed by berth and takes the name a rollout of ${spec.containerName} needs; remove or rename it`),
      );
    }
  }
  const image = imageFor(spec, ctx, out, current);
  // A pin says more than `image a → b`: it takes that reason's place.
  const at = reasons.findIndex((r) => r.startsWith('image '));
  const why = image.reasons.length === 0 ? reasons : at >= 0 ? [...reasons.slice(0, at), ...image.reasons, ...reasons.slice(at + 1)] : [...reasons, ...image.reasons];
  return {
    kind: 'service.recreate',
    ...base(spec, wave, 'recreate'),
    reasons: reason ? [...why, reason] : why,
    service: secretSafe(spec),
    pull: image.image.pullRef !== null,
    image: image.image,
    old: { id: current.id, name: current.name },
    strategy,
  };
}

/**
 * `x-berth.rollout`, unless the service cannot run twice: a published host
 * port or a fixed IP address would be taken by the old container (PRODUCT.md §8).
 */
export function effectiveStrategy(spec: ServiceSpec, rules: StrategyRule[] = []): { strategy: RolloutStrategy; reason: string | null } {
  if (spec.berth.rollout !== 'start-first') return { strategy: spec.berth.rollout, reason: null };
  if (spec.ports.some((p) => p.published !== null)) {
    return { strategy: 'recreate', reason: 'publishes host ports: recreate instead of start-first' };
  }
  if (spec.networks.some((n) => n.ipv4Address !== null || n.ipv6Address !== null)) {
    return { strategy: 'recreate', reason: 'fixed IP address: recreate instead of start-first' };
  }
  for (const rule of rules) {
    const r = rule(spec);
    if (r) return r;
  }
  return { strategy: 'start-first', reason: null };
}

/** The image decision (controllers/image.ts), its errors and warnings added to the plan. */
function imageFor(spec: ServiceSpec, ctx: ControllerContext, out: ControllerResult, current?: LiveContainer): ImageDecision {
  const d = decideImage(spec, ctx.imageIndex, ctx.images.has(normalizeImageRef(spec.image)), ctx.imageInputs, current);
  for (const e of d.errors) out.errors.push(serviceError('image-missing', spec, e));
  out.warnings.push(...d.warnings);
  return d;
}

function exitCode(status: string): number | null {
  const m = /^Exited \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : null;
}

/** A one-shot whose success another service waits for: exited 0 is its finished state. */
function isCompletionTarget(spec: ServiceSpec, stack: DesiredStack): boolean {
  return stack.services.some((s) => s.dependsOn.some((d) => d.service === spec.name && d.condition === 'service_completed_successfully'));
}

function networkDrift(spec: ServiceSpec, c: LiveContainer): { reason: string; connect: ServiceNetwork[]; disconnect: string[] } | null {
  if (spec.networkMode !== null) return null;
  const have = new Set(c.networks);
  const want = new Set(spec.networks.map((n) => n.name));
  const connect = spec.networks.filter((n) => !have.has(n.name));
  const disconnect = [...have].filter((n) => !want.has(n)).sort(cmp);
  if (connect.length === 0 && disconnect.length === 0) return null;
  return { reason: networksReason(connect.map((n) => n.name), disconnect, []), connect, disconnect };
}

// ---------------------------------------------------------------- reasons

/**
 * Why a container with another config hash is replaced. With the last-applied
 * spec that produced the live container, field by field; without it, what the
 * container list shows (image, networks); else the two hashes.
 */
export function recreateReasons(spec: ServiceSpec, current: LiveContainer, ctx: ControllerContext): string[] {
  const liveHash = current.labels[LABEL.configHash];
  const before = ctx.applied?.services.get(serviceKey(spec.stack, spec.name));
  let reasons: string[];
  if (ctx.applied && before && liveHash !== undefined && before.configHash === liveHash) {
    // The record keeps replica 1's spec; another replica differs from it only in its name.
    reasons = specDifferences(before, containerNumber(spec) > 1 ? { ...spec, containerName: before.containerName } : spec, ctx.applied.salt);
  } else {
    reasons = listDifferences(current, spec);
  }
  return reasons.length > 0 ? reasons : [`configuration changed (${shortHash(liveHash)} → ${shortHash(spec.configHash)})`];
}

/** What the container list shows that differs from the spec. */
export function listDifferences(c: LiveContainer, spec: ServiceSpec): string[] {
  const reasons: string[] = [];
  if (!c.image.startsWith('sha256:') && normalizeImageRef(c.image) !== normalizeImageRef(spec.image)) {
    reasons.push(`image ${c.image} → ${spec.image}`);
  }
  if (spec.networkMode === null) {
    const want = new Set(spec.networks.map((n) => n.name));
    const have = new Set(c.networks);
    const added = [...want].filter((n) => !have.has(n)).sort(cmp);
    const removed = [...have].filter((n) => !want.has(n)).sort(cmp);
    if (added.length + removed.length > 0) reasons.push(networksReason(added, removed, []));
  }
  return reasons;
}

/** The fields the config hash does not cover, or that are compared on their own. */
const NOT_COMPARED = new Set<string>(['stack', 'name', 'pullPolicy', 'pullIntervalSeconds', 'dependsOn', 'berth', 'configHash', 'replicas', 'updateConfig']);
const OWN_RULE = [
  'image',
  'entrypoint',
  'command',
  'environment',
  'ports',
  'expose',
  'mounts',
  'networkMode',
  'networks',
  'healthcheck',
  'restart',
  'labels',
  'user',
  'resources',
  'files',
] as const;
const COMPOSE_NAME: Record<string, string> = {
  containerName: 'container_name',
  networkMode: 'network_mode',
  stopGracePeriodSeconds: 'stop_grace_period',
  shmSizeBytes: 'shm_size',
  pidMode: 'pid',
  ipcMode: 'ipc',
};

const composeNames = new Map<string, string>();
function composeName(field: string): string {
  let n = composeNames.get(field);
  if (n === undefined) {
    n = COMPOSE_NAME[field] ?? field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    composeNames.set(field, n);
  }
  return n;
}

/**
 * Field-by-field differences between the last-applied spec and the desired
 * one, as short phrases. Environment values are compared through their
 * salted hashes and never printed; so are command lines, label values and
 * other free text that may carry interpolated secrets — only their names.
 */
export function specDifferences(before: RedactedServiceSpec, after: ServiceSpec, salt: string): string[] {
  const r: string[] = [];
  if (before.image !== after.image) r.push(`image ${before.image} → ${after.image}`);
  if (!same(before.entrypoint, after.entrypoint)) r.push('entrypoint changed');
  if (!same(before.command, after.command)) r.push('command changed');
  r.push(...envReasons(before.environment, after.environment, salt));
  if (!same(before.ports, after.ports)) r.push(`ports ${portList(before.ports)} → ${portList(after.ports)}`);
  if (!same(before.expose, after.expose)) r.push(`expose ${list(before.expose)} → ${list(after.expose)}`);
  const secrets = secretMountReasons(before.mounts, after.mounts);
  r.push(...secrets.reasons);
  const mounts = mountsReason(secrets.before, secrets.after);
  if (mounts) r.push(mounts);
  if (before.networkMode !== after.networkMode) r.push(`network_mode ${before.networkMode ?? 'default'} → ${after.networkMode ?? 'default'}`);
  const nets = serviceNetworksReason(before.networks, after.networks);
  if (nets) r.push(nets);
  const hc = healthcheckReason(before.healthcheck, after.healthcheck);
  if (hc) r.push(hc);
  if (before.restart !== after.restart) r.push(`restart ${before.restart} → ${after.restart}`);
  const labels = keyedReason('labels', before.labels, after.labels);
  if (labels) r.push(labels);
  if (before.user !== after.user) r.push('user changed');
  r.push(...resourcesReasons(before.resources, after.resources));
  r.push(...fileReasons(before.files, after.files, salt));

  const skip = new Set<string>([...NOT_COMPARED, ...OWN_RULE]);
  const others = Object.keys(after)
    .filter((k) => !skip.has(k))
    .sort((a, b) => cmp(composeName(a), composeName(b)));
  for (const k of others) {
    const a = (before as unknown as Record<string, unknown>)[k];
    const b = (after as unknown as Record<string, unknown>)[k];
    if (same(a, b)) continue;
    r.push(scalarReason(k, a, b));
  }
  return r;
}

function scalarReason(field: string, a: unknown, b: unknown): string {
  const name = composeName(field);
  const printable = (v: unknown) => v === null || v === undefined || typeof v === 'boolean' || typeof v === 'number';
  if (!printable(a) || !printable(b)) return `${name} changed`;
  const fmt = (v: unknown) => {
    if (v === null || v === undefined) return 'unset';
    if (field === 'stopGracePeriodSeconds') return `${String(v)}s`;
    if (field === 'shmSizeBytes') return bytes(v as number);
    return String(v);
  };
  return `${name} ${fmt(a)} → ${fmt(b)}`;
}

/** `env KEY added|removed|changed (value hidden)`, one per key, keys sorted. Values never leave this function. */
export function envReasons(before: Record<string, string>, after: Record<string, string | null>, salt: string): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(cmp);
  const out: string[] = [];
  for (const k of keys) {
    const had = Object.prototype.hasOwnProperty.call(before, k) ? before[k] : undefined;
    const wants = Object.prototype.hasOwnProperty.call(after, k) ? after[k] : undefined;
    if (had === undefined && (wants === undefined || wants === null)) continue;
    if (had === undefined) out.push(`env ${k} added`);
    else if (wants === undefined || wants === null) out.push(`env ${k} removed`);
    else if (hashEnvValue(salt, wants) !== had) out.push(`env ${k} changed (value hidden)`);
  }
  return out;
}

export function formatPort(p: PortSpec): string {
  const ip = p.hostIp ? (p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp) : '';
  const host = p.published !== null ? `${hostPortText(p)}:` : ip ? ':' : '';
  return `${ip ? `${ip}:` : ''}${host}${p.target}/${p.protocol}`;
}

function portList(ports: PortSpec[]): string {
  return ports.length === 0 ? 'none' : ports.map(formatPort).join(', ');
}

function mountsReason(before: MountSpec[], after: MountSpec[]): string | null {
  const a = new Map(before.map((m) => [m.target, canonicalJson(m)]));
  const b = new Map(after.map((m) => [m.target, canonicalJson(m)]));
  return plusMinus('mounts', a, b);
}

function serviceNetworksReason(before: ServiceNetwork[], after: ServiceNetwork[]): string | null {
  // The key the file used does not reach Docker; compare what does.
  const strip = ({ key: _key, ...n }: ServiceNetwork) => canonicalJson(n);
  const a = new Map(before.map((n) => [n.name, strip(n)]));
  const b = new Map(after.map((n) => [n.name, strip(n)]));
  return plusMinus('networks', a, b);
}

function keyedReason(what: string, before: Record<string, string>, after: Record<string, string>): string | null {
  return plusMinus(what, new Map(Object.entries(before)), new Map(Object.entries(after)));
}

/** `what +added -removed ~changed`, each group sorted; null when equal. */
function plusMinus(what: string, before: Map<string, string>, after: Map<string, string>): string | null {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort(cmp);
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort(cmp);
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort(cmp);
  if (added.length + removed.length + changed.length === 0) return null;
  return [what, ...added.map((k) => `+${k}`), ...removed.map((k) => `-${k}`), ...changed.map((k) => `~${k}`)].join(' ');
}

function networksReason(added: string[], removed: string[], changed: string[]): string {
  return ['networks', ...added.map((k) => `+${k}`), ...removed.map((k) => `-${k}`), ...changed.map((k) => `~${k}`)].join(' ');
}

function healthcheckReason(a: HealthcheckSpec | null, b: HealthcheckSpec | null): string | null {
  if (same(a, b)) return null;
  if (a === null) return 'healthcheck set';
  if (b === null) return "healthcheck removed (the image's applies)";
  if (a.disable !== b.disable) return b.disable ? 'healthcheck disabled' : 'healthcheck enabled';
  if (a.disable || b.disable) return null;
  const names: [keyof typeof a, string][] = [
    ['test', 'test'],
    ['intervalNs', 'interval'],
    ['timeoutNs', 'timeout'],
    ['startPeriodNs', 'start_period'],
    ['startIntervalNs', 'start_interval'],
    ['retries', 'retries'],
  ];
  const changed = names.filter(([k]) => !same(a[k], b[k])).map(([, n]) => n);
  return `healthcheck changed (${changed.join(', ')})`;
}

const RESOURCE_NAMES: [keyof ResourcesSpec, string, (v: number | boolean | string) => string][] = [
  ['memoryBytes', 'memory', (v) => bytes(v as number)],
  ['memoryReservationBytes', 'memory reservation', (v) => bytes(v as number)],
  ['memorySwapBytes', 'memswap_limit', (v) => (v === -1 ? 'unlimited' : bytes(v as number))],
  ['nanoCpus', 'cpus', (v) => String((v as number) / 1e9)],
  ['cpuReservationNano', 'cpu reservation', (v) => String((v as number) / 1e9)],
  ['cpusetCpus', 'cpuset', String],
  ['cpuShares', 'cpu_shares', String],
  ['cpuQuota', 'cpu_quota', String],
  ['cpuPeriod', 'cpu_period', String],
  ['pidsLimit', 'pids', String],
  ['memorySwappiness', 'mem_swappiness', String],
  ['oomScoreAdj', 'oom_score_adj', String],
  ['oomKillDisable', 'oom_kill_disable', String],
];

function resourcesReasons(a: ResourcesSpec, b: ResourcesSpec): string[] {
  const out: string[] = [];
  for (const [k, name, fmt] of RESOURCE_NAMES) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    const f = (v: typeof x) => (v === null || v === undefined ? 'unset' : fmt(v));
    out.push(`resources ${name} ${f(x)} → ${f(y)}`);
  }
  // A field added to ResourcesSpec later still shows up, by name.
  for (const k of Object.keys(b).sort(cmp)) {
    if (RESOURCE_NAMES.some(([n]) => n === k)) continue;
    if (!same((a as unknown as Record<string, unknown>)[k], (b as unknown as Record<string, unknown>)[k])) out.push(`resources ${composeName(k)} changed`);
  }
  return out;
}

function bytes(n: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return `${n}B`;
}

function list(xs: string[]): string {
  return xs.length === 0 ? 'none' : xs.join(', ');
}

function same(a: unknown, b: unknown): boolean {
  if (a === b || ((a === null || a === undefined) && (b === null || b === undefined))) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return canonicalJson(a) === canonicalJson(b);
}

// ---------------------------------------------------------------- prune

/**
 * Managed containers of `tier` that no desired service claims by name:
 * leftovers of services that are gone (cleaned up), containers of a service
 * that now has another container name (removed), and containers of stacks or
 * services that left the repository or whose profile is inactive (removed
 * when prune is on for their stack, else a warning).
 */
export function planContainerPrune(tier: Tier, ctx: ControllerContext): ControllerResult {
  const out = emptyResult();
  for (const c of ctx.containerList) {
    if (!isManaged(c.labels) || ctx.containerNames.has(c.name) || claimedByScale(c, ctx)) continue;
    const leftover = c.name.endsWith(TEMP_SUFFIX) ? 'tmp' : c.name.endsWith(RETIRED_SUFFIX) ? 'old' : null;
    const baseName = leftover === 'tmp' ? c.name.slice(0, -TEMP_SUFFIX.length) : leftover === 'old' ? c.name.slice(0, -RETIRED_SUFFIX.length) : c.name;
    // Leftovers of a desired service are planService's business.
    if (leftover && ctx.containerNames.has(baseName)) continue;
    const stack = c.labels[LABEL.stack] ?? c.labels[LABEL.composeProject] ?? '';
    const service = c.labels[LABEL.service] ?? c.labels[LABEL.composeService] ?? '';
    if (removalTier(c, stack, service, ctx) !== tier) continue;
    if (!ctx.inventory.has(stack)) {
      out.warnings.push(notInInventory('container', c.name, stack));
      continue;
    }
    const wave = waveOf(tier);
    if (leftover === 'tmp') {
      out.ops.push(cleanupOp(c, stack, wave, 'leftover of an interrupted rollout'));
      continue;
    }
    if (leftover === 'old' && ctx.containers.has(baseName)) {
      out.ops.push(cleanupOp(c, stack, wave, `leftover of an interrupted rollout; ${baseName} exists`));
      continue;
    }
    const spec = ctx.services.get(serviceKey(stack, service));
    if (spec) {
      // The service is desired under another container name: this one is its past.
      out.ops.push(removeOp(c, stack, service, tier, [`container name changed to ${spec.containerName}`]));
      continue;
    }
    const desiredStack = ctx.stacks.find((s) => s.name === stack);
    const reason = !desiredStack
      ? stack
        ? `stack "${stack}" is no longer in the repository`
        : 'no io.berth.stack label: not part of any stack in the repository'
      : desiredStack.inactive.includes(service)
        ? `service "${service}" is not active: none of its profiles is in COMPOSE_PROFILES`
        : `service "${service}" is no longer in ${desiredStack.file}`;
    if (!pruneEnabled(ctx.settings, stack)) {
      out.warnings.push(`container ${c.name} (${stack}/${service}): ${reason}; prune is off${stack ? ` for stack "${stack}"` : ''}, left in place`);
      continue;
    }
    out.ops.push(removeOp(c, stack, service, tier, [reason]));
  }
  return out;
}

/** The tier of a container being removed: its desired or last-applied spec's, else guessed from the image. */
function removalTier(c: LiveContainer, stack: string, service: string, ctx: ControllerContext): Tier {
  const key = serviceKey(stack, service);
  return ctx.services.get(key)?.berth.tier ?? ctx.applied?.services.get(key)?.berth.tier ?? (isStatefulImage(c.image) ? 'database' : 'app');
}

function removeOp(c: LiveContainer, stack: string, service: string, tier: Tier, reasons: string[]): ServiceRemoveOp {
  return {
    kind: 'service.remove',
    id: `container:${c.name}`,
    wave: waveOf(tier),
    action: 'remove',
    stack,
    object: service ? `${stack}/${service}` : c.name,
    reasons,
    after: [],
    service,
    tier,
    containerId: c.id,
    containerName: c.name,
  };
}

function cleanupOp(c: LiveContainer, stack: string, wave: Wave, reason: string): ContainerCleanupOp {
  return {
    kind: 'container.cleanup',
    id: `container:${c.name}`,
    wave,
    action: 'remove',
    stack,
    object: c.name,
    reasons: [reason],
    after: [],
    containerId: c.id,
    containerName: c.name,
  };
}

// ---------------------------------------------------------------- helpers

function serviceError(code: string, spec: ServiceSpec, message: string): PlanError {
  return { code, stack: spec.stack, object: spec.name, message };
}

export function merge(into: ControllerResult, from: ControllerResult): void {
  into.ops.push(...from.ops);
  into.errors.push(...from.errors);
  into.warnings.push(...from.warnings);
}

/**
 * The spec an op carries, as it is, except that serializing it (a log line,
 * `JSON.stringify(plan)`) masks every environment value: apply reads the
 * values, nothing that prints the op can.
 */
export function secretSafe(spec: ServiceSpec): ServiceSpec {
  const copy = { ...spec };
  Object.defineProperty(copy, 'toJSON', { value: redactedJson, enumerable: false, writable: false, configurable: true });
  return copy;
}

function redactedJson(this: ServiceSpec): unknown {
  const environment: Record<string, string> = {};
  for (const k of Object.keys(this.environment)) environment[k] = '(hidden)';
  const files = this.files?.map((f) => (f.kind === 'secret' ? { ...f, id: '(hidden)' } : f));
  return { ...this, environment, ...(files ? { files } : {}) };
}
