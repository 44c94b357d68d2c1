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
  hostIp: string;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export type MountSpec =
  | { type: 'volume'; source: string | null; target: string; readOnly: boolean; noCopy: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean; propagation: string; createHostPath: boolean; selinux: string }
  | { type: 'tmpfs'; target: string; sizeBytes: number | null; mode: number | null; options: string[] };

export interface ServiceNetwork {
  /** Key under the stack's top-level `networks:` (`default` for the implicit one). */
  key: string;
  /** Docker network name. */
  name: string;
  aliases: string[];
  ipv4Address: string | null;
  ipv6Address: string | null;
  priority: number;
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
  pullPolicy: 'missing' | 'always' | 'never';
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
  berth: BerthServiceOptions;
  /** `v1:<sha256>` of the canonical container-determining part of this spec. */
  configHash: string;
}

export interface NotifierSpec {
  type: 'slack' | 'discord' | 'teams' | 'webhook';
  /** After interpolation. A secret: never printed. */
  url: string;
  name: string | null;
  /** HMAC secret for `webhook`. A secret: never printed. */
  secret: string | null;
}

export interface BerthSettings {
  policy: { selfHeal: boolean; prune: boolean };
  rollout: { bakeSeconds: number; healthTimeoutSeconds: number; drainSeconds: number };
  images: { prune: boolean; keepRevisions: number };
  stacks: Record<string, { selfHeal?: boolean; prune?: boolean }>;
  traefik: { api: string; circuitBreaker: string } | null;
  notify: NotifierSpec[];
  prune: { volumes: boolean };
  lint: { errors: string[] };
}

export const DEFAULT_SETTINGS: BerthSettings = {
  policy: { selfHeal: true, prune: true },
  rollout: { bakeSeconds: 30, healthTimeoutSeconds: 120, drainSeconds: 2 },
  images: { prune: false, keepRevisions: 5 },
  stacks: {},
  traefik: null,
  notify: [],
  prune: { volumes: false },
  lint: { errors: [] },
};
