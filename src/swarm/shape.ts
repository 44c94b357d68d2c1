import { canonicalJson, sha256Hex } from '../compose/hash.js';
import { basename, dirname } from 'node:path';
import type { ServiceSpec, UpdateConfig } from '../model/desired.js';

/**
 * What berth decides about a swarm service, as plain data: the fields it
 * writes into the Engine's ServiceSpec, named (networks by name, not id) and
 * with every default spelled out. The same shape is read back from a live
 * service (src/swarm/live-shape.ts), so "what git says" and "what runs" compare
 * field by field — a change in git and a `docker service update` by hand are
 * the same kind of difference. Its hash is the service's config-hash label.
 */
export interface SwarmShape {
  image: string;
  /** Compose `entrypoint` (ContainerSpec.Command); null = the image's. */
  entrypoint: string[] | null;
  /** Compose `command` (ContainerSpec.Args); null = the image's. */
  command: string[] | null;
  /** `KEY=VALUE`, sorted. Values are secrets as far as output goes. */
  env: string[];
  user: string | null;
  workingDir: string | null;
  hostname: string | null;
  /** The container labels the file sets (berth's own are added when writing, never compared). */
  labels: Record<string, string>;
  mounts: SwarmMount[];
  /** By network name, sorted; each with the service's name among its aliases (as `docker stack deploy`). */
  networks: { name: string; aliases: string[] }[];
  healthcheck: { test: string[] | null; intervalNs: number; timeoutNs: number; startPeriodNs: number; retries: number } | null;
  stopGracePeriodNs: number;
  stopSignal: string | null;
  readOnly: boolean;
  init: boolean | null;
  tty: boolean;
  capAdd: string[];
  capDrop: string[];
  sysctls: Record<string, string>;
  logging: { driver: string; options: Record<string, string> } | null;
  mode: { replicated: number } | 'global';
  placement: { constraints: string[]; preferences: string[]; maxReplicas: number };
  limits: { nanoCpus: number; memoryBytes: number; pids: number };
  reservations: { nanoCpus: number; memoryBytes: number };
  restart: { condition: 'none' | 'on-failure' | 'any'; delayNs: number; maxAttempts: number; windowNs: number };
  update: SwarmUpdateShape;
  rollback: SwarmUpdateShape;
  endpointMode: 'vip' | 'dnsrr';
  ports: { target: number; published: number | null; protocol: string; mode: 'ingress' | 'host' }[];
  /** `deploy.labels`: on the service object. */
  serviceLabels: Record<string, string>;
  /** File-based `configs:`/`secrets:` as swarm objects, by their content-named object name, sorted by target. */
  files: { kind: 'config' | 'secret'; name: string; target: string }[];
}

/** A swarm config or secret a service needs: content from `source` (a repository file), named by its content. */
export interface SwarmFileNeed {
  kind: 'config' | 'secret';
  /** `<stack>_<name>-<12 hex of the content identity>`: swarm configs and secrets are immutable, a new content is a new name. */
  objectName: string;
  stack: string;
  /** The `configs:`/`secrets:` key. */
  key: string;
  /** Absolute path of the file on the berth host. */
  source: string;
  /** Repository-relative, for the plan (`secret <name>` for an `environment`/`content` one). */
  path: string;
  /** Plaintext berth holds in memory (a decrypted SOPS file, an `environment`/`content` secret): `source` is its material path. */
  material?: true;
}

/**
 * A `secrets:`/`configs:` mount berth materializes (`secret db`, `config app`; see
 * compose/secret-files.ts): its kind, key, and content identity — the material
 * directory's salted digest of the plaintext. null: not one (`file <path>`, a SOPS
 * bind mount, is a host file and stays unsupported on swarm).
 */
function materialSecret(what: string | undefined, source: string): { kind: 'config' | 'secret'; key: string; contentId: string } | null {
  const m = /^(secret|config) (.+)$/.exec(what ?? '');
  if (!m) return null;
  const digest = basename(dirname(source));
  return { kind: m[1] as 'config' | 'secret', key: m[2]!, contentId: `material:${digest}` };
}

export interface SwarmUpdateShape {
  parallelism: number;
  delayNs: number;
  failureAction: 'rollback' | 'pause' | 'continue';
  monitorNs: number;
  maxFailureRatio: number;
  order: 'start-first' | 'stop-first';
}

