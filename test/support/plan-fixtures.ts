// Plain-data builders for planner and controller tests: desired states from
// temp repos, live states and applied records that match them, and single
// live objects with sensible defaults. No Docker.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { LABEL } from '../../src/labels.js';
import type { AppliedRecord, RedactedServiceSpec } from '../../src/model/applied.js';
import type { DesiredState, NetworkSpec, ServiceSpec, VolumeSpec } from '../../src/model/desired.js';
import type { LiveContainer, LiveNetwork, LiveState, LiveVolume } from '../../src/model/live.js';
import { tmpRepo } from './tmp-repo.js';

const validators = createValidators();

/** Load a desired state from files (path → content); fails the test on any error diagnostic. */
export function desiredFrom(files: Record<string, string>, env: Record<string, string> = {}): DesiredState {
  return loadOk(tmpRepo(files), env);
}

export function loadOk(dir: string, env: Record<string, string> = {}): DesiredState {
  const r = loadDesiredState(dir, { env, validators });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.state!;
}

/** A one-stack repo: `stacks/<stack>/compose.yaml` (+ optional berth.yaml). */
export function stackRepo(stacks: Record<string, string>, berthYaml?: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, compose] of Object.entries(stacks)) files[`stacks/${name}/compose.yaml`] = compose;
  if (berthYaml !== undefined) files['berth.yaml'] = berthYaml;
  return files;
}

export function findService(desired: DesiredState, stack: string, name: string): ServiceSpec {
  const s = desired.stacks.find((x) => x.name === stack)?.services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${stack}/${name}`);
  return s;
}

let seq = 0;
function fakeId(name: string): string {
  return createHash('sha256').update(`id:${name}`).digest('hex');
}

export function liveContainer(p: Partial<LiveContainer> & { name: string }): LiveContainer {
  return {
    id: fakeId(p.name),
    image: 'busybox:latest',
    imageId: `sha256:${fakeId(`img:${p.image ?? 'busybox:latest'}`)}`,
    state: 'running',
    status: 'Up 5 minutes',
    health: null,
    labels: {},
    networks: [],
    created: 1_700_000_000 + seq++,
    ...p,
  };
}

export function liveNetwork(p: Partial<LiveNetwork> & { name: string }): LiveNetwork {
  return {
    id: fakeId(`net:${p.name}`),
    driver: 'bridge',
    internal: false,
    attachable: false,
    enableIpv6: false,
    ipam: { driver: 'default', config: [{ subnet: '172.20.0.0/16', gateway: '172.20.0.1' }] },
    labels: {},
    ...p,
  };
}

export function liveVolume(p: Partial<LiveVolume> & { name: string }): LiveVolume {
  return { driver: 'local', labels: {}, ...p };
}

export function managedLabels(stack: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.stack]: stack, [LABEL.composeProject]: stack, ...extra };
}

/** The labels apply gives a service's container. */
export function containerLabelsFor(spec: ServiceSpec): Record<string, string> {
  return {
    ...spec.labels,
    ...managedLabels(spec.stack),
    [LABEL.service]: spec.name,
    [LABEL.configHash]: spec.configHash,
    [LABEL.composeService]: spec.name,
    [LABEL.composeContainerNumber]: '1',
    [LABEL.composeOneoff]: 'False',
  };
}

export function containerFor(spec: ServiceSpec, p: Partial<LiveContainer> = {}): LiveContainer {
  return liveContainer({
    name: spec.containerName,
    image: spec.image,
    labels: containerLabelsFor(spec),
    networks: spec.networkMode === null ? spec.networks.map((n) => n.name) : [],
    ...p,
  });
}

export function networkFor(spec: NetworkSpec, p: Partial<LiveNetwork> = {}): LiveNetwork {
  return liveNetwork({
    name: spec.name,
    driver: spec.driver,
    internal: spec.internal,
    attachable: spec.attachable,
    enableIpv6: spec.enableIpv6,
    ...(spec.ipam && spec.ipam.config.length > 0
      ? { ipam: { driver: spec.ipam.driver, config: spec.ipam.config.map(({ auxAddresses: _aux, ...c }) => c) } }
      : {}),
    labels: { ...spec.labels, ...managedLabels(spec.stack, { [LABEL.composeNetwork]: spec.key }) },
    ...p,
  });
}

export function volumeFor(spec: VolumeSpec, p: Partial<LiveVolume> = {}): LiveVolume {
  return liveVolume({
    name: spec.name,
    driver: spec.driver,
    labels: { ...spec.labels, ...managedLabels(spec.stack, { [LABEL.composeVolume]: spec.key }) },
    ...p,
  });
}

export function emptyLive(): LiveState {
  return { containers: [], networks: [], volumes: [], imageTags: [] };
}

/** The host after a successful apply of `desired`: everything present, managed, running, images pulled. */
export function liveFor(desired: DesiredState): LiveState {
  const live = emptyLive();
  for (const s of desired.stacks) {
    for (const n of s.networks) if (!n.external) live.networks.push(networkFor(n));
    for (const v of s.volumes) if (!v.external) live.volumes.push(volumeFor(v));
    for (const svc of s.services) {
      live.containers.push(containerFor(svc));
      if (!live.imageTags.includes(svc.image)) live.imageTags.push(svc.image);
    }
  }
  return live;
}

export const SALT = 'test-salt-0123';

function hashEnv(salt: string, value: string): string {
  return `sha256:${createHash('sha256').update(salt + value).digest('hex')}`;
}

export function redact(spec: ServiceSpec, salt = SALT): RedactedServiceSpec {
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.environment)) if (v !== null) environment[k] = hashEnv(salt, v);
  return { ...spec, environment };
}

/** The last-applied record berth writes after applying `desired`. */
export function appliedFor(desired: DesiredState, salt = SALT): AppliedRecord {
  return {
    revision: 'rev-applied',
    appliedAt: '2025-01-01T00:00:00.000Z',
    source: desired.root,
    salt,
    stacks: desired.stacks.map((s) => ({
      name: s.name,
      networks: s.networks,
      volumes: s.volumes,
      services: s.services.map((svc) => redact(svc, salt)),
    })),
  };
}

/**
 * `applied` plus an (empty) entry for every stack a managed object of `live`
 * belongs to: "berth applied these stacks before", which is what lets prune
 * remove them (prune only touches this host's inventory).
 */
export function withInventory(applied: AppliedRecord | null, live: LiveState): AppliedRecord {
  const base: AppliedRecord = applied ?? { revision: null, appliedAt: '2025-01-01T00:00:00.000Z', source: 'test', salt: SALT, stacks: [] };
  const known = new Set(base.stacks.map((s) => s.name));
  const stacks = [...base.stacks];
  for (const o of [...live.containers, ...live.networks]) {
    const stack = o.labels['io.berth.managed'] === 'true' ? (o.labels['io.berth.stack'] ?? o.labels['com.docker.compose.project']) : undefined;
    if (stack === undefined || known.has(stack)) continue;
    known.add(stack);
    stacks.push({ name: stack, networks: [], volumes: [], services: [] });
  }
  return { ...base, stacks };
}
