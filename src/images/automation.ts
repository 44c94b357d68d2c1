import { isMap, parseDocument } from 'yaml';
import type { ForgeSpec } from '../model/desired.js';
import type { ForgePort } from '../ports/forge.js';
import type { ImageRepoPort } from '../ports/image-repo.js';
import type { Logger } from '../ports/logger.js';
import type { RegistryPort } from '../ports/registry.js';
import { parseImageRef } from '../registry/reference.js';
import { setServiceImage } from './edit-image.js';
import { newestFittingTag, parseImagePolicy, type ImagePolicy } from './policy.js';

export interface ImageAutomationDeps {
  repo: ImageRepoPort;
  registry: RegistryPort;
  forgeFor: (spec: ForgeSpec) => ForgePort;
  log: Logger;
}

/** One service's image that a newer tag fits. */
export interface ImageUpdate {
  file: string;
  stack: string;
  service: string;
  from: string;
  to: string;
  policy: ImagePolicy;
}

export type UpdateOutcome =
  | { update: ImageUpdate; kind: 'pull-request'; number: number; url: string; created: boolean }
  | { update: ImageUpdate; kind: 'direct'; sha: string }
  | { update: ImageUpdate; kind: 'skipped'; reason: string };

/** The branch of an update: one per (stack, service, tag), so a second pass finds the first one's branch and request. */
export function updateBranch(u: Pick<ImageUpdate, 'stack' | 'service'>, tag: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/\.{2,}/g, '.').replace(/^[.-]+|\.lock$|\.+$/g, '');
  return `berth/image-${safe(u.stack)}-${safe(u.service)}-${safe(tag)}`;
}

/**
 * One pass of image automation (Flux's, for Compose): every service with an
 * `x-berth.imagePolicy` on the deployed branch gets its registry's tag list;
 * when a newer tag fits, one commit changes that `image:` line only, pushed
 * to a branch of its own with a pull request through the forge — or, with
 * `commit: direct`, to the deployed branch itself. Never twice for the same
 * (service, tag): an existing branch or request is left as it is.
 */
export class ImageAutomation {
  /** Updates already reported as waiting for a forge, so each is logged once, not every interval. */
  private readonly told = new Set<string>();

  constructor(private readonly deps: ImageAutomationDeps) {}

  async pass(url: string, branch: string, forge: ForgeSpec | null): Promise<UpdateOutcome[]> {
    const { repo, log } = this.deps;
    const { dir, revision } = await repo.checkout(url, branch);
    const outcomes: UpdateOutcome[] = [];
    try {
      const updates = await this.findUpdates(dir, revision);
      let head = revision;
      for (const u of updates) {
        try {
          const outcome = await this.apply(u, { dir, url, branch, base: revision, head, forge });
          if (outcome.kind === 'direct') head = outcome.sha;
          outcomes.push(outcome);
        } catch (e) {
          log.warn({ stack: u.stack, service: u.service, to: u.to, err: (e as Error).message }, 'image update failed; retried next interval');
        }
      }
    } finally {
      await repo.dispose(dir);
    }
    return outcomes;
  }