export type SwarmMount =
  | { type: 'volume'; source: string; target: string; readOnly: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes: number; mode: number };

/** `<stack>_<service>`, as `docker stack deploy` names a stack's service. */
export function swarmServiceName(stack: string, service: string): string {
  return `${stack}_${service}`;
}

/** Swarm restarts a task 5 s after it exits unless the file says otherwise (as `docker stack deploy`). */
const DEFAULT_RESTART_DELAY_NS = 5_000_000_000;
/** Docker's default stop grace period. */
const DEFAULT_STOP_GRACE_NS = 10_000_000_000;

/**
 * A desired service → its shape and the keys swarm cannot run (each a plan
 * error, never silently dropped: a swarm task would not be what the file says).
 */
export function desiredShape(svc: ServiceSpec): { shape: SwarmShape; unsupported: string[]; files: SwarmFileNeed[] } {
  const unsupported = unsupportedOnSwarm(svc);
  const sw = svc.swarm;
  const refs = (svc.files ?? []).filter((f) => f.kind === 'secret' || f.kind === 'config');
  const byTarget = new Map(refs.map((f) => [f.target, f]));
  const files: SwarmFileNeed[] = [];
  const mounts: SwarmMount[] = [];
  const targets = new Map<SwarmFileNeed, string>();
  const need = (f: SwarmFileNeed, target: string) => {
    files.push(f);
    targets.set(f, target);
  };
  for (const m of svc.mounts) {
    const ref = m.type === 'bind' ? byTarget.get(m.target) : undefined;
    const material = m.type === 'bind' ? materialSecret(m.secret, m.source) : null;
    if (m.type === 'bind' && ref && !m.secret) {
      if (ref.id === null || ref.id === 'absent' || ref.id === 'live') unsupported.push(`${ref.kind} ${ref.name ?? ref.path} without a content identity (${ref.id ?? 'not identified'})`);
      else need({ kind: ref.kind as 'config' | 'secret', objectName: swarmFileName(svc.stack, ref.name ?? ref.path, ref.id), stack: svc.stack, key: ref.name ?? ref.path, source: m.source, path: ref.path }, m.target);
    } else if (m.type === 'bind' && material) {
      // A decrypted SOPS file or an `environment`/`content` one: its plaintext is held in memory
      // (DesiredState.secretFiles), its material path is named by a salted digest of it, never by it.
      const { kind, key, contentId } = material;
      need({ kind, objectName: swarmFileName(svc.stack, key, contentId), stack: svc.stack, key, source: m.source, path: ref?.path ?? `${kind} ${key}`, material: true }, m.target);
    } else if (m.type === 'volume') mounts.push({ type: 'volume', source: m.source ?? '', target: m.target, readOnly: m.readOnly });
    else if (m.type === 'bind' && !m.secret) mounts.push({ type: 'bind', source: m.source, target: m.target, readOnly: m.readOnly });
    else if (m.type === 'tmpfs') mounts.push({ type: 'tmpfs', target: m.target, sizeBytes: m.sizeBytes ?? 0, mode: m.mode ?? 0 });
  }
  const h = svc.healthcheck;
  const strategyOrder = svc.berth.rollout === 'recreate' ? 'stop-first' : 'start-first';
  const update = updateShape(svc.updateConfig, strategyOrder);
  const res = svc.resources;
  const shape: SwarmShape = {
    image: svc.image,
    entrypoint: svc.entrypoint,
    command: svc.command,
    env: Object.entries(svc.environment)
      .filter((e): e is [string, string] => e[1] !== null)
      .map(([k, v]) => `${k}=${v}`)
      .sort(),
    user: svc.user,
    workingDir: svc.workingDir,
    hostname: svc.hostname,
    labels: { ...svc.labels },
    mounts: mounts.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)),
    networks: svc.networks
      .map((n) => ({ name: n.name, aliases: [...new Set([svc.name, ...n.aliases])].sort() }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    healthcheck:
      h === null ? null
      : h.disable ? { test: ['NONE'], intervalNs: 0, timeoutNs: 0, startPeriodNs: 0, retries: 0 }
      : { test: h.test, intervalNs: h.intervalNs ?? 0, timeoutNs: h.timeoutNs ?? 0, startPeriodNs: h.startPeriodNs ?? 0, retries: h.retries ?? 0 },
    stopGracePeriodNs: svc.stopGracePeriodSeconds === null ? DEFAULT_STOP_GRACE_NS : Math.round(svc.stopGracePeriodSeconds * 1e9),
    stopSignal: svc.stopSignal,
    readOnly: svc.readOnly,
    init: svc.init,
    tty: svc.tty,
    capAdd: [...svc.capAdd],
    capDrop: [...svc.capDrop],
    sysctls: { ...svc.sysctls },
    logging: svc.logging,
    mode: sw?.mode === 'global' ? 'global' : { replicated: svc.replicas ?? 1 },
    placement: { constraints: [...(sw?.placement.constraints ?? [])].sort(), preferences: [...(sw?.placement.preferences ?? [])], maxReplicas: sw?.placement.maxReplicas ?? 0 },
    limits: { nanoCpus: res.nanoCpus ?? 0, memoryBytes: res.memoryBytes ?? 0, pids: res.pidsLimit ?? 0 },
    reservations: { nanoCpus: res.cpuReservationNano ?? 0, memoryBytes: res.memoryReservationBytes ?? 0 },
    restart: {
      condition: sw?.restartPolicy?.condition ?? 'any',
      delayNs: sw?.restartPolicy?.delayNs ?? DEFAULT_RESTART_DELAY_NS,
      maxAttempts: sw?.restartPolicy?.maxAttempts ?? 0,
      windowNs: sw?.restartPolicy?.windowNs ?? 0,
    },
    update,
    rollback: sw?.rollbackConfig ? updateShape(sw.rollbackConfig, strategyOrder) : update,
    endpointMode: sw?.endpointMode ?? 'vip',
    ports: svc.ports
      .map((p) => ({ target: p.target, published: p.published, protocol: p.protocol, mode: 'ingress' as const }))
      .sort((a, b) => a.target - b.target || (a.published ?? 0) - (b.published ?? 0)),
    serviceLabels: { ...(sw?.labels ?? {}) },
    files: files
      .map((f) => ({ kind: f.kind, name: f.objectName, target: targets.get(f)! }))
      .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)),
  };
  return { shape, unsupported, files };
}

