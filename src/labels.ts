/**
 * Every label berth reads or writes, in one place (PRODUCT.md §3).
 * The `com.docker.compose.*` ones make berth's objects ordinary Compose
 * objects for `docker compose ps`, Traefik and Portainer.
 */
export const LABEL = {
  managed: 'io.berth.managed',
  stack: 'io.berth.stack',
  service: 'io.berth.service',
  configHash: 'io.berth.config-hash',
  revision: 'io.berth.revision',
  /** Manifest digest (`sha256:…`) of the image the container runs, when it came from a registry: what a revert runs again. */
  imageDigest: 'io.berth.image-digest',
  disposable: 'io.berth.disposable',
  /** On a swarm service: its tier, so a removal (which has no spec in git) still runs in the right wave. */
  tier: 'io.berth.tier',
  /** On a swarm config/secret: the `configs:`/`secrets:` key it was made from. */
  file: 'io.berth.file',
  /** On a container created beside the old one during a rollout; removed or renamed when it ends. */
  temporary: 'io.berth.temporary',
  /** On an old container kept (renamed) during a recreate rollout, so it can be restored. */
  retired: 'io.berth.retired',
  /** On a container: the file snapshots (src/files/snapshot.ts) it mounts, comma-separated; they are kept while it exists. */
  files: 'io.berth.files',
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
  composeContainerNumber: 'com.docker.compose.container-number',
  composeOneoff: 'com.docker.compose.oneoff',
  composeNetwork: 'com.docker.compose.network',
  composeVolume: 'com.docker.compose.volume',
} as const;

export const MANAGED_FILTER = `${LABEL.managed}=true`;

export function isManaged(labels: Record<string, string> | null | undefined): boolean {
  return labels?.[LABEL.managed] === 'true';
}

/** Suffix of the name a new container gets while it runs beside the old one. */
export const TEMP_SUFFIX = '_berth_tmp';
/** Suffix of the name an old container gets while a recreate rollout may still need it. */
export const RETIRED_SUFFIX = '_berth_old';
