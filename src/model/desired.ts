/**
 * The desired state: what the repository says the host should run, after
 * interpolation, validation and normalization. Every field is in one canonical
 * form (durations in nanoseconds, sizes in bytes, names project-scoped), so two
 * spellings of the same thing compare equal and hash the same.
 */

export type Tier = 'database' | 'app';
export type RolloutStrategy = 'recreate' | 'start-first';

export interface DesiredState {
  /** Absolute path of the repository root the state was read from. */
  root: string;
  settings: BerthSettings;
  stacks: DesiredStack[];
  /**
   * Decrypted SOPS files that containers mount, written to their host paths
   * just before an apply. The plaintext is held in a private field: it never
   * serializes (JSON shows the paths only).
   */
  secretFiles?: { readonly paths: string[]; entries(): [string, Buffer, FilePerms | null][] };
}

/** Owner and mode of a decrypted file berth writes (Compose long syntax `uid`/`gid`/`mode`); absent: berth's own, 0400. */
export interface FilePerms {
  uid?: number;
  gid?: number;
  mode?: number;
}

export interface DesiredStack {
  name: string;
  /** Compose file, relative to the repo root. */
  file: string;
  networks: NetworkSpec[];
  volumes: VolumeSpec[];
  services: ServiceSpec[];
  /** Services left out because none of their `profiles` is active (COMPOSE_PROFILES), as `docker compose up` does. */
  inactive: string[];
}