/** Swarm object names are at most 64 characters: the key is cut, the content digest never. */
export function swarmFileName(stack: string, key: string, contentId: string): string {
  const digest = sha256Hex(contentId).slice(0, 12);
  return `${`${stack}_${key.replace(/[^a-zA-Z0-9_.-]/g, '_')}`.slice(0, 64 - 13)}-${digest}`;
}

function updateShape(u: UpdateConfig | undefined, order: 'start-first' | 'stop-first'): SwarmUpdateShape {
  return {
    parallelism: u?.parallelism ?? 1,
    delayNs: (u?.delayMs ?? 0) * 1e6,
    failureAction: u?.failureAction ?? 'rollback',
    monitorNs: (u?.monitorMs ?? 0) * 1e6,
    maxFailureRatio: u?.maxFailureRatio ?? 0,
    order: u?.order ?? order,
  };
}

/** The service keys a swarm task cannot have (or berth does not map yet), by their Compose names. */
function unsupportedOnSwarm(svc: ServiceSpec): string[] {
  const r = svc.resources;
  const checks: [boolean, string][] = [
    [svc.build !== undefined, 'build'],
    [svc.networkMode !== null, 'network_mode'],
    [svc.privileged, 'privileged'],
    [svc.devices.length > 0, 'devices'],
    [svc.pidMode !== null, 'pid'],
    [svc.ipcMode !== null, 'ipc'],
    [svc.serviceContainers !== undefined || svc.volumesFrom !== undefined, 'volumes_from'],
    [svc.links !== undefined, 'links'],
    [svc.host !== undefined, 'host settings (gpus, storage_opt, userns_mode, …)'],
    [svc.runtime !== undefined, 'runtime'],
    [svc.hooks !== undefined, 'post_start/pre_stop'],
    [svc.securityOpt.length > 0, 'security_opt'],
    [svc.groupAdd.length > 0, 'group_add'],
    [svc.extraHosts.length > 0, 'extra_hosts'],
    [svc.dns.length > 0 || svc.dnsSearch.length > 0, 'dns/dns_search'],
    [svc.shmSizeBytes !== null, 'shm_size'],
    [svc.stdinOpen, 'stdin_open'],
    [svc.macAddress !== undefined, 'mac_address'],
    [svc.domainname !== null, 'domainname'],
    [Object.keys(svc.ulimits).length > 0, 'ulimits'],
    [r.cpusetCpus !== null || r.cpuShares !== null || r.cpuQuota !== null || r.cpuPeriod !== null, 'cpuset/cpu_shares/cpu_quota/cpu_period'],
    [r.memorySwapBytes !== null || r.memorySwappiness !== null || r.oomScoreAdj !== null || r.oomKillDisable, 'memswap_limit/mem_swappiness/oom_*'],
    [svc.ports.some((p) => p.publishedEnd !== undefined), 'a published port range'],
    [svc.mounts.some((m) => m.type === 'bind' && m.secret !== undefined && materialSecret(m.secret, m.source) === null), 'a bind mount of a SOPS-encrypted file (use `secrets:`/`configs:`)'],
    [svc.mounts.some((m) => m.type === 'image'), 'an image mount'],
  ];
  return checks.filter(([set]) => set).map(([, key]) => key);
}

