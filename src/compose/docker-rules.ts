/**
 * Rules the Docker Engine enforces only when berth is already creating
 * things. Checked at validation so that a file breaking them is refused
 * before the plan runs, instead of failing half-way through an apply that
 * has already created the networks and volumes of earlier waves.
 */

/** Container names and local volume names, as the Engine checks them (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`). */
const OBJECT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function isValidContainerName(name: string): boolean {
  return OBJECT_NAME.test(name);
}

/** Only the `local` driver restricts names; other drivers define their own. */
export function isValidLocalVolumeName(name: string): boolean {
  return OBJECT_NAME.test(name);
}

/** `no`, `always`, `unless-stopped`, `on-failure[:N]`: the restart policies the Engine knows. */
export function isValidRestartPolicy(policy: string): boolean {
  return /^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(policy);
}

// The reference grammar of distribution/reference (what `docker pull` parses):
// [domain/]path[:tag][@digest], path components lowercase.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::${TAG})?(?:@${DIGEST})?$`);

/** Whether `docker pull` would accept `ref` as an image reference. */
export function isValidImageReference(ref: string): boolean {
  const m = REFERENCE.exec(ref);
  return m !== null && m[1]!.length <= 255;
}
