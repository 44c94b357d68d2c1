import { sha256Hex } from '../src/compose/hash.js';
import { LABEL, isManaged } from '../src/labels.js';
import type { AppliedRecord, RedactedServiceSpec } from '../src/model/applied.js';
import type { BerthSettings, DesiredStack, DesiredState, NetworkSpec, ServiceSpec, VolumeSpec } from '../src/model/desired.js';
import type { LiveContainer, LiveNetwork, LiveState, LiveVolume } from '../src/model/live.js';
import type { Op, PlanError } from '../src/model/plan.js';
import { imageIndex, NO_IMAGE_INPUTS, type ImageIndex, type ImageInputs } from './image.js';
import { replicaNames } from '../src/model/replicas.js';

/**
 * What every controller returns: the ops it wants (each with its reasons),
 * the errors that make the plan unappliable, and notes for a person.
 */
export interface ControllerResult {
  ops: Op[];
  errors: PlanError[];
  warnings: string[];
}

/**
 * Indexes over one desired × live × applied triple, built once per plan so
 * that every controller looks objects up by name instead of scanning lists
 * (a plan over 1,000 services stays linear). Every list is sorted, so the
 * plan does not depend on the order Docker listed things in.
 */
export interface ControllerContext {
  settings: BerthSettings;
  /** Desired stacks sorted by name. */
  stacks: DesiredStack[];
  /** `<stack>/<service>` → desired spec. */
  services: Map<string, ServiceSpec>;
  /** Container names claimed by desired services (every replica's). */
  containerNames: Set<string>;
  /** Networks/volumes the repository defines (non-external), by Docker name; the first stack by name wins. */
  definedNetworks: Map<string, NetworkSpec>;
  definedVolumes: Map<string, VolumeSpec>;
  /** Every network name some stack defines or references as external. */
  wantedNetworks: Set<string>;

  containers: Map<string, LiveContainer>;
  /** Live containers sorted by name. */
  containerList: LiveContainer[];
  /** Live network by name (on duplicate names: the managed one, then the smallest id). */
  networks: Map<string, LiveNetwork>;
  /** Live networks sorted by name, then id. */
  networkList: LiveNetwork[];
  /** Names the host has more than one network for (Docker allows that), with all of them. */
  duplicateNetworks: Map<string, LiveNetwork[]>;
  /** Network name → containers attached (sorted by name). */
  attached: Map<string, LiveContainer[]>;
  volumes: Map<string, LiveVolume>;
  /** Local image references, normalized with `normalizeImageRef`. */
  images: Set<string>;
  /** Local images by ID and tag (digest pinning, tag-moved checks). */
  imageIndex: ImageIndex;
  /** Pins and registry answers gathered before planning. */
  imageInputs: ImageInputs;

  /**
   * The stacks this host's berth owns: the desired ones plus those of the last
   * applied record. Prune removes only objects of these stacks — the inventory
   * difference, as Flux prunes — so objects another berth (another state dir,
   * another repo) manages on the same engine are never touched.
   */
  inventory: Set<string>;

  applied: {
    salt: string;
    services: Map<string, RedactedServiceSpec>;
    volumes: Map<string, VolumeSpec>;
  } | null;
}

