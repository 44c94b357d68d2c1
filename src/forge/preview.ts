import { loadDesiredState } from '../compose/load.js';
import type { Validators } from '../compose/schema.js';
import { lint } from '../lint/lint.js';
import type { Finding } from '../lint/finding.js';
import { reconcile, type RepoFilesDeps } from '../loop/reconcile.js';
import type { BerthSettings, DesiredState, TargetSpec } from '../model/desired.js';
import { partitionByTarget, targetPart } from '../targets/targets.js';
import { identifiedDesired } from '../files/identify.js';
import { planOnManager } from '../swarm/host.js';
import type { SwarmPlan } from '../swarm/plan.js';
import type { SwarmPort } from '../ports/swarm.js';
import type { Diagnostic } from '../model/errors.js';
import type { Plan } from '../model/plan.js';
import type { Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import type { DesiredSource } from '../ports/git.js';
import type { StateStore } from '../ports/state.js';

/**
 * A plan preview of a pull request's head: validate, lint and plan it against
 * the live host, read-only. Only reads happen here — the loader reads the
 * checkout, observe() lists the engine's objects, the state store gives the
 * applied record — and no registry, build, secret or container is touched.
 *
 * The head is untrusted input, so what the host holds stays out of what it
 * can make berth say:
 *  - every variable of the process environment interpolates as the literal
 *    `${NAME}` (previewEnv), so `image: ${DB_PASSWORD}` shows `${DB_PASSWORD}`;
 *  - SOPS files are never decrypted (no identities are given: such a file is
 *    refused, and the preview says so);
 *  - an `env_file` outside the checkout (a host file) fails the preview
 *    instead of being read into the plan (its values would change the config
 *    hash, and the plan would say whether a guess matched);
 *  - berth.yaml `notify:` and `forge:` are the deployed ones: a request
 *    cannot point berth's token or chat hooks somewhere else;
 *  - with berth.yaml `hosts:`, each host's part is planned against the engine
 *    berth drives for that host now, never an endpoint the head names: a
 *    host the head adds, or whose endpoint it changes, is not previewed;
 *    a swarm host's part is planned from the manager's lists (no update,
 *    no config or secret is made).
 */
export interface PreviewDeps {
  docker: DockerPort;
  state: StateStore;
  clock: Clock;
  /** The process environment: only its names are used. */
  env: Record<string, string | undefined>;
  validators?: Validators;
  files?: RepoFilesDeps;
  /**
   * The hosts berth drives (berth.yaml `hosts:` deployed), each with its own
   * engine and state; null or absent when berth drives the one engine of
   * DOCKER_HOST (a head with `hosts:` is then refused).
   */
  hosts?: () => PreviewHost[] | null;
}

/** A host berth drives: an engine (its plan is a container plan) or a swarm manager (`mode: swarm`). */
export type PreviewHost =
  | { spec: TargetSpec; docker: DockerPort; state: StateStore; files?: RepoFilesDeps; swarm?: undefined }
  | { spec: TargetSpec; swarm: () => Promise<SwarmPort>; files: Pick<RepoFilesDeps, 'git' | 'hasher'>; docker?: undefined };

/** One host's part of a multi-host preview: its plan (a swarm plan on a swarm host), or why it was not planned. */
export type HostPreview =
  | { host: string; plan: Plan; swarmPlan?: undefined; error?: undefined }
  | { host: string; swarmPlan: SwarmPlan; plan?: undefined; error?: undefined }
  | { host: string; plan?: undefined; swarmPlan?: undefined; error: string };

export type PreviewResult =
  | { kind: 'invalid'; source: DesiredSource; diagnostics: Diagnostic[] }
  /** `settings`: what the plan was made with (the head's, but the deployed notify and forge). */
  | { kind: 'planned'; source: DesiredSource; diagnostics: Diagnostic[]; plan: Plan; findings: Finding[]; settings: BerthSettings }
  /** berth.yaml `hosts:`: one plan per host of the head, in its order. */
  | { kind: 'hosts'; source: DesiredSource; diagnostics: Diagnostic[]; hosts: HostPreview[]; findings: Finding[]; settings: BerthSettings };

/** Each variable of `env` as its own name, `${NAME}`: interpolation keeps working (`:?` is satisfied, `:-` defaults stay for unset names) and shows where a host value would go. */
export function previewEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = `\${${k}}`;
  return out;
}

