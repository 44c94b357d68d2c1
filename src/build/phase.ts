import PQueue from 'p-queue';
import type { DesiredState, ServiceSpec } from '../model/desired.js';
import type { Op, Plan, PlanError, ServiceCreateOp, ServiceRecreateOp } from '../model/plan.js';
import type { Clock } from '../ports/clock.js';
import { BuildError, type DockerPort } from '../ports/docker.js';

/**
 * The build step of an apply, before any container of the plan is touched:
 * every image the plan builds is ready, or the apply stops with nothing
 * changed. Builds run concurrently up to a bound; each reports `step N/M`
 * while it runs and one result when it ends. Two services with the same
 * content tag build once.
 *
 * Kept apart from apply.ts so it joins the image-preparation phase (pulls)
 * as one "prepare images" step.
 */
export interface BuildPhaseDeps {
  docker: DockerPort;
  clock: Clock;
  /** The context archive of a built service (src/adapters/build-context.ts). */
  archive(spec: ServiceSpec): Promise<{ tar: Buffer; dockerfile: string }>;
  concurrency?: number;
  progress?(target: { object: string }, message: string): void;
  /** One line per build (logs, --json). */
  finished?(result: BuildResult): void;
}

export type { BuildResult } from '../model/outcome.js';
import type { BuildResult } from '../model/outcome.js';

/** Mark the plan's create/recreate ops of built services: they build instead of pulling. Pure. */
export function withBuildSteps(plan: Plan): Plan {
  return {
    ...plan,
    ops: plan.ops.map((op) => {
      if ((op.kind !== 'service.create' && op.kind !== 'service.recreate') || !op.service.build?.tag) return op;
      return { ...op, build: op.pull, pull: false };
    }),
  };
}

export type BuildOutcome = { results: BuildResult[]; errors: PlanError[]; built: string[] };

/** One image to build: the service and the name its progress and result go under (`stack/service`). */
interface BuildJob {
  object: string;
  service: ServiceSpec;
}

/** Build the images the plan's ops need (their content tag is not on the host). */
export function buildImages(plan: Plan, deps: BuildPhaseDeps): Promise<BuildOutcome> {
  const ops = plan.ops.filter((op): op is ServiceCreateOp | ServiceRecreateOp => (op.kind === 'service.create' || op.kind === 'service.recreate') && op.build === true);
  return runBuilds(ops.map((op) => ({ object: op.object, service: op.service })), deps);
}

/**
 * Compose's `pull_policy: build`: the image is built on every apply, whether
 * or not its content tag is on the host, and never pulled. Run before the
 * plan is made, so the planner compares the running container with what the
 * build made: the builder's layer cache gives the same image for the same
 * inputs (nothing is restarted), and a build that made a new image (a `RUN`
 * that fetches, `no_cache`, a moved base with `pull`) replaces the container
 * (controllers/image.ts). A failed build is a plan error: nothing changed.
 */
export function rebuildAlways(desired: DesiredState, deps: BuildPhaseDeps): Promise<BuildOutcome> {
  const jobs = desired.stacks.flatMap((s) => s.services.filter((svc) => svc.pullPolicy === 'build' && svc.build?.tag).map((svc) => ({ object: `${s.name}/${svc.name}`, service: svc })));
  return runBuilds(jobs, deps);
}

async function runBuilds(jobs: BuildJob[], deps: BuildPhaseDeps): Promise<BuildOutcome> {
  const queue = new PQueue({ concurrency: deps.concurrency ?? 2 });
  const byTag = new Map<string, Promise<BuildResult>>();
  const results: BuildResult[] = [];
  const errors: PlanError[] = [];
  await Promise.all(
    jobs.map(async (job) => {
      const tag = job.service.build!.tag!;
      let run = byTag.get(tag);
      if (!run) {
        run = queue.add(() => buildOne(job, deps), { throwOnTimeout: true });
        byTag.set(tag, run);
      }
      const r = await run;
      if (r.object === job.object) results.push(r);
      if (r.result === 'failed') errors.push({ code: 'build-failed', stack: job.service.stack, object: job.service.name, message: `build of ${job.object} failed; nothing was changed: ${r.error}` });
    }),
  );
  results.sort((a, b) => (a.object < b.object ? -1 : 1));
  return { results, errors, built: results.filter((r) => r.result !== 'failed').map((r) => r.tag) };
}

async function buildOne(job: BuildJob, deps: BuildPhaseDeps): Promise<BuildResult> {
  const t0 = deps.clock.now();
  const build = job.service.build!;
  const tag = build.tag!;
  const done = (result: BuildResult['result'], error?: string): BuildResult => {
    const r: BuildResult = { object: job.object, tag, result, durationMs: deps.clock.now() - t0, ...(error ? { error } : {}) };
    deps.finished?.(r);
    return r;
  };
  if (build.pullFirst && build.alsoTag) {
    try {
      deps.progress?.(job, `pulling ${build.alsoTag}`);
      await deps.docker.pullImage(build.alsoTag);
      await deps.docker.tagImage(build.alsoTag, tag);
      return done('pulled');
    } catch {
      // Compose's rule: a failed pull falls back to the build.
    }
  }
  try {
    deps.progress?.(job, `building ${tag}`);
    const ctx = await deps.archive(job.service);
    let lastStep = '';
    await deps.docker.buildImage(
      {
        context: ctx.tar,
        dockerfile: ctx.dockerfile,
        tags: [tag, ...(build.alsoTag ? [build.alsoTag] : [])],
        args: build.args,
        target: build.target,
        labels: build.labels,
        network: build.network,
        extraHosts: build.extraHosts,
        shmSizeBytes: build.shmSizeBytes,
        noCache: build.noCache,
        pull: build.pull,
        cacheFrom: build.cacheFrom,
        platform: build.platform,
      },
      (line) => {
        const m = /^Step (\d+\/\d+) : /.exec(line);
        if (m && m[1] !== lastStep) {
          lastStep = m[1]!;
          deps.progress?.(job, `build step ${lastStep}`);
        }
      },
    );
    return done('built');
  } catch (e) {
    return done('failed', e instanceof BuildError ? e.message : (e as Error).message);
  }
}
