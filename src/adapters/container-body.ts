import type { HostExtras, MountSpec, ServiceNetwork, ServiceSpec } from '../model/desired.js';
import { hostPortText } from '../compose/ports.js';

/**
 * The Engine API `POST /containers/create` body for a normalized service,
 * as a pure function of the spec, the container name, the labels (already
 * merged by the caller) and the engine's API version.
 *
 * Where Compose has two ways to say a thing, the choice made here is the one
 * that works on API 1.41 (Docker 20.10) and means the same as `docker compose
 * up`; test/adapters/compose-reference.test.ts holds it against docker-compose
 * and lists every deliberate difference.
 */

export interface EndpointSettingsBody {
  Aliases?: string[];
  Links?: string[];
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
  DriverOpts?: Record<string, string>;
}

export interface MountBody {
  Type: 'volume' | 'bind' | 'tmpfs' | 'image';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  VolumeOptions?: { NoCopy?: boolean };
  BindOptions?: { Propagation?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
  ImageOptions?: { Subpath?: string };
}

export interface HostConfigBody {
  Binds?: string[];
  Mounts?: MountBody[];
  Tmpfs?: Record<string, string>;
  PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  NetworkMode?: string;
  ReadonlyRootfs: boolean;
  Privileged: boolean;
  Init?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  SecurityOpt?: string[];
  Sysctls?: Record<string, string>;
  GroupAdd?: string[];
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
  ExtraHosts?: string[];
  Dns?: string[];
  DnsSearch?: string[];
  LogConfig?: { Type: string; Config: Record<string, string> };
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  ShmSize?: number;
  Memory?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpusetCpus?: string;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  MemorySwap?: number;
  MemorySwappiness?: number;
  OomScoreAdj?: number;
  OomKillDisable?: boolean;
  PidsLimit?: number;
  PidMode?: string;
  IpcMode?: string;
  VolumesFrom?: string[];
  Runtime?: string;
  DeviceRequests?: { Driver: string; Count: number; DeviceIDs: string[]; Capabilities: string[][]; Options: Record<string, string> }[];
  StorageOpt?: Record<string, string>;
  UsernsMode?: string;
  CgroupnsMode?: string;
  CgroupParent?: string;
  UTSMode?: string;
  Isolation?: string;
  DeviceCgroupRules?: string[];
  Annotations?: Record<string, string>;
  BlkioWeight?: number;
  BlkioWeightDevice?: { Path: string; Weight: number }[];
  BlkioDeviceReadBps?: { Path: string; Rate: number }[];
  BlkioDeviceWriteBps?: { Path: string; Rate: number }[];
  BlkioDeviceReadIOps?: { Path: string; Rate: number }[];
  BlkioDeviceWriteIOps?: { Path: string; Rate: number }[];
}

export interface HealthcheckBody {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ContainerCreateBody {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  Healthcheck?: HealthcheckBody;
  User?: string;
  WorkingDir?: string;
  Hostname?: string;
  Domainname?: string;
  Tty: boolean;
  OpenStdin: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  MacAddress?: string;
  HostConfig: HostConfigBody;
  NetworkingConfig?: { EndpointsConfig: Record<string, EndpointSettingsBody> };
}

/** `a >= b` for Engine API versions like `1.41`. */
export function apiAtLeast(version: string, min: string): boolean {
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = min.split('.').map(Number);
  return a1 !== b1 ? a1 > b1 : a2 >= b2;
}

/** Engine API 1.44 (Docker 25) accepts every network at create; older engines only one. */
export const MULTI_NETWORK_CREATE_API = '1.44';
/** Engine API 1.44 added Healthcheck.StartInterval; older engines ignore or reject it. */
const START_INTERVAL_API = '1.44';

/**
 * The service's networks in the order Compose attaches them: highest
 * `priority` first, then by key (as `docker compose` v2 orders them). The
 * first one is the container's primary network (`HostConfig.NetworkMode`).
 */
export function networksInOrder(spec: Pick<ServiceSpec, 'networks'>): ServiceNetwork[] {
  return [...spec.networks].sort((a, b) => b.priority - a.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The endpoint settings for one of the service's networks: its aliases plus the service name, and its static addresses. */
export function endpointSettings(serviceName: string, net: Pick<ServiceNetwork, 'aliases' | 'ipv4Address' | 'ipv6Address' | 'interfaceName'>, aliases = true, links: string[] = []): EndpointSettingsBody {
  const ep: EndpointSettingsBody = { Aliases: aliases ? [...new Set([serviceName, ...net.aliases])] : [] };
  // How Compose asks for `interface_name` (the engine reads this driver option from API 1.49).
  if (net.interfaceName) ep.DriverOpts = { 'com.docker.network.endpoint.ifname': net.interfaceName };
  if (links.length > 0) ep.Links = [...links];
  if (net.ipv4Address || net.ipv6Address) {
    ep.IPAMConfig = {};
    if (net.ipv4Address) ep.IPAMConfig.IPv4Address = net.ipv4Address;
    if (net.ipv6Address) ep.IPAMConfig.IPv6Address = net.ipv6Address;
  }
  return ep;
}

/** `no` | `always` | `unless-stopped` | `on-failure[:N]` → Docker's RestartPolicy. */
export function restartPolicy(restart: string): HostConfigBody['RestartPolicy'] {
  const [name = 'no', count] = restart.split(':');
  if (name === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: count === undefined ? 0 : Number(count) };
  return { Name: name === '' ? 'no' : name, MaximumRetryCount: 0 };
}

/** `HOST[:CONTAINER][:PERMISSIONS]` as `docker run --device` reads it. */
export function parseDevice(s: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = s.split(':');
  const src = parts[0] ?? '';
  let dst = src;
  let perms = 'rwm';
  if (parts.length >= 2) {
    if (parts.length === 2 && /^[rwm]{1,3}$/.test(parts[1]!)) perms = parts[1]!;
    else dst = parts[1]!;
  }
  if (parts.length >= 3) perms = parts[2]!;
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: perms };
}

/**
 * A bind mount that must create its missing host directory goes into
 * `HostConfig.Binds`: on API < 1.42 `Mounts` rejects a missing source
 * ("bind source path does not exist") and has no `CreateMountpoint`; Binds
 * creates it on every API version, as `docker run -v` and Compose do. Binds
 * is also the only form that carries an SELinux relabel (`z`/`Z`).
 */
function usesBinds(m: Extract<MountSpec, { type: 'bind' }>): boolean {
  return m.createHostPath || m.selinux !== '';
}

function bindString(m: Extract<MountSpec, { type: 'bind' }>): string {
  const opts = [m.readOnly ? 'ro' : 'rw'];
  if (m.selinux) opts.push(m.selinux);
  if (m.propagation && m.propagation !== 'rprivate') opts.push(m.propagation);
  return `${m.source}:${m.target}:${opts.join(',')}`;
}

/**
 * A tmpfs with extra mount options (`noexec`, `uid=…`) goes into
 * `HostConfig.Tmpfs`: the Mounts API carries only size and mode before API
 * 1.46. Both forms get Docker's tmpfs defaults (nosuid,nodev,noexec).
 */
function tmpfsString(m: Extract<MountSpec, { type: 'tmpfs' }>): string {
  const opts: string[] = [];
  if (m.sizeBytes !== null) opts.push(`size=${m.sizeBytes}`);
  if (m.mode !== null) opts.push(`mode=${m.mode.toString(8)}`);
  opts.push(...m.options);
  return opts.join(',');
}

function mountBody(m: MountSpec): MountBody {
  switch (m.type) {
    case 'volume': {
      const b: MountBody = { Type: 'volume', Target: m.target };
      if (m.source !== null) b.Source = m.source; // no source: an anonymous volume
      if (m.readOnly) b.ReadOnly = true;
      if (m.noCopy) b.VolumeOptions = { NoCopy: true };
      return b;
    }
    case 'bind': {
      const b: MountBody = { Type: 'bind', Source: m.source, Target: m.target };
      if (m.readOnly) b.ReadOnly = true;
      if (m.propagation && m.propagation !== 'rprivate') b.BindOptions = { Propagation: m.propagation };
      return b;
    }
    case 'tmpfs': {
      const b: MountBody = { Type: 'tmpfs', Target: m.target };
      const o: NonNullable<MountBody['TmpfsOptions']> = {};
      if (m.sizeBytes !== null) o.SizeBytes = m.sizeBytes;
      if (m.mode !== null) o.Mode = m.mode;
      if (Object.keys(o).length > 0) b.TmpfsOptions = o;
      return b;
    }
    case 'image': {
      const b: MountBody = { Type: 'image', Source: m.source, Target: m.target, ReadOnly: true };
      if (m.subpath) b.ImageOptions = { Subpath: m.subpath };
      return b;
    }
  }
}

function healthcheckBody(spec: ServiceSpec, apiVersion: string): HealthcheckBody | undefined {
  const h = spec.healthcheck;
  if (h === null) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  // Docker merges a Healthcheck field by field with the image's: a missing
  // Test (or a zero timing) keeps the image's, so `test: null` with only
  // timings overrides just those timings.
  const b: HealthcheckBody = {};
  if (h.test !== null) b.Test = [...h.test];
  if (h.intervalNs !== null) b.Interval = h.intervalNs;
  if (h.timeoutNs !== null) b.Timeout = h.timeoutNs;
  if (h.startPeriodNs !== null) b.StartPeriod = h.startPeriodNs;
  if (h.startIntervalNs !== null && apiAtLeast(apiVersion, START_INTERVAL_API)) b.StartInterval = h.startIntervalNs;
  if (h.retries !== null) b.Retries = h.retries;
  return Object.keys(b).length > 0 ? b : undefined;
}

/**
 * `network_mode`, `ipc` or `pid` as the engine takes it: Compose's
 * `service:NAME` is the container of that service in the same stack,
 * `container:<name>` (the engine resolves the name to the container's id
 * when it creates this one; a replaced NAME makes the planner recreate this
 * container, as Compose does).
 */
export function namespaceValue(spec: Pick<ServiceSpec, 'stack' | 'serviceContainers'>, mode: string): string {
  if (!mode.startsWith('service:')) return mode;
  const service = mode.slice('service:'.length);
  return `container:${spec.serviceContainers?.[service] ?? `${spec.stack}-${service}-1`}`;
}

/** `volumes_from` as HostConfig.VolumesFrom: `CONTAINER[:ro|rw]`, a service named by its container. */
function volumesFromValue(spec: ServiceSpec, entry: string): string {
  const parts = entry.split(':');
  if (parts[0] === 'container') return parts.slice(1).join(':');
  const [service = '', mode] = parts;
  const container = spec.serviceContainers?.[service] ?? `${spec.stack}-${service}-1`;
  return mode ? `${container}:${mode}` : container;
}

/** Legacy `links` as endpoint links (`CONTAINER:ALIAS`): on a user-defined network the alias resolves for this container only. */
export function endpointLinks(spec: Pick<ServiceSpec, 'stack' | 'serviceContainers' | 'links'>): string[] {
  return (spec.links ?? []).map((l) => {
    const [service = '', alias = service] = l.split(':');
    return `${spec.serviceContainers?.[service] ?? `${spec.stack}-${service}-1`}:${alias}`;
  });
}

function sortedRecord<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

export function containerCreateBody(spec: ServiceSpec, name: string, labels: Record<string, string>, apiVersion: string, aliases = true): ContainerCreateBody {
  // `name` travels in the query string (`?name=`), not in the body.
  const body: ContainerCreateBody = {
    Image: spec.image,
    Env: Object.entries(spec.environment)
      .filter((e): e is [string, string] => e[1] !== null)
      .map(([k, v]) => `${k}=${v}`)
      .sort(),
    Labels: sortedRecord(labels),
    Tty: spec.tty,
    OpenStdin: spec.stdinOpen,
    HostConfig: {
      RestartPolicy: restartPolicy(spec.restart),
      // Always present (empty when nothing is published), as Compose sends it.
      PortBindings: {},
      ReadonlyRootfs: spec.readOnly,
      Privileged: spec.privileged,
    },
  };
  if (spec.command !== null) body.Cmd = [...spec.command];
  if (spec.entrypoint !== null) body.Entrypoint = [...spec.entrypoint];
  if (spec.user !== null) body.User = spec.user;
  if (spec.workingDir !== null) body.WorkingDir = spec.workingDir;
  if (spec.hostname !== null) body.Hostname = spec.hostname;
  if (spec.domainname !== null) body.Domainname = spec.domainname;
  if (spec.stopSignal !== null) body.StopSignal = spec.stopSignal;
  if (spec.stopGracePeriodSeconds !== null) body.StopTimeout = spec.stopGracePeriodSeconds;
  const hc = healthcheckBody(spec, apiVersion);
  if (hc) body.Healthcheck = hc;

  // Ports: every published or exposed port is an ExposedPort; published ones also a binding.
  const exposed = new Set<string>(spec.expose);
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of spec.ports) {
    const key = `${p.target}/${p.protocol}`;
    exposed.add(key);
    (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: hostPortText(p) });
  }
  if (exposed.size > 0) body.ExposedPorts = Object.fromEntries([...exposed].sort().map((k) => [k, {}]));

