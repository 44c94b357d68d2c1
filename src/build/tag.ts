import { canonicalJson, configHash, sha256Hex } from '../compose/hash.js';
import type { BuildSpec, DesiredState, ServiceSpec } from '../model/desired.js';

/**
 * Content-addressed image names for built services. The tag is a digest of
 * the context's identity (git tree id, or a working tree hash) and every
 * build input that changes the image, so an unchanged context maps to the
 * same tag on any commit (never rebuilt), a changed one to a new tag (built
 * once), and `git revert` back to a tag still on the host (no build, no
 * pull). `no_cache` and `pull` change how, not what, is built: left out.
 */
export function buildTag(stack: string, service: string, build: BuildSpec, contextId: string): string {
  const inputs = {
    context: contextId,
    dockerfile: build.dockerfile,
    inline: build.dockerfileInline,
    args: build.args,
    target: build.target,
    labels: build.labels,
    network: build.network,
    extraHosts: build.extraHosts,
    shm: build.shmSizeBytes,
    cacheFrom: build.cacheFrom,
    platform: build.platform,
  };
  const repo = `berth.local/${stack}-${service}`.toLowerCase().replace(/[^a-z0-9._/-]/g, '-');
  return `${repo}:${sha256Hex(canonicalJson(inputs)).slice(0, 12)}`;
}

/** Prefix of every tag berth builds (image retention and prune know them by it). */
export const BUILT_IMAGE_PREFIX = 'berth.local/';

/**
 * The desired state with each built service's image set to its content tag
 * and its config hash recomputed. Needs identified files (src/files/identify.ts).
 */
export function withBuildTags(desired: DesiredState): DesiredState {
  return {
    ...desired,
    stacks: desired.stacks.map((s) => ({
      ...s,
      services: s.services.map((svc) => {
        if (!svc.build) return svc;
        const ctx = svc.files?.find((f) => f.kind === 'build-context' && f.path === svc.build!.context)?.id;
        if (!ctx) return svc;
        const tag = buildTag(s.name, svc.name, svc.build, ctx);
        const { configHash: _old, ...rest } = { ...svc, image: tag, build: { ...svc.build, tag } };
        return { ...rest, configHash: configHash(rest) } as ServiceSpec;
      }),
    })),
  };
}
