import type { ServiceSpec } from '../../model/desired.js';
import type { LintRule } from '../finding.js';
import { eachService } from './each-service.js';

/**
 * Container hardening, as the seed setups practise it (cerniq, pagodirecto):
 * no privilege gain, no default capabilities, a memory ceiling, pinned images,
 * and no writable Docker socket.
 */

/** Docker accepts `no-new-privileges`, `no-new-privileges:true` and `no-new-privileges=true`. */
export function hasNoNewPrivileges(securityOpt: readonly string[]): boolean {
  return securityOpt.some((o) => /^no-new-privileges(?:[:=]true)?$/i.test(o.trim()));
}

export const noNewPrivileges: LintRule<'no-new-privileges'> = {
  id: 'no-new-privileges',
  defaultSeverity: 'warning',
  why: 'without it a setuid binary in the image can gain privileges the process did not start with',
  check: (desired) =>
    eachService(desired, 'no-new-privileges', (svc) =>
      hasNoNewPrivileges(svc.securityOpt) ? null : { message: 'security_opt lacks no-new-privileges:true', at: ['security_opt'] },
    ),
};

export const capDropAll: LintRule<'cap-drop-all'> = {
  id: 'cap-drop-all',
  defaultSeverity: 'warning',
  why: "Docker's default capabilities (chown, setuid, net_raw, ...) are more than most services need: drop ALL, add back only what is needed",
  check: (desired) =>
    eachService(desired, 'cap-drop-all', (svc) =>
      svc.capDrop.includes('ALL') ? null : { message: 'cap_drop lacks ALL', at: ['cap_drop'] },
    ),
};

export const memoryLimitMissing: LintRule<'memory-limit-missing'> = {
  id: 'memory-limit-missing',
  defaultSeverity: 'warning',
  why: 'without a limit one leaking container can push the whole host into the OOM killer, databases included',
  check: (desired) =>
    eachService(desired, 'memory-limit-missing', (svc) =>
      svc.resources.memoryBytes !== null ? null : { message: 'no memory limit (mem_limit or deploy.resources.limits.memory)', at: ['deploy'] },
    ),
};

/** The tag of an image reference, '' when it has none; null when pinned by digest. */
export function imageTag(image: string): string | null {
  if (image.includes('@')) return null;
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon < 0 ? '' : last.slice(colon + 1);
}

export const imageLatest: LintRule<'image-latest'> = {
  id: 'image-latest',
  defaultSeverity: 'warning',
  why: '`latest` (or no tag) names a different image on every pull, so a redeploy or a rollback can run code nobody reviewed',
  check: (desired) =>
    eachService(desired, 'image-latest', (svc) => {
      const tag = imageTag(svc.image);
      if (tag === null || (tag !== '' && tag !== 'latest')) return null;
      return { message: tag === '' ? `image ${svc.image} has no tag (means latest)` : `image ${svc.image} uses the latest tag`, at: ['image'] };
    }),
};

const DOCKER_SOCKETS = ['/var/run/docker.sock', '/run/docker.sock'];

/** The Docker socket in its usual places, and rootless Docker's `$XDG_RUNTIME_DIR/docker.sock`. */
export function isDockerSocket(path: string): boolean {
  return DOCKER_SOCKETS.includes(path) || path.endsWith('/docker.sock');
}

function writableSockets(svc: ServiceSpec): string[] {
  return svc.mounts.filter((m) => m.type === 'bind' && isDockerSocket(m.source) && !m.readOnly).map((m) => (m.type === 'bind' ? m.source : ''));
}

export const dockerSocketRw: LintRule<'docker-socket-rw'> = {
  id: 'docker-socket-rw',
  defaultSeverity: 'warning',
  why: 'whoever can write to the Docker socket is root on the host; mount it :ro, better behind a socket proxy that allows only the calls needed (:ro alone does not filter API calls)',
  check: (desired) =>
    eachService(desired, 'docker-socket-rw', (svc) => {
      const rw = writableSockets(svc);
      return rw.length === 0 ? null : { message: `mounts ${rw.join(', ')} read-write`, at: ['volumes'] };
    }),
};