  private async findUpdates(dir: string, revision: string): Promise<ImageUpdate[]> {
    const { repo, registry, log } = this.deps;
    const out: ImageUpdate[] = [];
    for (const file of await repo.composeFiles(dir)) {
      const stack = file.split('/')[1]!;
      const doc = parseDocument(await repo.readFile(dir, revision, file));
      const services = doc.errors.length === 0 ? doc.get('services') : null;
      if (!isMap(services)) continue;
      for (const pair of services.items) {
        const service = String((pair.key as { value?: unknown })?.value ?? pair.key);
        const def = (pair.value as { toJSON?: () => unknown })?.toJSON?.() as Record<string, unknown> | undefined;
        const x = def?.['x-berth'] as Record<string, unknown> | undefined;
        if (!x || x.imagePolicy === undefined || typeof def?.image !== 'string') continue;
        const parsed = parseImagePolicy(x.imagePolicy);
        // An invalid policy is `berth validate`'s to report, with its FILE:LINE:COL.
        if (!('policy' in parsed)) continue;
        const image = def.image;
        const ref = parseImageRef(image);
        if (image.includes('$') || ref.digest || !ref.tag || !registry.listTags) continue;
        let tags: string[];
        try {
          tags = await registry.listTags(ref);
        } catch (e) {
          log.warn({ stack, service, err: (e as Error).message }, 'cannot list image tags');
          continue;
        }
        const newest = newestFittingTag(ref.tag, tags, parsed.policy);
        if (newest) out.push({ file, stack, service, from: image, to: `${image.slice(0, image.lastIndexOf(':') + 1)}${newest}`, policy: parsed.policy });
      }
    }
    return out;
  }

  private async apply(u: ImageUpdate, at: { dir: string; url: string; branch: string; base: string; head: string; forge: ForgeSpec | null }): Promise<UpdateOutcome> {
    const { repo, log } = this.deps;
    const tag = u.to.slice(u.to.lastIndexOf(':') + 1);
    const message = `${u.stack}/${u.service}: image ${u.to}\n\nx-berth.imagePolicy of ${u.file} allows ${tag} (was ${u.from}).`;
    if (u.policy.commit === 'direct') {
      const text = await this.editedAt(at.dir, at.head, u);
      if (text === null) return { update: u, kind: 'skipped', reason: 'the image line cannot be edited in place' };
      const sha = await repo.commitFile(at.dir, at.head, u.file, text, message);
      await repo.push(at.dir, at.url, sha, at.branch);
      log.info({ stack: u.stack, service: u.service, image: u.to, revision: sha }, 'image updated on the deployed branch');
      return { update: u, kind: 'direct', sha };
    }
    if (!at.forge) {
      const key = `${u.stack}/${u.service}:${tag}`;
      if (!this.told.has(key)) {
        this.told.add(key);
        log.info({ stack: u.stack, service: u.service, image: u.to }, 'a newer image fits its policy; no forge configured and imagePolicy.commit is not direct, so nothing is pushed');
      }
      return { update: u, kind: 'skipped', reason: 'no forge' };
    }
    const branch = updateBranch(u, tag);
    if (!(await repo.hasBranch(at.url, branch))) {
      const text = await this.editedAt(at.dir, at.base, u);
      if (text === null) return { update: u, kind: 'skipped', reason: 'the image line cannot be edited in place' };
      const sha = await repo.commitFile(at.dir, at.base, u.file, text, message);
      await repo.push(at.dir, at.url, sha, branch);
    }
    // Also when the branch exists: a pass that pushed it may have failed before the request was opened.
    const pr = await this.deps.forgeFor(at.forge).ensurePullRequest({
      head: branch,
      base: at.branch,
      title: `${u.stack}/${u.service}: update image to ${tag}`,
      body: `berth's image automation: \`${u.from}\` → \`${u.to}\` in \`${u.file}\`, allowed by \`x-berth.imagePolicy\` (${u.policy.kind === 'semver' ? `semver \`${u.policy.range}\`` : `pattern, ${u.policy.order}`}).\n\nMerging deploys it; the plan preview below shows what will change.`,
    });
    if (pr.created) log.info({ stack: u.stack, service: u.service, image: u.to, pullRequest: pr.number }, 'image update pull request opened');
    return { update: u, kind: 'pull-request', number: pr.number, url: pr.url, created: pr.created };
  }

  /** The compose file at `rev` with the service's image changed, or null when the line cannot be edited in place. */
  private async editedAt(dir: string, rev: string, u: ImageUpdate): Promise<string | null> {
    return setServiceImage(await this.deps.repo.readFile(dir, rev, u.file), u.service, u.to);
  }
}
