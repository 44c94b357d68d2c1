/**
 * What Docker has, as one snapshot built from a handful of list calls
 * (containers, networks, volumes, images). Nothing here needs a per-object
 * inspect: labels carry berth's config hash and revision.
 */
export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type Health = 'healthy' | 'unhealthy' | 'starting' | null;

export interface LiveContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  /** The image reference the container was created from (or an image ID if the tag moved). */
  image: string;
  imageId: string;
  state: ContainerState;
  /** Docker's status text, e.g. "Up 5 minutes (healthy)". */
  status: string;
  health: Health;
  labels: Record<string, string>;
  /** Names of the networks the container is attached to. */
  networks: string[];
  /** Seconds since the epoch. */
  created: number;
}

export interface LiveNetwork {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  attachable: boolean;
  enableIpv6: boolean;
  ipam: { driver: string; config: { subnet?: string; ipRange?: string; gateway?: string }[] };
  labels: Record<string, string>;
}

export interface LiveVolume {
  name: string;
  driver: string;
  labels: Record<string, string>;
}

/** A local image: its ID and every name it goes by (`repo:tag`, `repo@sha256:…`). */
export interface LiveImage {
  id: string;
  repoTags: string[];
  /** Manifest digests the image was pulled or pushed by (`repo@sha256:…`); empty for a local build or import. */
  repoDigests: string[];
}

export interface LiveState {
  containers: LiveContainer[];
  networks: LiveNetwork[];
  volumes: LiveVolume[];
  /** Every `repo:tag` present locally (for "pull only when missing"). */
  imageTags: string[];
  /** Local images with IDs and repo digests (for digest pinning); absent in hand-made snapshots. */
  images?: LiveImage[];
}
