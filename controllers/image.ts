import type { ServiceSpec } from '../src/model/desired.js';
import type { LiveContainer, LiveImage } from '../src/model/live.js';
import type { ImagePlan } from '../src/model/plan.js';
import { repoDigestFor, type ImagePin } from '../src/registry/pins.js';
import { followsTag, scheduleOf } from '../src/registry/pull-schedule.js';
import { byDigest, shortDigest } from '../src/registry/reference.js';
import { normalizeImageRef } from './context.js';

/**
 * What the planner knows about images beyond the local store (all plain data,
 * gathered before planning): the digest pins of definitions berth ran before,
 * and what the registries answered for the tags that were checked.
 */
export interface ImageInputs {
  /** Config hash → what ran for that definition (state dir `image-pins.json`). */
  pins: Readonly<Record<string, ImagePin>>;
  /** Normalized ref → the digest its tag names in the registry now (only refs that were checked). */
  remote: ReadonlyMap<string, string>;
  /** Normalized ref → why its registry check failed (an outage is a warning, not a plan error). */
  remoteErrors: ReadonlyMap<string, string>;
  /** Whether every tag was checked (`plan --refresh`), not only those whose pull policy is due. */
  refreshAll: boolean;
}

export const NO_IMAGE_INPUTS: ImageInputs = { pins: {}, remote: new Map(), remoteErrors: new Map(), refreshAll: false };

/** Local images indexed for lookups by ID and by normalized tag. */
export interface ImageIndex {
  byId: Map<string, LiveImage>;
  byTag: Map<string, LiveImage>;
}

export function imageIndex(images: LiveImage[] | undefined): ImageIndex {
  const byId = new Map<string, LiveImage>();
  const byTag = new Map<string, LiveImage>();
  for (const img of images ?? []) {
    byId.set(img.id, img);
    for (const t of img.repoTags) byTag.set(normalizeImageRef(t), img);
  }
  return { byId, byTag };
}

export interface ImageDecision {
  image: ImagePlan;
  /** For a create/recreate: why the image is what it is (a pin that differs from the tag). */
  reasons: string[];
  /** The running container must be replaced because its tag moved (pull_policy always/interval). */
  moved: string | null;
  errors: string[];
  warnings: string[];
}

/**
 * The image a service's container should run, decided from plain data:
 *  - a definition berth ran before (and whose pull policy does not follow the
 *    tag) runs the pinned image ID again — from the local store, else pulled
 *    by digest;
 *  - otherwise the tag: pulled when absent; with `always` / a due interval /
 *    `--refresh`, compared with the registry's digest, and a moved tag is a
 *    change (for `missing` only a warning: that policy keeps what it has).
 */
export function decideImage(spec: ServiceSpec, index: ImageIndex, present: boolean, inputs: ImageInputs, current?: LiveContainer): ImageDecision {
  const ref = normalizeImageRef(spec.image);
  const schedule = scheduleOf(spec);
  const out: ImageDecision = { image: { pullRef: null, run: spec.image, digest: null, pinnedAt: null }, reasons: [], moved: null, errors: [], warnings: [] };
  const tagImage = index.byTag.get(ref);
  const tagDigest = repoDigestFor(tagImage, spec.image);
  const remote = inputs.remote.get(ref) ?? null;
  const remoteError = inputs.remoteErrors.get(ref);
  if (remoteError) out.warnings.push(`${spec.stack}/${spec.name}: ${remoteError}; planned with the images on the host`);

  const pin = followsTag(schedule) ? undefined : inputs.pins[spec.configHash];
  if (pin) {
    const nowNames = remote ?? tagDigest ?? tagImage?.id ?? null;
    const same = tagImage?.id === pin.imageId || (pin.digest !== null && nowNames === pin.digest);
    if (!same) {
      const local = index.byId.has(pin.imageId);
      out.image = { pullRef: null, run: pin.imageId, digest: pin.digest, pinnedAt: pin.revision };
      const tagNote = nowNames ? `the tag now names ${shortDigest(nowNames)}` : 'the tag is not on the host';
      const at = pin.revision ? ` as run at ${pin.revision.slice(0, 7)}` : '';
      out.reasons.push(`image ${spec.image} (pinned to ${shortDigest(pin.digest ?? pin.imageId)}${at}; ${tagNote})`);
      if (!local) {
        if (pin.digest) out.image.pullRef = byDigest(spec.image, pin.digest);
        else if (schedule.kind === 'never') out.errors.push(`image ${pin.imageId} that ${spec.image} named when this definition last ran is gone, and it never came from a registry; pull_policy is never`);
        else {
          // Never came from a registry: nothing to pull by digest, so the tag is the best there is.
          out.warnings.push(`${spec.stack}/${spec.name}: image ${shortDigest(pin.imageId)} last run for this definition is gone and has no registry digest; running ${spec.image} as it is now`);
          out.image = { pullRef: present ? null : spec.image, run: spec.image, digest: null, pinnedAt: null };
        }
        if (schedule.kind === 'never' && pin.digest) out.errors.push(`image ${spec.image} pinned to ${shortDigest(pin.digest)} is not on the host and pull_policy is never; pull or load it first`);
      }
      return out;
    }
    out.image.digest = pin.digest;
  }

  if (!present) {
    if (schedule.kind === 'never') out.errors.push(`image ${spec.image} is not on the host and pull_policy is never; pull or load it first`);
    else out.image.pullRef = spec.image;
    return out;
  }
  out.image.digest = out.image.digest ?? tagDigest;
  if (schedule.kind === 'build') {
    // Rebuilt before planning (src/build/phase.ts rebuildAlways): a build that made a new image replaces the container.
    if (current && tagImage && current.imageId !== tagImage.id) out.moved = `rebuilt: ${spec.image} is now ${shortDigest(tagImage.id)} (running ${shortDigest(current.imageId)})`;
    return out;
  }
  if (remote === null) {
    // Not asked (no registry client, as in a bare planner): `always` keeps its Compose meaning and pulls.
    if (schedule.kind === 'always' && !remoteError) out.image.pullRef = spec.image;
    return out;
  }
  const running = current ? repoDigestFor(index.byId.get(current.imageId), spec.image) ?? tagDigest : tagDigest;
  if (running === remote) return out;
  const moved = `tag moved: ${spec.image} now names ${shortDigest(remote)} (${current ? 'running' : 'the host has'} ${running ? shortDigest(running) : 'an image with no registry digest'})`;
  if (!followsTag(schedule)) {
    out.warnings.push(`${spec.stack}/${spec.name}: ${moved}; pull_policy ${spec.pullPolicy} keeps the image on the host`);
    return out;
  }
  out.moved = moved;
  out.image = { pullRef: tagDigest === remote ? null : spec.image, run: spec.image, digest: remote, pinnedAt: null };
  return out;
}