  const H = body.HostConfig;
  H.PortBindings = sortedRecord(bindings);

  const binds: string[] = [];
  const mounts: MountBody[] = [];
  const tmpfs: Record<string, string> = {};
  for (const m of spec.mounts) {
    if (m.type === 'bind' && usesBinds(m)) binds.push(bindString(m));
    else if (m.type === 'tmpfs' && m.options.length > 0) tmpfs[m.target] = tmpfsString(m);
    else mounts.push(mountBody(m));
  }
  if (binds.length > 0) H.Binds = binds;
  if (mounts.length > 0) H.Mounts = mounts;
  if (Object.keys(tmpfs).length > 0) H.Tmpfs = tmpfs;

  const ordered = networksInOrder(spec);
  if (spec.networkMode !== null) {
    H.NetworkMode = namespaceValue(spec, spec.networkMode);
  } else if (ordered.length > 0) {
    H.NetworkMode = ordered[0]!.name;
    // API < 1.44 takes one endpoint at create; the adapter connects the rest.
    const atCreate = apiAtLeast(apiVersion, MULTI_NETWORK_CREATE_API) ? ordered : ordered.slice(0, 1);
    body.NetworkingConfig = { EndpointsConfig: Object.fromEntries(atCreate.map((n) => [n.name, endpointSettings(spec.name, n, aliases, endpointLinks(spec))])) };
  }