/** The config-hash label of a swarm service: `v1:<sha256>` of its canonical shape. */
export function shapeHash(shape: SwarmShape): string {
  return `v1:${sha256Hex(canonicalJson(shape))}`;
}

/**
 * Why two shapes differ, one short phrase per field, values of env vars never
 * shown (the key is named). Empty when they are the same.
 */
export function shapeDiff(from: SwarmShape, to: SwarmShape): string[] {
  const out: string[] = [];
  if (from.image !== to.image) out.push(`image ${from.image} → ${to.image}`);
  const a = modeText(from.mode);
  const b = modeText(to.mode);
  if (a !== b) out.push(`${a} → ${b}`);
  const envKeys = (e: string[]) => new Map(e.map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv]));
  const ea = envKeys(from.env);
  const eb = envKeys(to.env);
  for (const k of [...new Set([...ea.keys(), ...eb.keys()])].sort()) {
    if (!ea.has(k)) out.push(`env ${k} added`);
    else if (!eb.has(k)) out.push(`env ${k} removed`);
    else if (ea.get(k) !== eb.get(k)) out.push(`env ${k} changed (value hidden)`);
  }
  const fa = new Map(from.files.map((f) => [`${f.kind} ${f.target}`, f.name]));
  const fb = new Map(to.files.map((f) => [`${f.kind} ${f.target}`, f.name]));
  for (const k of [...new Set([...fa.keys(), ...fb.keys()])].sort()) {
    if (!fa.has(k)) out.push(`${k} added`);
    else if (!fb.has(k)) out.push(`${k} removed`);
    else if (fa.get(k) !== fb.get(k)) out.push(`${k} rotated (${fb.get(k)})`);
  }
  for (const key of Object.keys(to) as (keyof SwarmShape)[]) {
    if (key === 'image' || key === 'mode' || key === 'env' || key === 'files') continue;
    if (canonicalJson(from[key]) !== canonicalJson(to[key])) out.push(`${FIELD_NAMES[key]} changed`);
  }
  return out;
}

function modeText(m: SwarmShape['mode']): string {
  return m === 'global' ? 'mode global' : `replicas ${m.replicated}`;
}

const FIELD_NAMES: Record<keyof SwarmShape, string> = {
  image: 'image',
  entrypoint: 'entrypoint',
  command: 'command',
  env: 'environment',
  user: 'user',
  workingDir: 'working_dir',
  hostname: 'hostname',
  labels: 'labels',
  mounts: 'volumes',
  networks: 'networks',
  healthcheck: 'healthcheck',
  stopGracePeriodNs: 'stop_grace_period',
  stopSignal: 'stop_signal',
  readOnly: 'read_only',
  init: 'init',
  tty: 'tty',
  capAdd: 'cap_add',
  capDrop: 'cap_drop',
  sysctls: 'sysctls',
  logging: 'logging',
  mode: 'mode',
  placement: 'deploy.placement',
  limits: 'deploy.resources.limits',
  reservations: 'deploy.resources.reservations',
  restart: 'deploy.restart_policy',
  update: 'deploy.update_config',
  rollback: 'deploy.rollback_config',
  endpointMode: 'deploy.endpoint_mode',
  ports: 'ports',
  serviceLabels: 'deploy.labels',
  files: 'configs/secrets',
};
