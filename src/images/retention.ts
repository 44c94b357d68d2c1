import { normalizeImageRef } from '../../controllers/context.js';

/**
 * What berth remembers about images (state dir `images.json`): the ones it
 * pulled itself, and the images of the last applied revisions. PRODUCT.md
 * §8: images of the last `keepRevisions` (default 5) applied revisions are
 * kept, so `git revert` rolls back without a pull; with `images.prune`,
 * older images that berth pulled and nothing uses are removed. Images berth
 * did not pull are never removed.
 */
export interface ImageLedger {
  /** Normalized refs berth pulled and has not removed. */
  pulled: string[];
  /** Newest last. */
  revisions: { revision: string | null; images: string[] }[];
}

export const EMPTY_IMAGE_LEDGER: ImageLedger = { pulled: [], revisions: [] };

/** The ledger after an apply of `revision` that uses `images`, in which berth pulled `pulledNow`. */
export function recordApplied(ledger: ImageLedger, revision: string | null, images: string[], pulledNow: string[], keepRevisions: number): ImageLedger {
  const norm = (xs: string[]) => [...new Set(xs.map(normalizeImageRef))].sort();
  const revisions = [...ledger.revisions.filter((r) => r.revision !== revision), { revision, images: norm(images) }];
  // Keep more history than the retention window needs only up to a bound: the ledger must not grow forever.
  const bounded = revisions.slice(-Math.max(1, keepRevisions));
  return { pulled: norm([...ledger.pulled, ...pulledNow]), revisions: bounded };
}

/**
 * Images to remove: pulled by berth, used by none of the kept revisions and
 * by no container on the host (running or not).
 */
export function imagesToPrune(ledger: ImageLedger, keepRevisions: number, inUse: Iterable<string>): string[] {
  const keep = new Set<string>();
  for (const r of ledger.revisions.slice(-Math.max(1, keepRevisions))) for (const i of r.images) keep.add(i);
  for (const i of inUse) keep.add(normalizeImageRef(i));
  return ledger.pulled.filter((i) => !keep.has(i));
}