  if (spec.init !== null) H.Init = spec.init;
  if (spec.capAdd.length > 0) H.CapAdd = [...spec.capAdd];
  if (spec.capDrop.length > 0) H.CapDrop = [...spec.capDrop];
  if (spec.securityOpt.length > 0) H.SecurityOpt = [...spec.securityOpt];
  if (Object.keys(spec.sysctls).length > 0) H.Sysctls = sortedRecord(spec.sysctls);
  if (spec.groupAdd.length > 0) H.GroupAdd = [...spec.groupAdd];
  if (spec.devices.length > 0) H.Devices = spec.devices.map(parseDevice);
  if (spec.extraHosts.length > 0) H.ExtraHosts = [...spec.extraHosts];
  if (spec.dns.length > 0) H.Dns = [...spec.dns];
  if (spec.dnsSearch.length > 0) H.DnsSearch = [...spec.dnsSearch];
  if (spec.logging !== null) H.LogConfig = { Type: spec.logging.driver, Config: sortedRecord(spec.logging.options) };
  const ulimits = Object.entries(spec.ulimits);
  if (ulimits.length > 0) H.Ulimits = ulimits.sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, u]) => ({ Name: n, Soft: u.soft, Hard: u.hard }));
  if (spec.shmSizeBytes !== null) H.ShmSize = spec.shmSizeBytes;
  if (spec.pidMode !== null) H.PidMode = namespaceValue(spec, spec.pidMode);
  if (spec.ipcMode !== null) H.IpcMode = namespaceValue(spec, spec.ipcMode);
  if (spec.runtime !== undefined) H.Runtime = spec.runtime;
  if (spec.host) Object.assign(H, hostExtrasBody(spec.host));
  // Config.MacAddress works on every API version berth drives (deprecated for the endpoint's from 1.44, still honoured).
  if (spec.macAddress !== undefined) body.MacAddress = spec.macAddress;
  if (spec.volumesFrom && spec.volumesFrom.length > 0) H.VolumesFrom = spec.volumesFrom.map((v) => volumesFromValue(spec, v));

  const r = spec.resources;
  if (r.memoryBytes !== null) H.Memory = r.memoryBytes;
  if (r.memoryReservationBytes !== null) H.MemoryReservation = r.memoryReservationBytes;
  if (r.nanoCpus !== null) H.NanoCpus = r.nanoCpus;
  // r.cpuReservationNano has no engine equivalent outside swarm (Compose ignores it too).
  if (r.cpusetCpus !== null) H.CpusetCpus = r.cpusetCpus;
  if (r.cpuShares !== null) H.CpuShares = r.cpuShares;
  if (r.cpuQuota !== null) H.CpuQuota = r.cpuQuota;
  if (r.cpuPeriod !== null) H.CpuPeriod = r.cpuPeriod;
  if (r.memorySwapBytes !== null) H.MemorySwap = r.memorySwapBytes;
  if (r.memorySwappiness !== null) H.MemorySwappiness = r.memorySwappiness;
  if (r.oomScoreAdj !== null) H.OomScoreAdj = r.oomScoreAdj;
  if (r.oomKillDisable) H.OomKillDisable = true;
  if (r.pidsLimit !== null) H.PidsLimit = r.pidsLimit;
  return body;
}