export async function planPreview(source: DesiredSource, deployed: BerthSettings | null, deps: PreviewDeps): Promise<PreviewResult> {
  const env = previewEnv(deps.env);
  const driven = deps.hosts?.() ?? null;
  const refuseHosts = driven === null ? { refuseHosts: 'this berth drives the one engine of DOCKER_HOST; berth.yaml `hosts:` is not previewed here' } : {};
  const loaded = loadDesiredState(source.dir, { env, validators: deps.validators, ...refuseHosts });
  // A host file is not the request's content: refuse it rather than read its values into the plan.
  const diagnostics = loaded.diagnostics.map((d) => (d.code === 'path-outside-repo' && d.severity === 'warning' ? { ...d, severity: 'error' as const, message: `${d.message}; a preview never reads host files` } : d));
  if (!loaded.state || diagnostics.some((d) => d.severity === 'error')) return { kind: 'invalid', source, diagnostics };
  const desired = { ...loaded.state, settings: { ...loaded.state.settings, notify: deployed?.notify ?? [], forge: deployed?.forge ?? null } };
  const findings = lint(desired, { positions: loaded.sources });
  if (driven !== null) {
    const targets = partitionByTarget(desired);
    const hosts = await Promise.all(
      targets.map(async (t): Promise<HostPreview> => {
        if (t.spec === null) return { host: '(none)', error: 'berth.yaml has no `hosts:` any more: merging this reconciles no host (berth run must be restarted to drive DOCKER_HOST)' };
        const name = t.spec.name;
        const on = driven.find((h) => h.spec.name === name);
        if (!on) return { host: name, error: 'not previewed: berth does not drive this host yet (a preview never connects to an endpoint a pull request names)' };
        if (!sameEndpoint(on.spec, t.spec)) return { host: name, error: 'not previewed: this change moves the host to another endpoint (a preview only plans against the engine berth drives now)' };
        try {
          if (on.swarm) return { host: name, swarmPlan: await swarmPreview(source, targetPart(desired, name), on) };
          const r = await reconcile(source, { docker: on.docker, state: on.state, clock: deps.clock, env, validators: deps.validators, files: on.files, target: name }, 'plan', desired);
          return r.plan ? { host: name, plan: r.plan } : { host: name, error: r.diagnostics.find((d) => d.severity === 'error')?.message ?? 'not planned' };
        } catch (e) {
          return { host: name, error: `could not plan against the host: ${(e as Error).message}` };
        }
      }),
    );
    return { kind: 'hosts', source, diagnostics, hosts, findings, settings: desired.settings };
  }
  const result = await reconcile(source, { docker: deps.docker, state: deps.state, clock: deps.clock, env, validators: deps.validators, files: deps.files }, 'plan', desired);
  if (!result.plan) return { kind: 'invalid', source, diagnostics: [...diagnostics, ...result.diagnostics.filter((d) => !diagnostics.includes(d))] };
  return { kind: 'planned', source, diagnostics, plan: result.plan, findings, settings: desired.settings };
}

/** A swarm host's part: its files identified (configs/secrets are named by content), planned against the manager's lists. */
async function swarmPreview(source: DesiredSource, part: DesiredState, on: Extract<PreviewHost, { swarm: () => Promise<SwarmPort> }>): Promise<SwarmPlan> {
  const identified = await identifiedDesired(part, source, on.files.git, on.files.hasher);
  if (!identified.desired) throw new Error(identified.diagnostics.map((d) => d.message).join('; '));
  return planOnManager(await on.swarm(), identified.desired);
}

function sameEndpoint(a: TargetSpec, b: TargetSpec): boolean {
  return a.docker === b.docker && a.mode === b.mode && JSON.stringify(a.tls) === JSON.stringify(b.tls);
}
