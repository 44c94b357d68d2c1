/**
 * Image references as Docker reads them (distribution/reference's
 * ParseNormalizedNamed): no registry host → Docker Hub, and a one-part Hub
 * name lives under `library/`. The first path component is a registry host
 * only when it has a `.` or a `:`, or is `localhost`.
 */
export const DOCKER_HUB = 'docker.io';
/** The key Docker's CLI files Hub credentials under (and passes to credential helpers). */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
/** Where Hub's registry API answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageRef {
  /** Normalized registry host (`docker.io` for Hub). */
  registry: string;
  /** Repository path inside the registry (`library/redis`). */
  repository: string;
  /** Tag (`latest` when the reference names neither tag nor digest). */
  tag: string | null;
  /** `sha256:…` when the reference pins a digest. */
  digest: string | null;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = normalizeRegistryHost(first);
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (tag === null && digest === null) tag = 'latest';
  const repository = registry === DOCKER_HUB && !rest.includes('/') ? `library/${rest}` : rest;
  return { registry, repository, tag, digest };
}

/**
 * A registry host as Docker's CLI compares it (registry.ConvertToHostname plus
 * Hub's aliases): scheme and path dropped, lower case, and every Hub spelling
 * (`docker.io`, `index.docker.io`, `registry-1.docker.io`,
 * `https://index.docker.io/v1/`) is `docker.io`.
 */
export function normalizeRegistryHost(hostOrUrl: string): string {
  let h = hostOrUrl.trim().toLowerCase();
  h = h.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = h.indexOf('/');
  if (slash >= 0) h = h.slice(0, slash);
  if (h === 'index.docker.io' || h === 'registry-1.docker.io' || h === 'registry.hub.docker.com') return DOCKER_HUB;
  return h;
}

/** The repository as Docker names it locally (`redis`, not `docker.io/library/redis`). */
export function familiarName(r: Pick<ImageRef, 'registry' | 'repository'>): string {
  if (r.registry !== DOCKER_HUB) return `${r.registry}/${r.repository}`;
  return r.repository.startsWith('library/') ? r.repository.slice('library/'.length) : `${r.repository}`;
}

/** `repo@sha256:…`: what to pull to get exactly that manifest. */
export function byDigest(ref: string, digest: string): string {
  return `${familiarName(parseImageRef(ref))}@${digest}`;
}

/** Where a registry's HTTP API answers. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/**
 * Docker talks plain HTTP only to registries it treats as insecure; by
 * default that is loopback (127.0.0.0/8, ::1, localhost).
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `sha256:1a2b3c4d5e6f…`: enough of a digest for a person to match it. */
export function shortDigest(d: string): string {
  const [algo, hex] = d.includes(':') ? d.split(':', 2) as [string, string] : ['sha256', d];
  return `${algo}:${hex.slice(0, 12)}…`;
}
