import { LABEL } from '../labels.js';
import type { SwarmMount, SwarmShape, SwarmUpdateShape } from './shape.js';

/**
 * A shape ⇄ the Engine API's ServiceSpec (`POST /services/create`, `…/update`).
 * Writing adds the labels that make the service a stack's (`docker stack ps`
 * shows it) and berth's own; reading drops them again and turns network ids
 * back into names, so a live service reads as the shape it was written from —
 * or as whatever a hand edit made of it.
 */
export const STACK_NAMESPACE = 'com.docker.stack.namespace';
/** Where a secret with a relative file name lands in the container. */
const SECRETS_DIR = '/run/secrets/';
const STACK_IMAGE = 'com.docker.stack.image';

type Json = Record<string, unknown>;

export interface SpecIdentity {
  stack: string;
  service: string;
  /** `<stack>_<service>`. */
  name: string;
  tier: 'database' | 'app';
  configHash: string;
  revision: string | null;
}

/** The labels every object berth makes on a swarm carries. */
export function swarmObjectLabels(stack: string): Record<string, string> {
  return { [STACK_NAMESPACE]: stack, [LABEL.managed]: 'true', [LABEL.stack]: stack };
}

/** `networkIds`, `fileIds`: name → id of the networks and swarm configs/secrets the spec refers to. */
export function engineServiceSpec(shape: SwarmShape, id: SpecIdentity, networkIds: ReadonlyMap<string, string>, fileIds: ReadonlyMap<string, string> = new Map()): Json {
  const own = swarmObjectLabels(id.stack);
  const containerSpec: Json = {
    Image: shape.image,
    Labels: { ...shape.labels, ...own, [LABEL.service]: id.service, [LABEL.configHash]: id.configHash },
    Env: shape.env,
    StopGracePeriod: shape.stopGracePeriodNs,
    ReadOnly: shape.readOnly,
    TTY: shape.tty,
    Mounts: shape.mounts.map((m) => mountBody(m, id.stack)),
  };
  if (shape.entrypoint !== null) containerSpec.Command = shape.entrypoint;
  if (shape.command !== null) containerSpec.Args = shape.command;
  if (shape.user !== null) containerSpec.User = shape.user;
  if (shape.workingDir !== null) containerSpec.Dir = shape.workingDir;
  if (shape.hostname !== null) containerSpec.Hostname = shape.hostname;
  if (shape.stopSignal !== null) containerSpec.StopSignal = shape.stopSignal;
  if (shape.init !== null) containerSpec.Init = shape.init;
  if (shape.capAdd.length > 0) containerSpec.CapabilityAdd = shape.capAdd;
  if (shape.capDrop.length > 0) containerSpec.CapabilityDrop = shape.capDrop;
  if (Object.keys(shape.sysctls).length > 0) containerSpec.Sysctls = shape.sysctls;
  const fileRef = (f: SwarmShape['files'][number]) => ({
    File: { Name: f.kind === 'secret' && f.target.startsWith(SECRETS_DIR) ? f.target.slice(SECRETS_DIR.length) : f.target, UID: '0', GID: '0', Mode: 0o444 },
    [f.kind === 'config' ? 'ConfigID' : 'SecretID']: fileIds.get(f.name) ?? f.name,
    [f.kind === 'config' ? 'ConfigName' : 'SecretName']: f.name,
  });
  const configs = shape.files.filter((f) => f.kind === 'config');
  const secrets = shape.files.filter((f) => f.kind === 'secret');
  if (configs.length > 0) containerSpec.Configs = configs.map(fileRef);
  if (secrets.length > 0) containerSpec.Secrets = secrets.map(fileRef);
  if (shape.healthcheck) {
    const h = shape.healthcheck;
    containerSpec.Healthcheck = { ...(h.test ? { Test: h.test } : {}), Interval: h.intervalNs, Timeout: h.timeoutNs, StartPeriod: h.startPeriodNs, Retries: h.retries };
  }
  const taskTemplate: Json = {
    ContainerSpec: containerSpec,
    Resources: {
      Limits: { NanoCPUs: shape.limits.nanoCpus, MemoryBytes: shape.limits.memoryBytes, Pids: shape.limits.pids },
      Reservations: { NanoCPUs: shape.reservations.nanoCpus, MemoryBytes: shape.reservations.memoryBytes },
    },
    RestartPolicy: { Condition: shape.restart.condition, Delay: shape.restart.delayNs, MaxAttempts: shape.restart.maxAttempts, Window: shape.restart.windowNs },
    Placement: {
      Constraints: shape.placement.constraints,
      Preferences: shape.placement.preferences.map((p) => ({ Spread: { SpreadDescriptor: p } })),
      MaxReplicas: shape.placement.maxReplicas,
    },
    Networks: shape.networks.map((n) => ({ Target: networkIds.get(n.name) ?? n.name, Aliases: n.aliases })),
  };
  if (shape.logging) taskTemplate.LogDriver = { Name: shape.logging.driver, Options: shape.logging.options };
  return {
    Name: id.name,
    Labels: {
      ...shape.serviceLabels,
      ...own,
      [STACK_IMAGE]: shape.image,
      [LABEL.service]: id.service,
      [LABEL.tier]: id.tier,
      [LABEL.configHash]: id.configHash,
      ...(id.revision ? { [LABEL.revision]: id.revision } : {}),
    },
    TaskTemplate: taskTemplate,
    Mode: shape.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: shape.mode.replicated } },
    UpdateConfig: updateBody(shape.update),
    RollbackConfig: updateBody(shape.rollback),
    EndpointSpec: {
      Mode: shape.endpointMode,
      Ports: shape.ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.target, ...(p.published !== null ? { PublishedPort: p.published } : {}), PublishMode: p.mode })),
    },
  };
}

