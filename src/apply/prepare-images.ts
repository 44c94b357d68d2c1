import PQueue from 'p-queue';
import { LABEL } from '../labels.js';
import { DEFAULT_SETTINGS, type BerthSettings } from '../model/desired.js';
import type { ImagePlan, Op, ServiceCreateOp, ServiceRecreateOp, ServiceRollingOp } from '../model/plan.js';
import type { Clock } from '../ports/clock.js';
import type { DockerPort, PullLimits, PullProgress } from '../ports/docker.js';
import type { CredentialsPort } from '../ports/registry.js';
import { repoDigestFor } from '../registry/pins.js';
import { parseImageRef } from '../registry/reference.js';
import { normalizeImageRef } from '../../controllers/context.js';

/**
 * The prepare phase of an apply: every image the plan needs is on the host
 * before the first container is created or stopped. A plan whose images
 * cannot all be had changes nothing. Pulls run concurrently (bounded); each
 * image is one line in the logs. Later kinds of preparation (builds) join
 * here as further steps over the same ops.
 */
export interface PullReporter {
  pullStarted?(image: string): void;
  pullProgress?(image: string, p: PullProgress): void;
  pullFinished?(image: string, outcome: { ok: boolean; durationMs: number; error?: string }): void;
}

export interface PrepareContext {
  docker: DockerPort;
  clock: Clock;
  credentials?: CredentialsPort;
  reporter?: PullReporter;
  /** Pulls at a time (default 3: layer downloads share one link). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Bounds of each pull (a registry that stops answering must not hang the apply). */
  limits?: PullLimits;
}

export interface PreparedImages {
  /** Refs pulled in this apply (for image retention and pull times). */
  pulled: string[];
  /** Pull ref → why it could not be pulled. Non-empty: the apply must not touch the host. */
  failures: Map<string, string>;
  /** Op id → the manifest digest its container will run (the `io.berth.image-digest` label). */
  digests: Map<string, string>;
}

type ImageOp = ServiceCreateOp | ServiceRecreateOp | ServiceRollingOp;

export function imageOps(ops: Op[]): ImageOp[] {
  return ops.filter((op): op is ImageOp => op.kind === 'service.create' || op.kind === 'service.recreate' || op.kind === 'service.rolling');
}

/** berth.yaml's pull bounds in milliseconds (settings made by hand without them: the defaults). */
export function pullLimits(settings: Pick<BerthSettings, 'images'>): PullLimits {
  const stall = settings.images.pullStallSeconds ?? DEFAULT_SETTINGS.images.pullStallSeconds!;
  const total = settings.images.pullTimeoutSeconds ?? DEFAULT_SETTINGS.images.pullTimeoutSeconds!;
  return { stallMs: stall * 1000, timeoutMs: total * 1000 };
}

/** What an op pulls first: the planner's pull ref (a tag or `repo@digest`), or null. */
export function pullRefOf(op: ImageOp): string | null {
  // A content-tagged image the build phase (src/build) made before this phase: never pulled.
  if (op.kind !== 'service.rolling' && op.build) return null;
  return op.image ? op.image.pullRef : op.pull ? op.service.image : null;
}

/** The image the op's container is created from. */
export function runImageOf(op: ImageOp): string {
  return op.image?.run ?? op.service.image;
}

export async function prepareImages(ops: Op[], ctx: PrepareContext): Promise<PreparedImages> {
  const wanted = imageOps(ops);
  const refs = [...new Set(wanted.map(pullRefOf).filter((r): r is string => r !== null))].sort();
  const pulled: string[] = [];
  const failures = new Map<string, string>();
  const queue = new PQueue({ concurrency: ctx.concurrency ?? 3 });
  await Promise.all(
    refs.map((ref) =>
      queue.add(async () => {
        if (ctx.signal?.aborted) {
          failures.set(ref, 'not pulled: shutdown requested');
          return;
        }
        const t0 = ctx.clock.now();
        ctx.reporter?.pullStarted?.(ref);
        try {
          const registry = parseImageRef(ref).registry;
          const auth = ctx.credentials ? await ctx.credentials.forRegistry(registry) : null;
          await ctx.docker.pullImage(ref, (p) => ctx.reporter?.pullProgress?.(ref, p), auth, ctx.limits);
          pulled.push(ref);
          ctx.reporter?.pullFinished?.(ref, { ok: true, durationMs: ctx.clock.now() - t0 });
        } catch (e) {
          const error = `image ${ref} could not be pulled from ${parseImageRef(ref).registry}: ${pullReason((e as Error).message, ref)}`;
          failures.set(ref, error);
          ctx.reporter?.pullFinished?.(ref, { ok: false, durationMs: ctx.clock.now() - t0, error });
        }
      }),
    ),
  );
  const digests = failures.size === 0 ? await runDigests(wanted, ctx.docker) : new Map<string, string>();
  return { pulled: pulled.sort(), failures, digests };
}

/** The engine's answer without berth's own `pull image X:` prefix (the message names the image already). */
function pullReason(message: string, ref: string): string {
  const prefix = `pull image ${ref}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** Digests of what each op runs: the planner's when it knew, else what the local store says after the pulls (one list call). */
async function runDigests(ops: ImageOp[], docker: DockerPort): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unknown = ops.filter((op) => {
    if (op.image?.digest) out.set(op.id, op.image.digest);
    return !op.image?.digest;
  });
  if (unknown.length === 0) return out;
  const images = await docker.listImages().catch(() => []);
  const byId = new Map(images.map((i) => [i.id, i]));
  const byTag = new Map(images.flatMap((i) => i.repoTags.map((t) => [normalizeImageRef(t), i] as const)));
  for (const op of unknown) {
    const run = runImageOf(op);
    const digest = repoDigestFor(byId.get(run) ?? byTag.get(normalizeImageRef(run)), op.service.image);
    if (digest) out.set(op.id, digest);
  }
  return out;
}

/** The op with its service spec pointing at the image it runs (a pinned image ID instead of the tag). */
export function withRunImage<T extends ImageOp>(op: T): T {
  const run = runImageOf(op);
  return run === op.service.image ? op : { ...op, service: { ...op.service, image: run } };
}

/** The digest label for an op's container, when the digest is known. */
export function digestLabel(prepared: PreparedImages | undefined, op: Op): Record<string, string> {
  const d = prepared?.digests.get(op.id);
  return d ? { [LABEL.imageDigest]: d } : {};
}

export type { ImagePlan };
