import { applyPlan, type ApplyReporter, type ApplyResult, type ReplaceContainer } from '../apply/apply.js';
import { buildAppliedRecord, mergeAppliedRecord } from '../apply/applied-record.js';
import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import type { SecretsContext } from '../secrets/repo-secrets.js';
import type { SecretFileStore } from '../secrets/materialize.js';
import type { AppliedRecord as Applied } from '../model/applied.js';
import type { Validators } from '../compose/schema.js';
import type { AppliedRecord } from '../model/applied.js';
import type { DesiredState, ServiceSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { LiveState } from '../model/live.js';
import type { ReconcileOutcome, ReconcileResult } from '../model/outcome.js';
import type { Op, Plan } from '../model/plan.js';
import { observe } from '../observe/observe.js';
import { engineCapabilityErrors, engineRequirements } from '../plan/engine-capabilities.js';
import { buildPlan } from '../plan/build-plan.js';
import { buildHistoryEntry } from '../history/entry.js';
import { withoutDriftRepairs } from '../drift/self-heal.js';
import { withoutHeldRollouts } from '../rollout/hold.js';
import { EMPTY_IMAGE_LEDGER, imagesToPrune, recordApplied, type ImageLedger } from '../images/retention.js';
import type { BakeGate } from '../rollout/types.js';
import type { Clock } from '../ports/clock.js';
import type { DockerPort } from '../ports/docker.js';
import type { DesiredSource } from '../ports/git.js';
import type { StateStore } from '../ports/state.js';
import type { CredentialsPort, RegistryPort } from '../ports/registry.js';
import { gatherImageInputs, recordImageFacts } from '../registry/image-facts.js';
import { imageOps, pullRefOf } from '../apply/prepare-images.js';
import { normalizeImageRef } from '../../controllers/context.js';
import { identifiedDesired, type WorkingTreeHasher } from '../files/identify.js';
import { materializePlan, snapshotsInUse } from '../files/prepare.js';
import type { FileMaterializer } from '../files/snapshot.js';
import type { GitPort } from '../ports/git.js';
import { buildImages, rebuildAlways, withBuildSteps, type BuildPhaseDeps, type BuildResult } from '../build/phase.js';
import { targetPart } from '../targets/targets.js';

/** Repository files as desired state (src/files): content identity, and the snapshots containers mount. */
export interface RepoFilesDeps {
  git: Pick<GitPort, 'objectIds' | 'changedPaths' | 'readTree'> | null;
  hasher: WorkingTreeHasher;
  store: FileMaterializer;
  /** The tar archive `POST /build` reads for a built service of the repository at `root` (adapters/build-context.ts). */
  contextArchive(root: string, spec: ServiceSpec): Promise<{ tar: Buffer; dockerfile: string }>;
}

/**
 * One pass of observe → plan → (apply): the unit of work of `berth plan`,
 * `berth apply` and every loop of `berth run`. Returns what happened as data;
 * callers decide how to print, log, count or notify it.
 */
export interface ReconcileDeps {
  docker: DockerPort;
  state: StateStore;
  clock: Clock;
  env: Record<string, string | undefined>;
  validators?: Validators;
  reporter?: ApplyReporter;
  signal?: AbortSignal;
  replace?: ReplaceContainer;
  /** The Traefik bake gate for start-first rollouts (built by the caller from berth.yaml `traefik`). */
  bake?: (desired: DesiredState) => BakeGate | undefined;
  /** `<stack>/<service>` whose rollout at this revision was rolled back: not retried (the controller's rule). */
  hold?: ReadonlySet<string>;
  concurrency?: number;
  /**
   * Remembers, per desired state, the applied record a no-op pass found already up to date
   * (kept by the controller across passes): the next no-op pass with the same record, revision
   * and holds skips rebuilding and comparing the record, which for 1,000 services was most of the pass.
   */
  upToDate?: WeakMap<DesiredState, { key: string; applied: AppliedRecord }>;
  /** Identities and paths for SOPS files of the repository (load-secrets.ts). */
  secrets?: SecretsContext;
  /** Where decrypted files that containers mount are written before an apply. */
  secretFiles?: SecretFileStore;
  /** Absent: repository files are not identified nor snapshotted (tests of other concerns). */
  files?: RepoFilesDeps;
  /** `pull_policy: build` services are built before planning (default true; false on the controller's healing passes). */
  rebuildAlways?: boolean;
  /** One call per image build of an apply (logs, --json, the terminal). */
  onBuild?: (result: BuildResult) => void;
  /** An apply pass has observed the host, before it plans or repairs anything (drift is announced from here). */
  onObserved?: (live: LiveState, applied: AppliedRecord | null) => Promise<void>;
  /** Called once when an apply with ops starts (berth/deploy pending). */
  onApplying?: (desired: DesiredState, plan: Plan) => void;
  /** Refuse a desired state with berth.yaml `hosts:` (see LoadOptions.refuseHosts). */
  refuseHosts?: string;
  /** The berth.yaml host this pass is for: only its part of the desired state (targets/targets.ts). */
  target?: string;
  /** Registry credentials (the docker config) for pulls. */
  credentials?: CredentialsPort;
  /** Manifest HEADs for `pull_policy: always` / intervals and `--refresh`; absent: the registry is never asked. */
  registry?: RegistryPort;
  /** Ask the registry about every tag, not only those whose pull policy is due (`plan --refresh`). */
  refresh?: boolean;
}

export type { ReconcileOutcome, ReconcileResult } from '../model/outcome.js';

/**
 * `preloaded`: a desired state loaded earlier from `source` (the controller
 * keeps the last good one in memory: the checkout on disk may already hold a
 * newer, invalid commit).
 */
export async function reconcile(source: DesiredSource, deps: ReconcileDeps, mode: 'plan' | 'apply', preloaded?: DesiredState): Promise<ReconcileResult> {
  const t0 = deps.clock.now();
  const base = { source, live: null, applied: null, plan: null, held: [] as Op[], apply: null };
  const loaded = preloaded
    ? { state: preloaded, diagnostics: [] as Diagnostic[] }
    : await loadDesiredStateWithSecrets(source.dir, { env: deps.env, validators: deps.validators, refuseHosts: deps.refuseHosts, secrets: deps.secrets });
  const { diagnostics } = loaded;
  if (!loaded.state) return { ...base, outcome: 'invalid', diagnostics, desired: null, durationMs: deps.clock.now() - t0 };
  let desired = deps.target !== undefined ? targetPart(loaded.state, deps.target) : loaded.state;
  if (deps.files) {
    const identified = await identifiedDesired(desired, source, deps.files.git, deps.files.hasher);
    if (!identified.desired) return { ...base, outcome: 'invalid', diagnostics: [...diagnostics, ...identified.diagnostics], desired: null, durationMs: deps.clock.now() - t0 };
    desired = identified.desired;
  }

  // Keys a newer engine than 20.10 must do: the engine is asked its version only when there are some.
  const needs = engineRequirements(desired);
  const buildDeps: BuildPhaseDeps = {
    docker: deps.docker,
    clock: deps.clock,
    archive: (spec) => {
      if (!deps.files) throw new Error(`${spec.stack}/${spec.name}: this pass was given no repository files to build from`);
      return deps.files.contextArchive(desired.root, spec);
    },
    progress: (target, message) => deps.reporter?.progress?.(target, message),
    finished: deps.onBuild,
  };
  // `pull_policy: build` builds on every apply, before observing, so the plan sees what the build made.
  const always = mode === 'apply' && deps.rebuildAlways !== false ? await rebuildAlways(desired, buildDeps) : null;
  const [live, applied, images, engine] = await Promise.all([
    observe(deps.docker),
    deps.state.readApplied(),
    gatherImageInputs(desired, deps.state, deps.registry, deps.clock.now(), deps.refresh ?? false),
    needs.length > 0 ? deps.docker.engineVersion() : null,
  ]);
  if (mode === 'apply') await deps.onObserved?.(live, applied);
  const planned = buildPlan(desired, live, applied, source.revision, images.inputs);
  const tooOld = engine ? engineCapabilityErrors(needs, engine) : [];
  const repairs = withoutDriftRepairs(tooOld.length > 0 ? { ...planned, errors: [...planned.errors, ...tooOld] } : planned, desired, applied);
  const rollouts = withoutHeldRollouts(repairs.plan, deps.hold, live);
  let plan = withBuildSteps(rollouts.plan);
  const held = [...repairs.held, ...rollouts.held];
  let builds: BuildResult[] | undefined = always && always.results.length > 0 ? always.results : undefined;
  if (always && always.errors.length > 0) plan = { ...plan, errors: [...plan.errors, ...always.errors] };
  const done = (outcome: ReconcileOutcome, apply: ApplyResult | null = null): ReconcileResult => ({
    outcome,
    source,
    diagnostics,
    desired,
    live,
    applied,
    plan,
    held,
    apply,
    ...(builds ? { builds } : {}),
    durationMs: deps.clock.now() - t0,
  });
  if (plan.errors.length > 0) return done('plan-error');
  if (mode === 'plan') return done(plan.ops.length === 0 ? 'in-sync' : 'changes-pending');

  const heldKey = `${source.revision}\0${source.origin}\0${rollouts.held.map((op) => op.object).sort().join('\0')}`;
  const known = deps.upToDate?.get(desired);
  if (plan.ops.length === 0 && applied !== null && known?.applied === applied && known.key === heldKey) return done('in-sync');

  const release = await deps.state.lock();
  try {
    const salt = await deps.state.salt();
    const full = buildAppliedRecord(desired, source.revision, source.origin, salt, new Date(deps.clock.now()));
    // Held services still run what was applied before; the record must say so (or drift would flag them).
    const heldServices = new Set(rollouts.held.map((op) => op.object));
    const record = heldServices.size > 0 ? mergeAppliedRecord(applied, full, heldServices) : full;
    // Decrypted files first, every pass: a reboot empties /run while the containers stay.
    await writeSecretFiles(deps, desired);
    if (plan.ops.length === 0) {
      // Record even a no-op so drift and status have a baseline for this revision.
      if (!applied || applied.revision !== record.revision || JSON.stringify(applied.stacks) !== JSON.stringify(record.stacks)) {
        await deps.state.writeApplied(record);
      } else {
        deps.upToDate?.set(desired, { key: heldKey, applied });
      }
      await recordImageFacts(deps.state, desired, live, images.checked, new Date(deps.clock.now()));
      await sweepSecretFiles(deps, desired, record);
      return done('in-sync');
    }
    // Everything the new containers need exists before any of them is touched: images, then files.
    let built: string[] = always?.built ?? [];
    if (plan.ops.some((op) => (op.kind === 'service.create' || op.kind === 'service.recreate') && op.build)) {
      const b = await buildImages(plan, buildDeps);
      builds = [...(builds ?? []), ...b.results];
      built = [...built, ...b.built];
      if (b.errors.length > 0) {
        plan = { ...plan, errors: [...plan.errors, ...b.errors] };
        return done('plan-error');
      }
    }
    const ready = deps.files ? await materializePlan(plan, desired.root, deps.files.store) : plan;
    deps.onApplying?.(desired, plan);
    const result = await applyPlan(ready, {
      docker: deps.docker,
      clock: deps.clock,
      desired,
      settings: desired.settings,
      revision: source.revision,
      reporter: deps.reporter,
      signal: deps.signal,
      replace: deps.replace,
      bake: deps.bake?.(desired),
      concurrency: deps.concurrency,
      credentials: deps.credentials,
    });
    const pulling = new Set(imageOps(plan.ops).flatMap((op) => pullRefOf(op) ?? []).map(normalizeImageRef));
    // The host after the apply (two list calls, only when something changed): what each definition runs now gets pinned.
    const [containersNow, imagesNow] = await Promise.all([deps.docker.listContainers(), deps.docker.listImages()]).catch(() => [live.containers, live.images] as const);
    await recordImageFacts(deps.state, desired, { containers: containersNow, images: imagesNow }, [...images.checked.filter((r) => !pulling.has(r)), ...result.pulled], new Date(deps.clock.now()));
    const written = result.ok ? record : mergeAppliedRecord(applied, record, new Set([...result.notApplied, ...heldServices]));
    await deps.state.writeApplied(written);
    await sweepSecretFiles(deps, desired, written);
    await retainImages(deps, desired, live, source.revision, [...result.pulled, ...built]);
    if (deps.files) await deps.files.store.sweep(snapshotsInUse(desired, await deps.docker.listContainers()));
    await deps.state.appendHistory(buildHistoryEntry(source, plan, result, new Date(deps.clock.now())));
    return done(result.ok ? 'converged' : 'failed', result);
  } finally {
    await release();
  }
}

async function writeSecretFiles(deps: ReconcileDeps, desired: DesiredState): Promise<void> {
  if (!desired.secretFiles) return;
  if (!deps.secretFiles) throw new Error('the desired state mounts decrypted SOPS files but no place to write them was given');
  await deps.secretFiles.write(desired.secretFiles.entries());
}

/** Remove decrypted files no container of the desired state or of the written record (a rolled-back service's old one) uses. */
async function sweepSecretFiles(deps: ReconcileDeps, desired: DesiredState, record: Applied): Promise<void> {
  if (!deps.secretFiles) return;
  const keep = new Set(desired.secretFiles?.paths ?? []);
  for (const st of record.stacks) for (const svc of st.services) for (const m of svc.mounts) if (m.type === 'bind') keep.add(m.source);
  await deps.secretFiles.sweep(keep);
}

/**
 * Image retention after an apply: remember this revision's images and what
 * berth pulled; with `images.prune`, remove pulled images that neither the
 * last `keepRevisions` revisions nor any container use. A failure here is
 * logged by the caller's outcome, never fatal to the apply.
 */
async function retainImages(deps: ReconcileDeps, desired: DesiredState, live: LiveState, revision: string | null, pulled: string[]): Promise<void> {
  const { keepRevisions, prune } = desired.settings.images;
  const images = desired.stacks.flatMap((s) => s.services.map((svc) => svc.image));
  const before = (await deps.state.readJson<ImageLedger>('images.json').catch(() => null)) ?? EMPTY_IMAGE_LEDGER;
  let ledger = recordApplied(before, revision, images, pulled, keepRevisions);
  if (prune) {
    const inUse = [...images, ...live.containers.map((c) => c.image)];
    const removed = new Set<string>();
    for (const ref of imagesToPrune(ledger, keepRevisions, inUse)) {
      // false: a container uses it (kept for a later pass) or it is gone already.
      const ok = await deps.docker.removeImage(ref).catch(() => false);
      if (ok) removed.add(ref);
    }
    ledger = { ...ledger, pulled: ledger.pulled.filter((r) => !removed.has(r)) };
  }
  await deps.state.writeJson('images.json', ledger);
}