function mountBody(m: SwarmMount, stack: string): Json {
  if (m.type === 'tmpfs') return { Type: 'tmpfs', Target: m.target, TmpfsOptions: { SizeBytes: m.sizeBytes, Mode: m.mode } };
  if (m.type === 'bind') return { Type: 'bind', Source: m.source, Target: m.target, ReadOnly: m.readOnly };
  // Each node's engine creates the volume when a task first mounts it: with these labels it is berth's and the stack's.
  return { Type: 'volume', Source: m.source, Target: m.target, ReadOnly: m.readOnly, VolumeOptions: { Labels: swarmObjectLabels(stack) } };
}

function updateBody(u: SwarmUpdateShape): Json {
  return { Parallelism: u.parallelism, Delay: u.delayNs, FailureAction: u.failureAction, Monitor: u.monitorNs, MaxFailureRatio: u.maxFailureRatio, Order: u.order };
}

// ---- reading a live spec back -------------------------------------------------

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const optStrs = (v: unknown): string[] | null => (Array.isArray(v) ? v.map(String) : null);
const optStr = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]));
const isOwnLabel = (k: string) => k.startsWith('io.berth.') || k.startsWith('com.docker.stack.');
const withoutOwn = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([k]) => !isOwnLabel(k)));

/** A live service's spec as a shape (`networkNames`: network id → name). */
export function liveShape(spec: unknown, networkNames: ReadonlyMap<string, string>): SwarmShape {
  const s = obj(spec);
  const tt = obj(s.TaskTemplate);
  const cs = obj(tt.ContainerSpec);
  const hc = cs.Healthcheck === undefined ? null : obj(cs.Healthcheck);
  const res = obj(tt.Resources);
  const lim = obj(res.Limits);
  const resv = obj(res.Reservations);
  const rp = obj(tt.RestartPolicy);
  const pl = obj(tt.Placement);
  const mode = obj(s.Mode);
  const ep = obj(s.EndpointSpec);
  const log = tt.LogDriver === undefined ? null : obj(tt.LogDriver);
  return {
    image: String(cs.Image ?? ''),
    entrypoint: optStrs(cs.Command),
    command: optStrs(cs.Args),
    env: strs(cs.Env).sort(),
    user: optStr(cs.User),
    workingDir: optStr(cs.Dir),
    hostname: optStr(cs.Hostname),
    labels: withoutOwn(strMap(cs.Labels)),
    mounts: (Array.isArray(cs.Mounts) ? cs.Mounts : []).map(obj).map(liveMount).sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)),
    networks: (Array.isArray(tt.Networks) ? tt.Networks : [])
      .map(obj)
      .map((n) => ({ name: networkNames.get(String(n.Target)) ?? String(n.Target), aliases: strs(n.Aliases).sort() }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    healthcheck: hc ? { test: optStrs(hc.Test), intervalNs: num(hc.Interval), timeoutNs: num(hc.Timeout), startPeriodNs: num(hc.StartPeriod), retries: num(hc.Retries) } : null,
    stopGracePeriodNs: num(cs.StopGracePeriod),
    stopSignal: optStr(cs.StopSignal),
    readOnly: cs.ReadOnly === true,
    init: typeof cs.Init === 'boolean' ? cs.Init : null,
    tty: cs.TTY === true,
    capAdd: strs(cs.CapabilityAdd),
    capDrop: strs(cs.CapabilityDrop),
    sysctls: strMap(cs.Sysctls),
    logging: log ? { driver: String(log.Name ?? ''), options: strMap(log.Options) } : null,
    mode: mode.Global !== undefined ? 'global' : { replicated: num(obj(mode.Replicated).Replicas) },
    placement: {
      constraints: strs(pl.Constraints).sort(),
      preferences: (Array.isArray(pl.Preferences) ? pl.Preferences : []).map((p) => String(obj(obj(p).Spread).SpreadDescriptor ?? '')),
      maxReplicas: num(pl.MaxReplicas),
    },
    limits: { nanoCpus: num(lim.NanoCPUs), memoryBytes: num(lim.MemoryBytes), pids: num(lim.Pids) },
    reservations: { nanoCpus: num(resv.NanoCPUs), memoryBytes: num(resv.MemoryBytes) },
    restart: { condition: (optStr(rp.Condition) ?? 'any') as SwarmShape['restart']['condition'], delayNs: num(rp.Delay), maxAttempts: num(rp.MaxAttempts), windowNs: num(rp.Window) },
    update: liveUpdate(s.UpdateConfig),
    rollback: liveUpdate(s.RollbackConfig),
    endpointMode: ep.Mode === 'dnsrr' ? 'dnsrr' : 'vip',
    ports: (Array.isArray(ep.Ports) ? ep.Ports : [])
      .map(obj)
      .map((p) => ({ target: num(p.TargetPort), published: typeof p.PublishedPort === 'number' ? p.PublishedPort : null, protocol: String(p.Protocol ?? 'tcp'), mode: p.PublishMode === 'host' ? ('host' as const) : ('ingress' as const) }))
      .sort((a, b) => a.target - b.target || (a.published ?? 0) - (b.published ?? 0)),
    serviceLabels: withoutOwn(strMap(s.Labels)),
    files: [
      ...(Array.isArray(cs.Configs) ? cs.Configs : []).map(obj).map((c) => ({ kind: 'config' as const, name: String(c.ConfigName ?? ''), target: String(obj(c.File).Name ?? '') })),
      ...(Array.isArray(cs.Secrets) ? cs.Secrets : []).map(obj).map((c) => {
        const file = String(obj(c.File).Name ?? '');
        return { kind: 'secret' as const, name: String(c.SecretName ?? ''), target: file.startsWith('/') ? file : SECRETS_DIR + file };
      }),
    ].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)),
  };
}

function liveMount(m: Json): SwarmMount {
  const target = String(m.Target ?? '');
  if (m.Type === 'tmpfs') {
    const t = obj(m.TmpfsOptions);
    return { type: 'tmpfs', target, sizeBytes: num(t.SizeBytes), mode: num(t.Mode) };
  }
  return { type: m.Type === 'bind' ? 'bind' : 'volume', source: String(m.Source ?? ''), target, readOnly: m.ReadOnly === true };
}

function liveUpdate(v: unknown): SwarmUpdateShape {
  const u = obj(v);
  const fa = u.FailureAction;
  return {
    parallelism: num(u.Parallelism),
    delayNs: num(u.Delay),
    failureAction: fa === 'rollback' || fa === 'continue' ? fa : 'pause',
    monitorNs: num(u.Monitor),
    maxFailureRatio: num(u.MaxFailureRatio),
    order: u.Order === 'start-first' ? 'start-first' : 'stop-first',
  };
}
