import type { PortSpec, ServiceSpec } from '../../model/desired.js';
import type { LintRule } from '../finding.js';
import { eachService } from './each-service.js';
import { hostPortText } from '../../compose/ports.js';

/** What reaches a service from outside the host: published ports and the Traefik provider. */

export function isLoopback(hostIp: string): boolean {
  return /^127\./.test(hostIp) || hostIp === '::1' || hostIp === 'localhost';
}

function describePort(p: PortSpec): string {
  const host = p.hostIp === '' ? '0.0.0.0' : p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
  return `${host}:${hostPortText(p) || '(any)'}->${p.target}/${p.protocol}`;
}

export const dbPortPublished: LintRule<'db-port-published'> = {
  id: 'db-port-published',
  defaultSeverity: 'warning',
  why: 'a database port published on a public interface is one weak password away from the internet (and Docker bypasses ufw); publish on 127.0.0.1 or not at all',
  check: (desired) =>
    eachService(desired, 'db-port-published', (svc) => {
      if (svc.berth.tier !== 'database') return null;
      const open = svc.ports.filter((p) => !isLoopback(p.hostIp));
      return open.length === 0 ? null : { message: `database-tier service publishes ${open.map(describePort).join(', ')}`, at: ['ports'] };
    }),
};

/** A Traefik container, recognised by its image (traefik, traefik:v3.6, library/traefik, ...). */
export function isTraefik(svc: Pick<ServiceSpec, 'image'>): boolean {
  return svc.image.toLowerCase().includes('traefik');
}

const EXPOSED_FLAG = '--providers.docker.exposedbydefault';
const EXPOSED_ENV = 'TRAEFIK_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT';

/**
 * How the service's Traefik static configuration treats exposedByDefault, as
 * far as berth can see: only `command:` flags and `TRAEFIK_*` environment
 * variables are visible. A mounted traefik.yml (or `--configFile`) is not
 * read, so such a setup is reported as not visible.
 */
export function traefikExposure(svc: Pick<ServiceSpec, 'command' | 'environment'>): 'off' | 'on' | 'no-docker-provider' | 'not-visible' {
  const flags = (svc.command ?? []).filter((a) => a.startsWith('--')).map((a) => a.toLowerCase());
  const flagValue = (f: string) => (f === EXPOSED_FLAG ? 'true' : f.startsWith(`${EXPOSED_FLAG}=`) ? f.slice(EXPOSED_FLAG.length + 1) : null);
  const fromFlags = flags.map(flagValue).filter((v): v is string => v !== null);
  const envKeys = Object.keys(svc.environment).map((k) => k.toUpperCase());
  const envValue = Object.entries(svc.environment).find(([k]) => k.toUpperCase() === EXPOSED_ENV)?.[1];
  if (fromFlags.length > 0) return fromFlags[fromFlags.length - 1] === 'false' ? 'off' : 'on';
  if (envValue !== undefined && envValue !== null) return envValue.trim().toLowerCase() === 'false' ? 'off' : 'on';
  // Traefik reads its static configuration from one source: a file, the command
  // line or the environment. A file (named by --configFile or found in
  // /etc/traefik) is invisible here; the other two are not.
  const staticFlags = flags.filter((f) => !/^--configfile(=|$)/.test(f));
  const staticEnv = envKeys.filter((k) => k.startsWith('TRAEFIK_'));
  if (staticFlags.length === 0 && staticEnv.length === 0) return 'not-visible';
  const dockerProvider = staticFlags.some((f) => /^--providers\.docker(\.|=|$)/.test(f)) || staticEnv.some((k) => /^TRAEFIK_PROVIDERS_DOCKER(_|$)/.test(k));
  return dockerProvider ? 'on' : 'no-docker-provider';
}

export const traefikExposedByDefault: LintRule<'traefik-exposed-by-default'> = {
  id: 'traefik-exposed-by-default',
  defaultSeverity: 'warning',
  why: 'with exposedByDefault left true Traefik routes every container on its networks, databases and admin UIs included, not only those labelled traefik.enable=true',
  check: (desired) =>
    eachService(desired, 'traefik-exposed-by-default', (svc) => {
      if (!isTraefik(svc)) return null;
      switch (traefikExposure(svc)) {
        case 'off':
        case 'no-docker-provider':
          return null;
        case 'on': {
          const viaFlags = (svc.command ?? []).some((a) => a.startsWith('--'));
          return {
            message: 'the Docker provider is on with exposedByDefault true (the default): set --providers.docker.exposedbydefault=false',
            at: [viaFlags ? 'command' : 'environment'],
          };
        }
        case 'not-visible':
          return {
            message:
              'exposedByDefault is not set to false in command or environment (a mounted traefik.yml is not visible to berth; if it sets exposedByDefault: false, ignore this rule for the service)',
            at: ['command'],
          };
      }
    }),
};
