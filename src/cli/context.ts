import { createTraefikClient } from '../adapters/traefik-http.js';
import { bakeGateFactory } from '../rollout/traefik-bake-gate.js';
import type { BakeGate } from '../rollout/types.js';
import { join } from 'node:path';
import { defaultStateDir, StateDir } from '../adapters/state-dir.js';
import { SimpleGitPort } from '../adapters/simple-git.js';
import { loadDesiredState } from '../compose/load.js';
import type { Validators } from '../compose/schema.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import { isRemoteRepo, type DesiredSource, type GitPort } from '../ports/git.js';
import type { StateStore } from '../ports/state.js';
import type { CliIO } from './io.js';

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
  /** Compiled schemas to reuse; each load compiles its own when absent. */
  validators?: Validators;
}

export function createContext(io: CliIO): CliContext {
  const stateDir = defaultStateDir(io.env);
  let docker: Promise<DockerPort> | null = null;
  return {
    io,
    clock: systemClock,
    state: new StateDir(stateDir),
    git: new SimpleGitPort(join(stateDir, 'repos')),
    docker: () => (docker ??= openDocker(io.env)),
    bake: bakeGateFactory(systemClock, (api) => createTraefikClient(api)),
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
  return { dir: repo, revision: info?.revision ?? null, origin: repo, subject: info?.subject, author: info?.author };
}

export interface LoadedSource {
  source: DesiredSource;
  desired: DesiredState | null;
  diagnostics: Diagnostic[];
}

export async function loadSource(ctx: CliContext, repo: string, branch: string): Promise<LoadedSource> {
  const source = await resolveSource(ctx, repo, branch);
  const { state, diagnostics } = loadDesiredState(source.dir, { env: ctx.io.env, validators: ctx.validators });
  return { source, desired: state, diagnostics };
}
