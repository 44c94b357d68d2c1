import { createTraefikClient } from '../adapters/traefik-http.js';
import { bakeGateFactory, swarmBakeGateFactory } from '../rollout/traefik-bake-gate.js';
import type { BakeGate, SwarmBakeGate } from '../rollout/types.js';
import { join } from 'node:path';
import { defaultStateDir, StateDir } from '../adapters/state-dir.js';
import { SimpleGitPort } from '../adapters/simple-git.js';
import { buildContextArchive } from '../adapters/build-context.js';
import type { Validators } from '../compose/schema.js';
import type { DesiredState, TargetSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import type { SwarmPort } from '../ports/swarm.js';
import { isRemoteRepo, type DesiredSource, type GitPort } from '../ports/git.js';
import type { StateStore } from '../ports/state.js';
import type { CredentialsPort, RegistryPort } from '../ports/registry.js';
import { DockerConfigCredentials } from '../adapters/docker-credentials.js';
import { RegistryHttp } from '../adapters/registry-http.js';
import type { CliIO } from './io.js';
import { hostAgeIdentities, secretMaterialDir } from '../adapters/secrets-host.js';
import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import { SopsKeyring } from '../secrets/keyring.js';
import { DirSecretFileStore, type SecretFileStore } from '../secrets/materialize.js';
import type { SecretsContext } from '../secrets/repo-secrets.js';
import { FileStore } from '../adapters/file-store.js';
import { identifiedDesired } from '../files/identify.js';
import { FsWorkingTreeHasher } from '../adapters/working-tree-hasher.js';
import type { RepoFilesDeps } from '../loop/reconcile.js';

/**
 * The object graph of one CLI invocation. Built here, passed down: no module
 * holds a Docker client or a state dir of its own. The Docker adapter is
 * imported lazily so commands that do not talk to Docker (validate) do not
 * pay for loading it.
 */
export interface CliContext {
  io: CliIO;
  clock: Clock;
  state: StateStore;
  git: GitPort;
  docker: () => Promise<DockerPort>;
  /** The start-first bake gate for a desired state (Traefik, when berth.yaml configures it). */
  bake: (desired: DesiredState) => BakeGate | undefined;
  /** The same bake on a swarm host, once a service's new tasks run (`berth apply` and `berth run`). */
  swarmBake: (desired: DesiredState) => SwarmBakeGate | undefined;
  /** Compiled schemas to reuse; each load compiles its own when absent. */
  validators?: Validators;
  /** SOPS identities (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, sops' default key file) and the salt of mount paths. */
  secrets: () => Promise<SecretsContext>;
  /** Where decrypted files that containers mount are written (tmpfs under /run/berth when possible). */
  secretFiles: SecretFileStore;
  /** Repository files as desired state: content identity through git, snapshots in the state dir. */
  files: RepoFilesDeps;
  /** The Docker port of one berth.yaml host (tests may replace it). */
  targetDocker: (spec: TargetSpec) => Promise<DockerPort>;
  /** The Swarm port of a `mode: swarm` host (its manager). */
  targetSwarm: (spec: TargetSpec) => Promise<SwarmPort>;
  /** Set on a host's context: that host's Swarm port. */
  swarm?: () => Promise<SwarmPort>;
  /** Registry credentials as the Docker CLI finds them (DOCKER_CONFIG / ~/.docker/config.json). */
  credentials?: CredentialsPort;
  /** Manifest HEADs against registries (pull policies, `plan --refresh`). */
  registry?: RegistryPort;
}

export function createContext(io: CliIO): CliContext {
  const stateDir = defaultStateDir(io.env);
  let docker: Promise<DockerPort> | null = null;
  const credentials = new DockerConfigCredentials(io.env);
  const state = new StateDir(stateDir, ({ file, movedTo, reason }) =>
    io.err(`warning: state file ${file} could not be read (${reason}); ${movedTo ? `moved it to ${movedTo} and ` : ''}rebuilding it from the host's labels and git`),
  );
  const keyring = new SopsKeyring(hostAgeIdentities(io.env).keys);
  const materialDir = secretMaterialDir(stateDir);
  const git = new SimpleGitPort(join(stateDir, 'repos'));
  return {
    credentials,
    registry: new RegistryHttp(credentials),
    io,
    clock: systemClock,
    state,
    secrets: async () => ({ keyring, salt: await state.salt(), materialDir }),
    secretFiles: new DirSecretFileStore(materialDir),
    git,
    files: { git, hasher: new FsWorkingTreeHasher(), store: new FileStore(join(stateDir, 'files'), git), contextArchive: (root, spec) => buildContextArchive(root, spec, git) },
    docker: () => (docker ??= openDocker(io.env)),
    bake: bakeGateFactory(systemClock, (api) => createTraefikClient(api)),
    swarmBake: swarmBakeGateFactory(systemClock, (api) => createTraefikClient(api)),
    targetDocker: (spec) => openTargetDocker(spec, io.env),
    targetSwarm: (spec) => openTargetSwarm(spec, io.env),
  };
}

async function openTargetDocker(spec: TargetSpec, env: Record<string, string | undefined>): Promise<DockerPort> {
  const [{ DockerodeDocker }, { dockerConnectionForTarget }] = await Promise.all([import('../adapters/dockerode-docker.js'), import('../adapters/docker-connection.js')]);
  return new DockerodeDocker({ connection: dockerConnectionForTarget(spec, env) });
}

async function openTargetSwarm(spec: TargetSpec, env: Record<string, string | undefined>): Promise<SwarmPort> {
  const [{ DockerodeSwarm }, { dockerConnectionForTarget }] = await Promise.all([import('../adapters/dockerode-swarm.js'), import('../adapters/docker-connection.js')]);
  return new DockerodeSwarm(dockerConnectionForTarget(spec, env));
}

/**
 * The context of one berth.yaml host: its own Docker port and its own state
 * dir (`<BERTH_STATE_DIR>/hosts/<name>`: lock, applied record, drift ledger,
 * holds, history), so hosts never share a lock or a record. `io` lets the
 * caller group or prefix the host's output.
 */
export function targetContext(ctx: CliContext, spec: TargetSpec, io: CliIO): CliContext {
  let docker: Promise<DockerPort> | null = null;
  let swarm: Promise<SwarmPort> | null = null;
  const dir = join(ctx.state.dir, 'hosts', spec.name);
  return {
    ...ctx,
    io,
    state: new StateDir(dir),
    // Each host sweeps only the snapshots its own containers no longer use.
    files: { ...ctx.files, store: new FileStore(join(dir, 'files'), ctx.git) },
    docker: () => (docker ??= ctx.targetDocker(spec)),
    swarm: () => (swarm ??= ctx.targetSwarm(spec)),
  };
}

async function openDocker(env: Record<string, string | undefined>): Promise<DockerPort> {
  const { DockerodeDocker } = await import('../adapters/dockerode-docker.js');
  return DockerodeDocker.fromEnv(env);
}

/** `--repo DIR|URL` → a directory with the desired state and its revision. */
export async function resolveSource(ctx: CliContext, repo: string, branch: string): Promise<DesiredSource> {
  if (isRemoteRepo(repo)) return ctx.git.fetch(repo, branch);
  const info = await ctx.git.localRevision(repo);
  return { dir: repo, revision: info?.revision ?? null, origin: repo, subject: info?.subject, author: info?.author, dirty: info?.dirty };
}

export interface LoadedSource {
  source: DesiredSource;
  desired: DesiredState | null;
  diagnostics: Diagnostic[];
}

export async function loadSource(ctx: CliContext, repo: string, branch: string): Promise<LoadedSource> {
  const source = await resolveSource(ctx, repo, branch);
  const { state, diagnostics } = await loadDesiredStateWithSecrets(source.dir, { env: ctx.io.env, validators: ctx.validators, secrets: await ctx.secrets() });
  if (!state) return { source, desired: null, diagnostics };
  // The same content identity (and build tags) the apply used, so hashes compare with the host's labels.
  const identified = await identifiedDesired(state, source, ctx.files.git, ctx.files.hasher);
  return { source, desired: identified.desired, diagnostics: [...diagnostics, ...identified.diagnostics] };
}