export interface NetworkSpec {
  stack: string;
  /** Key under top-level `networks:` in the Compose file. */
  key: string;
  /** Name of the Docker object: `<stack>_<key>` unless `name:` is set. */
  name: string;
  external: boolean;
  driver: string;
  internal: boolean;
  attachable: boolean;
  enableIpv6: boolean;
  ipam: IpamSpec | null;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

export interface IpamSpec {
  driver: string;
  config: { subnet?: string; ipRange?: string; gateway?: string; auxAddresses?: Record<string, string> }[];
  options: Record<string, string>;
}

export interface VolumeSpec {
  stack: string;
  key: string;
  /** Name of the Docker volume: `<stack>_<key>` unless `name:` is set. */
  name: string;
  external: boolean;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

export interface PortSpec {
  target: number;
  /** Host port; null = Docker picks one. */
  published: number | null;
  /**
   * Set for a host port range for one container port (`"6005-6015:80"`):
   * the engine binds the first free port of `published`..`publishedEnd`, so
   * replicas of the service each get one (as with `docker compose`).
   */
  publishedEnd?: number;
  hostIp: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export type MountSpec =
  | { type: 'volume'; source: string | null; target: string; readOnly: boolean; noCopy: boolean }
  | {
      type: 'bind';
      source: string;
      target: string;
      readOnly: boolean;
      propagation: string;
      createHostPath: boolean;
      selinux: string;
      /** Set when the source is a decrypted SOPS file (`secret db`, `config app`): the plan names it, never its content. */
      secret?: string;
    }
  | { type: 'tmpfs'; target: string; sizeBytes: number | null; mode: number | null; options: string[] }
  /** An image's filesystem (or `subpath` of it), read-only: Engine API 1.48+ (the plan checks the engine, src/plan/engine-capabilities.ts). */
  | { type: 'image'; source: string; target: string; readOnly: true; subpath: string | null };

export interface ServiceNetwork {
  /** Key under the stack's top-level `networks:` (`default` for the implicit one). */
  key: string;
  /** Docker network name. */
  name: string;
  aliases: string[];
  ipv4Address: string | null;
  ipv6Address: string | null;
  priority: number;
  /** `interface_name`: the interface's name in the container (Engine API 1.49+, checked by the plan). */
  interfaceName?: string;
}

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface DependsOn {
  service: string;
  condition: DependsCondition;
  required: boolean;
  restart: boolean;
}

export type HealthcheckSpec =
  | { disable: true }
  | {
      disable: false;
      /** Docker's form: ['CMD', ...] | ['CMD-SHELL', cmd]; null = inherit the image's test. */
      test: string[] | null;
      intervalNs: number | null;
      timeoutNs: number | null;
      startPeriodNs: number | null;
      startIntervalNs: number | null;
      retries: number | null;
    };

export interface ServiceHook {
  command: string[];
  user?: string;
  privileged?: boolean;
  workingDir?: string;
  /** Values may be secrets: never printed. */
  environment?: Record<string, string>;
}

export interface Ulimit {
  soft: number;
  hard: number;
}

export interface ResourcesSpec {
  memoryBytes: number | null;
  memoryReservationBytes: number | null;
  nanoCpus: number | null;
  cpuReservationNano: number | null;
  pidsLimit: number | null;
  cpusetCpus: string | null;
  cpuShares: number | null;
  cpuQuota: number | null;
  cpuPeriod: number | null;
  memorySwapBytes: number | null;
  memorySwappiness: number | null;
  oomScoreAdj: number | null;
  oomKillDisable: boolean;
}

export interface BerthServiceOptions {
  tier: Tier;
  /** Whether `tier` was written in `x-berth` or inferred (for the plan's reasons). */
  tierInferred: boolean;
  rollout: RolloutStrategy;
  minReadySeconds: number;
  selfHeal: boolean | null;
  backup: { command: string[]; timeoutSeconds: number } | null;
  lintIgnore: string[];
}

/**
 * Everything berth needs to create the service's container. The part that
 * determines the container (all but `berth`, `dependsOn` and `configHash`) is
 * what the config hash covers.
 */
export interface ServiceSpec {
  stack: string;
  name: string;
  containerName: string;
  image: string;
  /** `interval`: Compose's daily / weekly / every_<d>: pull when absent or when the last pull is older than pullIntervalSeconds. */
  /** `build`: Compose's pull_policy build, rebuilt on every apply and never pulled (src/build/phase.ts). */
  pullPolicy: 'missing' | 'always' | 'never' | 'interval' | 'build';
  /** Set with pullPolicy `interval` only. */
  pullIntervalSeconds?: number;
  command: string[] | null;
  entrypoint: string[] | null;
  /** Values are secrets as far as output goes: print keys, never values. null = unset. */
  environment: Record<string, string | null>;
  ports: PortSpec[];
  expose: string[];
  mounts: MountSpec[];
  networkMode: string | null;
  networks: ServiceNetwork[];
  dependsOn: DependsOn[];
  healthcheck: HealthcheckSpec | null;
  restart: string;
  labels: Record<string, string>;
  user: string | null;
  workingDir: string | null;
  hostname: string | null;
  domainname: string | null;
  extraHosts: string[];
  dns: string[];
  dnsSearch: string[];
  readOnly: boolean;
  privileged: boolean;
  init: boolean | null;
  tty: boolean;
  stdinOpen: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  sysctls: Record<string, string>;
  groupAdd: string[];
  devices: string[];
  stopSignal: string | null;
  stopGracePeriodSeconds: number | null;
  logging: { driver: string; options: Record<string, string> } | null;
  ulimits: Record<string, Ulimit>;
  shmSizeBytes: number | null;
  pidMode: string | null;
  ipcMode: string | null;
  resources: ResourcesSpec;
  /**
   * Container names of the services this one names in `network_mode`/`ipc`/`pid: service:X`,
   * `volumes_from` or `links`, by service: the engine takes `container:<name>`. Absent when none.
   */
  serviceContainers?: Record<string, string>;
  /** `volumes_from` as written (`SERVICE[:ro|rw]`, `container:NAME[:ro|rw]`). Absent when none. */
  volumesFrom?: string[];
  /** `links` as `SERVICE:ALIAS`, sorted. Absent when none. */
  links?: string[];
  /** `mac_address`, lowercase. Absent when unset. */
  macAddress?: string;
  /** HostConfig keys beyond the core set (src/compose/host-extras.ts); absent when the file sets none. */
  host?: HostExtras;
  /** `platform` (OS/ARCH[/VARIANT]), passed to the create call. Absent when unset. */
  platform?: string;
  /** `runtime` (HostConfig.Runtime). Absent when unset. */
  runtime?: string;
  /** `post_start` / `pre_stop` hooks, run by exec in the container. Absent when none. */
  hooks?: { postStart?: ServiceHook[]; preStop?: ServiceHook[] };
  /**
   * Files and directories of the repository this service uses (src/files/):
   * their content identity is part of the config hash. Absent when none.
   */
  files?: RepoFileRef[];
  /** `build:` (absent when the service only runs an image). */
  build?: BuildSpec;
  berth: BerthServiceOptions;
  /**
   * `deploy.replicas` / `scale` (default 1): containers `<stack>-<service>-1..N`.
   * Not part of the config hash: scaling never recreates. Optional so that
   * records and specs from before replicas read as one.
   */
  replicas?: number;
  /** `deploy.update_config`: how a change rolls over the replicas. Not part of the config hash. */
  updateConfig?: UpdateConfig;
  /** `deploy.mode`, `placement`, `endpoint_mode`, `restart_policy`, `rollback_config`, `labels`: set only for stacks on a `mode: swarm` host. */
  swarm?: SwarmDeploy;
  /** `v1:<sha256>` of the canonical container-determining part of this spec. */
  configHash: string;
}

/** The `deploy:` keys only a swarm service has (src/compose/swarm-deploy.ts); durations in nanoseconds. */
export interface SwarmDeploy {
  mode: 'replicated' | 'global';
  placement: { constraints: string[]; preferences: string[]; maxReplicas: number | null };
  endpointMode: 'vip' | 'dnsrr';
  restartPolicy: { condition: 'none' | 'on-failure' | 'any'; delayNs: number | null; maxAttempts: number | null; windowNs: number | null } | null;
  /** `deploy.rollback_config`; null = the service's update_config. */
  rollbackConfig: UpdateConfig | null;
  /** `deploy.labels`: on the service object, not its containers. */
  labels: Record<string, string>;
}

/** `deploy.update_config`, normalized (durations in milliseconds). */
export interface UpdateConfig {
  /** Replicas replaced at once; 0 = all of them. */
  parallelism: number;
  /** Pause between batches. */
  delayMs: number;
  /** What a failed replica does to the rest of the rollout. */
  failureAction: 'rollback' | 'pause' | 'continue';
  /** How long each replaced batch is watched (must stay up and not unhealthy) before the next one. */
  monitorMs: number;
  /** Failed replicas tolerated, as a fraction of all, before `failureAction` applies. */
  maxFailureRatio: number;
  /** start-first | stop-first; null = the service's `x-berth.rollout`. */
  order: 'start-first' | 'stop-first' | null;
}

export const DEFAULT_UPDATE_CONFIG: UpdateConfig = {
  parallelism: 1,
  delayMs: 0,
  failureAction: 'rollback',
  monitorMs: 0,
  maxFailureRatio: 0,
  order: null,
};
/** `build:` of a service (src/build/spec.ts): everything that goes into `POST /build`. */
/** What a build section says about the build itself, passed on to the engine as is. */
export interface BuildOptions {
  /** Values may be secrets as far as output goes: print keys only. */
  args: Record<string, string>;
  target: string | null;
  labels: Record<string, string>;
  network: string | null;
  extraHosts: string[];
  shmSizeBytes: number | null;
  noCache: boolean;
  pull: boolean;
  cacheFrom: string[];
  platform: string | null;
}

export interface BuildSpec extends BuildOptions {
  /** Context directory, relative to the repository root. */
  context: string;
  /** Dockerfile path relative to the context; null with `dockerfileInline`. */
  dockerfile: string | null;
  dockerfileInline: string | null;
  /** The service's `image:` when it has one: the built image is tagged under it too. */
  alsoTag: string | null;
  /** `pull_policy: missing` with `image:`: pull that first, build only when the pull fails (as Compose does). */
  pullFirst: boolean;
  /** `berth.local/<stack>-<service>:<digest12>`; null until the context is identified (src/build/tag.ts). */
  tag: string | null;
}

export type RepoFileKind = 'bind' | 'config' | 'secret' | 'env_file' | 'build-context' | 'dockerfile' | 'extends' | 'include';

/** One repository file or directory a service uses, with its content identity. */
export interface RepoFileRef {
  kind: RepoFileKind;
  /** Relative to the repository root, `/`-separated. */
  path: string;
  /** The `secrets:`/`configs:` name (a secret is named in the plan by this, never by content). */
  name?: string;
  /** Mount target, for a file or directory the container mounts. */
  target?: string;
  /** A bind mount the container may write to (a working tree's directory then stays live). */
  writable?: boolean;
  /**
   * `git:<blob|tree>:<oid>` of the committed revision, `sha256:<hex>` of a
   * working tree's files, `absent` (not there), `live` (not snapshotted: a
   * writable directory of a non-git tree, or one git does not track); null
   * until identified (src/files/identify.ts).
   */
  id: string | null;
}

export interface NotifierSpec {
  type: 'slack' | 'discord' | 'teams' | 'webhook';
  /** After interpolation. A secret: never printed. */
  url: string;
  name: string | null;
  /** HMAC secret for `webhook`. A secret: never printed. */
  secret: string | null;
}

/** berth.yaml `forge:` — where plan previews and commit statuses go. */
export interface ForgeSpec {
  type: 'github' | 'gitea' | 'gitlab';
  /** The API base (GitHub Enterprise: https://HOST/api/v3). */
  url: string;
  /** `owner/name`; GitLab: the project path or id. */
  repo: string;
  /** After interpolation, from the environment only. A secret: never printed. */
  token: string;
}

/**
 * One Docker endpoint of berth.yaml `hosts:` and the stacks it runs. Without
 * `hosts:` there is one implicit target: the engine `DOCKER_HOST` names.
 */
export interface TargetSpec {
  name: string;
  /** `unix://…`, `tcp://host:port`, `ssh://user@host`. */
  docker: string;
  /** Client TLS for `tcp://` (file paths on the berth host). */
  tls: { ca: string; cert: string; key: string } | null;
  mode: 'engine' | 'swarm';
  /** Stack names or globs (`*`, `?`), as written. */
  stacks: string[];
}

export interface BerthSettings {
  policy: { selfHeal: boolean; prune: boolean };
  rollout: { bakeSeconds: number; healthTimeoutSeconds: number; drainSeconds: number };
  /** pullStallSeconds / pullTimeoutSeconds bound each pull (0: unbounded); absent in hand-made settings: the defaults. */
  images: { prune: boolean; keepRevisions: number; pullStallSeconds?: number; pullTimeoutSeconds?: number };
  stacks: Record<string, { selfHeal?: boolean; prune?: boolean }>;
  traefik: { api: string; circuitBreaker: string } | null;
  notify: NotifierSpec[];
  /** Absent or null: no forge configured. */
  forge?: ForgeSpec | null;
  prune: { volumes: boolean };
  lint: { errors: string[] };
  /** berth.yaml `hosts:`; empty = the one engine of DOCKER_HOST. */
  hosts: TargetSpec[];
}

export const DEFAULT_SETTINGS: BerthSettings = {
  policy: { selfHeal: true, prune: true },
  rollout: { bakeSeconds: 30, healthTimeoutSeconds: 120, drainSeconds: 2 },
  images: { prune: false, keepRevisions: 5, pullStallSeconds: 120, pullTimeoutSeconds: 1800 },
  stacks: {},
  traefik: null,
  notify: [],
  prune: { volumes: false },
  lint: { errors: [] },
  hosts: [],
};

/** Service keys that map one to one onto the container's HostConfig (names as the Engine API's, lower camel case). */
export interface HostExtras {
  /** `gpus` and `deploy.resources.reservations.devices`. count -1: all. */
  deviceRequests?: { driver: string; count: number; deviceIds: string[]; capabilities: string[][]; options: Record<string, string> }[];
  storageOpt?: Record<string, string>;
  usernsMode?: string;
  cgroupnsMode?: string;
  cgroupParent?: string;
  utsMode?: string;
  isolation?: string;
  deviceCgroupRules?: string[];
  /** Engine API 1.43+ (the plan checks the engine). */
  annotations?: Record<string, string>;
  blkio?: {
    weight?: number;
    weightDevice?: { path: string; weight: number }[];
    deviceReadBps?: { path: string; rate: number }[];
    deviceWriteBps?: { path: string; rate: number }[];
    deviceReadIOps?: { path: string; rate: number }[];
    deviceWriteIOps?: { path: string; rate: number }[];
  };
}