/** ServiceSpec.host → HostConfig fields, named as the Engine API names them. */
export function hostExtrasBody(h: HostExtras): Partial<HostConfigBody> {
  const H: Partial<HostConfigBody> = {};
  if (h.deviceRequests) H.DeviceRequests = h.deviceRequests.map((d) => ({ Driver: d.driver, Count: d.count, DeviceIDs: d.deviceIds, Capabilities: d.capabilities, Options: d.options }));
  if (h.storageOpt) H.StorageOpt = h.storageOpt;
  if (h.usernsMode !== undefined) H.UsernsMode = h.usernsMode;
  if (h.cgroupnsMode !== undefined) H.CgroupnsMode = h.cgroupnsMode;
  if (h.cgroupParent !== undefined) H.CgroupParent = h.cgroupParent;
  if (h.utsMode !== undefined) H.UTSMode = h.utsMode;
  if (h.isolation !== undefined) H.Isolation = h.isolation;
  if (h.deviceCgroupRules) H.DeviceCgroupRules = h.deviceCgroupRules;
  if (h.annotations) H.Annotations = h.annotations;
  const b = h.blkio;
  if (b) {
    const rates = (l: { path: string; rate: number }[] | undefined) => l?.map((r) => ({ Path: r.path, Rate: r.rate }));
    if (b.weight !== undefined) H.BlkioWeight = b.weight;
    if (b.weightDevice) H.BlkioWeightDevice = b.weightDevice.map((w) => ({ Path: w.path, Weight: w.weight }));
    if (b.deviceReadBps) H.BlkioDeviceReadBps = rates(b.deviceReadBps);
    if (b.deviceWriteBps) H.BlkioDeviceWriteBps = rates(b.deviceWriteBps);
    if (b.deviceReadIOps) H.BlkioDeviceReadIOps = rates(b.deviceReadIOps);
    if (b.deviceWriteIOps) H.BlkioDeviceWriteIOps = rates(b.deviceWriteIOps);
  }
  return H;
}