export function controllerContext(desired: DesiredState, live: LiveState, applied: AppliedRecord | null, imageInputs: ImageInputs = NO_IMAGE_INPUTS): ControllerContext {
  const stacks = [...desired.stacks].sort((a, b) => cmp(a.name, b.name));
  const services = new Map<string, ServiceSpec>();
  const containerNames = new Set<string>();
  const definedNetworks = new Map<string, NetworkSpec>();
  const definedVolumes = new Map<string, VolumeSpec>();
  const wantedNetworks = new Set<string>();
  for (const s of stacks) {
    for (const svc of s.services) {
      services.set(serviceKey(s.name, svc.name), svc);
      for (const name of replicaNames(svc)) containerNames.add(name);
    }
    for (const n of s.networks) {
      wantedNetworks.add(n.name);
      if (!n.external && !definedNetworks.has(n.name)) definedNetworks.set(n.name, n);
    }
    for (const v of s.volumes) if (!v.external && !definedVolumes.has(v.name)) definedVolumes.set(v.name, v);
  }

  const containerList = [...live.containers].sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id));
  const containers = new Map<string, LiveContainer>();
  const attached = new Map<string, LiveContainer[]>();
  for (const c of containerList) {
    if (!containers.has(c.name)) containers.set(c.name, c);
    for (const n of c.networks) {
      const list = attached.get(n);
      if (list) list.push(c);
      else attached.set(n, [c]);
    }
  }
  const networkList = [...live.networks].sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id));
  const networks = new Map<string, LiveNetwork>();
  const duplicateNetworks = new Map<string, LiveNetwork[]>();
  for (const n of networkList) {
    const prev = networks.get(n.name);
    if (prev) duplicateNetworks.set(n.name, [...(duplicateNetworks.get(n.name) ?? [prev]), n]);
    if (!prev || (!isManaged(prev.labels) && isManaged(n.labels))) networks.set(n.name, n);
  }
  const volumes = new Map<string, LiveVolume>();
  for (const v of [...live.volumes].sort((a, b) => cmp(a.name, b.name))) if (!volumes.has(v.name)) volumes.set(v.name, v);
  const images = new Set(live.imageTags.map(normalizeImageRef));

  let appliedIdx: ControllerContext['applied'] = null;
  if (applied) {
    const aServices = new Map<string, RedactedServiceSpec>();
    const aVolumes = new Map<string, VolumeSpec>();
    for (const s of applied.stacks) {
      for (const svc of s.services) aServices.set(serviceKey(s.name, svc.name), svc);
      for (const v of s.volumes) if (!v.external && !aVolumes.has(v.name)) aVolumes.set(v.name, v);
    }
    appliedIdx = { salt: applied.salt, services: aServices, volumes: aVolumes };
  }

  return {
    settings: desired.settings,
    stacks,
    services,
    containerNames,
    definedNetworks,
    definedVolumes,
    wantedNetworks,
    containers,
    containerList,
    networks,
    networkList,
    duplicateNetworks,
    attached,
    volumes,
    images,
    imageIndex: imageIndex(live.images),
    imageInputs,
    inventory: new Set([...desired.stacks.map((st) => st.name), ...(applied?.stacks.map((st) => st.name) ?? [])]),
    applied: appliedIdx,
  };
}

export function serviceKey(stack: string, service: string): string {
  return `${stack}/${service}`;
}

/** Code-unit order: the same on every machine (localeCompare is not). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Why a managed object is left alone: its stack is not in this host's inventory. */
export function notInInventory(kind: string, name: string, stack: string): string {
  return `${kind} ${name}: managed by berth, but stack "${stack || '(none)'}" was never applied from this repository and state dir; left in place`;
}

/** The parts of a `notInInventory` warning, or null for any other warning (plan/notices.ts groups them per stack). */
export function parseNotInInventory(warning: string): { kind: string; name: string; stack: string } | null {
  const m = /^(\S+) (.+): managed by berth, but stack "(.*)" was never applied from this repository and state dir; left in place$/.exec(warning);
  return m ? { kind: m[1]!, name: m[2]!, stack: m[3]! } : null;
}

/** `prune` for a stack: the per-stack override in berth.yaml, else the policy. */
export function pruneEnabled(settings: BerthSettings, stack: string): boolean {
  return settings.stacks[stack]?.prune ?? settings.policy.prune;
}

/**
 * One spelling per image, as Docker resolves it: `redis` → `redis:latest`,
 * `docker.io/library/redis:7` → `redis:7`, `docker.io/acme/app` → `acme/app:latest`.
 * Digest references keep their digest (and get no tag).
 */
export function normalizeImageRef(ref: string): string {
  let r = ref.trim();
  for (const prefix of ['docker.io/', 'index.docker.io/', 'registry-1.docker.io/']) {
    if (r.startsWith(prefix)) {
      r = r.slice(prefix.length);
      break;
    }
  }
  if (r.startsWith('library/') && r.indexOf('/', 'library/'.length) < 0) r = r.slice('library/'.length);
  if (r.includes('@')) return r;
  const lastSlash = r.lastIndexOf('/');
  const lastColon = r.lastIndexOf(':');
  return lastColon > lastSlash ? r : `${r}:latest`;
}

/** How the last-applied record keeps an environment value: `sha256:` + hex of sha256(salt + value). */
export function hashEnvValue(salt: string, value: string): string {
  return `sha256:${sha256Hex(salt + value)}`;
}

/** `v1:0123456789abcdef…` → `v1:01234567…` for reasons a person reads. */
export function shortHash(hash: string | undefined): string {
  if (!hash) return 'no config-hash label';
  const i = hash.indexOf(':');
  const body = i >= 0 ? hash.slice(i + 1) : hash;
  return `${i >= 0 ? hash.slice(0, i + 1) : ''}${body.slice(0, 8)}…`;
}

export function containerLabel(c: LiveContainer, key: keyof typeof LABEL): string | undefined {
  return c.labels[LABEL[key]];
}

/** A container for an error message: its name, short id and image. */
export function describeContainer(c: LiveContainer): string {
  return `${c.name} (id ${c.id.slice(0, 12)}, image ${c.image})`;
}

export function emptyResult(): ControllerResult {
  return { ops: [], errors: [], warnings: [] };
}
