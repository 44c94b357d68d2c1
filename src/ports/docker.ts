import type { BuildOptions, NetworkSpec, ServiceNetwork, ServiceSpec, VolumeSpec } from '../model/desired.js';
import type { Health, LiveContainer, LiveImage, LiveNetwork, LiveVolume } from '../model/live.js';
import type { RegistryAuth } from './registry.js';

/**
 * berth's window on the Docker engine. One method is one Engine API call
 * (createContainer is the exception: on API 1.41 a container can join only
 * one network at create, so it connects the rest before returning).
 * Everything above this interface is testable with a fake; the dockerode
 * adapter is the only implementation that talks to a socket.
 */
export interface DockerPort {
  ping(): Promise<void>;
  /** The engine's release and API version (`GET /version`), asked once per client. For plan-time capability checks. */
  engineVersion(): Promise<{ version: string; apiVersion: string }>;

  /** All containers (`all: true`), with labels, state, health, networks. One call. */
  listContainers(): Promise<LiveContainer[]>;
  /** All networks. One call. */
  listNetworks(): Promise<LiveNetwork[]>;
  /** All volumes. One call. */
  listVolumes(): Promise<LiveVolume[]>;
  /** Every `repo:tag` of every local image. One call. */
  listImageTags(): Promise<string[]>;
  /** Every local image with its ID, tags and repo digests. One call (the same one as listImageTags). */
  listImages(): Promise<LiveImage[]>;

  createNetwork(spec: NetworkSpec, labels: Record<string, string>): Promise<string>;
  removeNetwork(idOrName: string): Promise<void>;
  createVolume(spec: VolumeSpec, labels: Record<string, string>): Promise<void>;

  /**
   * Pull `ref` (with `auth` as X-Registry-Auth when given); resolves when the
   * pull finished, rejects with the engine's message, or with "timed out" when
   * `limits` ran out (the pull is then cancelled).
   */
  pullImage(ref: string, onProgress?: (p: PullProgress) => void, auth?: RegistryAuth | null, limits?: PullLimits): Promise<void>;
  /**
   * `POST /build` with `request.context` (a tar archive) as the body; resolves
   * with the image ID, rejects with a BuildError naming the failing step and
   * the last lines of its output. `onProgress` gets each line of output.
   */
  buildImage(request: BuildRequest, onProgress?: (line: string) => void): Promise<{ imageId: string }>;
  /** Tag image `source` (ID or reference) as `ref`. */
  tagImage(source: string, ref: string): Promise<void>;
  /**
   * Untag/remove image `ref` (never forced: an image a container uses stays).
   * Resolves false when the engine refused (in use) or it was already gone.
   */
  removeImage(ref: string): Promise<boolean>;

  /**
   * Create (not start) the container for `spec` under `name` with `labels`
   * (berth's and the service's merged by the caller), attached to every
   * network of the spec with its aliases (the service name is always an alias).
   */
  createContainer(spec: ServiceSpec, name: string, labels: Record<string, string>, opts?: CreateContainerOptions): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Stop with the grace period; `timeoutSeconds` overrides the spec's. Already-stopped is not an error. */
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  /** Remove; `force` kills a running one. Already-gone is not an error. Never removes volumes. */
  removeContainer(id: string, force?: boolean): Promise<void>;
  renameContainer(id: string, newName: string): Promise<void>;
  connectNetwork(network: string, containerId: string, opts: Pick<ServiceNetwork, 'aliases' | 'ipv4Address' | 'ipv6Address'>): Promise<void>;
  disconnectNetwork(network: string, containerId: string): Promise<void>;

  /** Only during gates (health waits), never in a no-op pass. */
  inspectContainer(id: string): Promise<ContainerDetails>;
  /** Run a command in a running container; resolves with its exit code and (truncated) output. */
  exec(id: string, cmd: string[], timeoutMs: number, opts?: ExecOptions): Promise<{ exitCode: number; output: string }>;

  /** Subscribe to engine events on berth's objects; returns an unsubscribe function. */
  events(onEvent: (e: DockerEvent) => void, onError: (err: Error) => void): () => void;
}

/** Exec settings beyond the command (Compose's hooks have them). */
export interface ExecOptions {
  user?: string;
  privileged?: boolean;
  workingDir?: string;
  /** `KEY=VALUE`; values may be secrets, never logged. */
  env?: string[];
}

/** One progress event of a pull: a layer `id` and its status (`Downloading`, `Pull complete`, …). */
export interface PullProgress {
  id: string | null;
  status: string;
  /** The engine's progress bar text, when it sends one. */
  progress: string | null;
}

/** Bounds of one pull (berth.yaml `images.pullStallSeconds` / `images.pullTimeoutSeconds`); absent or 0: unbounded. */
export interface PullLimits {
  /** Give up when the engine reports no progress for this long. */
  stallMs?: number;
  /** Give up when the whole pull takes longer. */
  timeoutMs?: number;
}

export interface BuildRequest extends BuildOptions {
  /** The build context as a tar archive (the Dockerfile inside it). */
  context: Buffer;
  /** Path of the Dockerfile inside the archive. */
  dockerfile: string;
  /** Every tag the image gets (the first is berth's content tag). */
  tags: string[];
}

/** A build that failed: the step (`Step 3/5 : RUN make`) and the last lines of its output. */
export class BuildError extends Error {
  constructor(
    readonly step: string | null,
    readonly tail: string[],
    readonly detail: string,
  ) {
    super(`${step ? `${step}: ` : ''}${detail}${tail.length > 0 ? `\n${tail.map((l) => `    | ${l}`).join('\n')}` : ''}`);
    this.name = 'BuildError';
  }
}

export interface CreateContainerOptions {
  /**
   * false: join the networks without the service name and aliases, so DNS
   * does not send the service's clients to a container that is not ready
   * (start-first adds them once it is). Default true.
   */
  aliases?: boolean;
}

export interface ContainerDetails {
  id: string;
  name: string;
  running: boolean;
  /** `exited`, `running`, … */
  status: string;
  exitCode: number;
  health: Health;
  /** Output of the last health probe, trimmed (for failure messages). */
  lastHealthOutput: string | null;
  /** Whether the image defines or the spec sets a healthcheck. */
  hasHealthcheck: boolean;
  restartCount: number;
  labels: Record<string, string>;
  networks: string[];
  /** IPv4 address on each network (network name → address; empty while not running). */
  addresses: Record<string, string>;
}

export interface DockerEvent {
  type: 'container' | 'network' | 'volume';
  action: string;
  /** Container/network id or volume name. */
  id: string;
  /** Container name, network name or volume name when the engine gives it. */
  name: string;
  labels: Record<string, string>;
  /** Milliseconds since the epoch (the engine's `timeNano`), comparable with `Date.now()`. */
  time: number;
}
