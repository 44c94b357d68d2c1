import { LABEL, isManaged } from '../labels.js';
import type { DesiredState } from '../model/desired.js';
import type { LiveContainer, LiveImage } from '../model/live.js';
import { parseImageRef } from './reference.js';

/**
 * What berth ran for one service definition (keyed by its config hash): the
 * image's ID and the manifest digest it came by. A later revision with the
 * same definition (a `git revert`, a redeploy of an older commit) runs this
 * again, even when the tag has moved since (state dir `image-pins.json`).
 */
export interface ImagePin {
  /** The reference as the compose file wrote it. */
  image: string;
  imageId: string;
  /** `sha256:…` manifest digest, null for an image that never came from a registry. */
  digest: string | null;
  /** The revision whose apply created the container. */
  revision: string | null;
  /** ISO time it was recorded (the oldest pins go first when the ledger is full). */
  at: string;
}

export interface PinLedger {
  pins: Record<string, ImagePin>;
}

export const EMPTY_PINS: PinLedger = { pins: {} };
const MAX_PINS = 2000;

/** The manifest digest `image` was pulled by for `ref`'s repository, if the engine knows one. */
export function repoDigestFor(image: LiveImage | undefined, ref: string): string | null {
  if (!image) return null;
  const want = parseImageRef(ref);
  for (const rd of image.repoDigests) {
    const got = parseImageRef(rd);
    if (got.registry === want.registry && got.repository === want.repository && got.digest) return got.digest;
  }
  return null;
}

/**
 * The ledger after an apply: every desired service whose canonical container
 * now runs its definition (config hash label) pins what that container runs.
 * Pins of definitions not on the host stay (that is the point: they are
 * what a revert goes back to), bounded to the newest MAX_PINS.
 */
export function recordPins(ledger: PinLedger, desired: DesiredState, containers: LiveContainer[], images: LiveImage[], now: Date): PinLedger {
  const byName = new Map(containers.map((c) => [c.name, c]));
  const byId = new Map(images.map((i) => [i.id, i]));
  const pins = { ...ledger.pins };
  let changed = false;
  for (const stack of desired.stacks) {
    for (const spec of stack.services) {
      const c = byName.get(spec.containerName);
      if (!c || !isManaged(c.labels) || c.labels[LABEL.configHash] !== spec.configHash || c.state === 'dead') continue;
      const prev = pins[spec.configHash];
      if (prev && prev.imageId === c.imageId) continue;
      const digest = c.labels[LABEL.imageDigest] || repoDigestFor(byId.get(c.imageId), spec.image);
      pins[spec.configHash] = { image: spec.image, imageId: c.imageId, digest, revision: c.labels[LABEL.revision] ?? null, at: now.toISOString() };
      changed = true;
    }
  }
  if (!changed) return ledger;
  const entries = Object.entries(pins);
  if (entries.length <= MAX_PINS) return { pins };
  entries.sort((a, b) => (a[1].at < b[1].at ? 1 : a[1].at > b[1].at ? -1 : 0));
  return { pins: Object.fromEntries(entries.slice(0, MAX_PINS)) };
}
