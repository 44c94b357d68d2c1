import type { LiveState } from '../model/live.js';
import type { DockerPort } from '../ports/docker.js';

/**
 * One snapshot of the host: exactly four list calls, in parallel
 * (containers, networks, volumes, image tags), and nothing else — no
 * per-object inspects. Labels carry everything berth needs to decide
 * (config hash, revision), so the snapshot costs the same for 5 containers
 * as for 500, and a no-op pass stays cheap.
 */
export async function observe(docker: DockerPort): Promise<LiveState> {
  const [containers, networks, volumes, images] = await Promise.all([
    docker.listContainers(),
    docker.listNetworks(),
    docker.listVolumes(),
    docker.listImages(),
  ]);
  const imageTags = [...new Set(images.flatMap((i) => i.repoTags))].sort();
  return { containers, networks, volumes, imageTags, images };
}
