import type { Diagnostic } from '../model/errors.js';
import type { YamlSource } from './yaml-source.js';

/**
 * What berth implements of the Compose Specification. A key the spec allows but
 * berth does not implement is an error that says so — silently ignoring it
 * would deploy something other than what the file says.
 */
export const SUPPORTED_SERVICE_KEYS = new Set([
  'image',
  'container_name',
  'pull_policy',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'tmpfs',
  'networks',
  'network_mode',
  'depends_on',
  'healthcheck',
  'restart',
  'labels',
  'user',
  'working_dir',
  'hostname',
  'domainname',
  'extra_hosts',
  'dns',
  'dns_search',
  'read_only',
  'privileged',
  'init',
  'tty',
  'stdin_open',
  'cap_add',
  'cap_drop',
  'security_opt',
  'sysctls',
  'group_add',
  'devices',
  'stop_signal',
  'stop_grace_period',
  'logging',
  'ulimits',
  'shm_size',
  'deploy',
  'mem_limit',
  'mem_reservation',
  'cpus',
  'pids_limit',
  'cpuset',
  'cpu_shares',
  'cpu_quota',
  'cpu_period',
  'mem_swappiness',
  'memswap_limit',
  'oom_score_adj',
  'oom_kill_disable',
  'pid',
  'ipc',
  'profiles',
  'secrets',
  'configs',
]);

/** Why a spec key is not supported, where there is something useful to say. */
const WHY: Record<string, string> = {
  build: 'berth deploys images and never builds; build and push the image in CI and reference its tag in `image:`',
  extends: 'put the shared part in an `x-` extension field with a YAML anchor and merge it with `<<: *anchor`',
  links: 'legacy links are not needed: services on a shared network reach each other by name',
  external_links: 'legacy links are not needed: services on a shared network reach each other by name',
  volumes_from: 'declare the named volume in both services instead',
  scale: 'berth runs one container per service',
  develop: 'watch/develop is a development feature',
  include: 'each stack is one Compose file; share networks and volumes with `external: true`',
  models: 'models are not supported',
  provider: 'provider services are not supported',
};

const SUPPORTED_TOP_LEVEL = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs']);
const SUPPORTED_DEPLOY = new Set(['resources', 'replicas']);
const SUPPORTED_RESOURCES = new Set(['limits', 'reservations']);
const SUPPORTED_LIMITS = new Set(['cpus', 'memory', 'pids']);
const SUPPORTED_RESERVATIONS = new Set(['cpus', 'memory']);
const SUPPORTED_SERVICE_NETWORK = new Set(['aliases', 'ipv4_address', 'ipv6_address', 'priority']);
const SUPPORTED_VOLUME_MOUNT = new Set(['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency']);
const SUPPORTED_NETWORK = new Set(['driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'name', 'enable_ipv6']);
const SUPPORTED_VOLUME = new Set(['driver', 'driver_opts', 'external', 'labels', 'name']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function unsupportedKeyDiagnostics(source: YamlSource): Diagnostic[] {
  const out: Diagnostic[] = [];
  const root = source.value;
  if (!isObj(root)) return out;
  const reject = (path: (string | number)[], key: string, where: string) => {
    const why = WHY[key];
    out.push(
      source.diag('unsupported-key', [...path, key], `berth does not support \`${key}\`${where}${why ? `: ${why}` : ''}`, { key: true }),
    );
  };
  for (const key of Object.keys(root)) {
    if (key.startsWith('x-') || SUPPORTED_TOP_LEVEL.has(key)) continue;
    reject([], key, ' at the top level');
  }
  if (isObj(root.services)) {
    for (const [svc, def] of Object.entries(root.services)) {
      if (!isObj(def)) continue;
      const base = ['services', svc];
      for (const key of Object.keys(def)) {
        if (key.startsWith('x-') || SUPPORTED_SERVICE_KEYS.has(key)) continue;
        reject(base, key, ' in a service');
      }
      checkDeploy(def.deploy, [...base, 'deploy'], reject, source, out);
      if (isObj(def.networks)) {
        for (const [net, opts] of Object.entries(def.networks)) {
          if (!isObj(opts)) continue;
          for (const k of Object.keys(opts)) if (!SUPPORTED_SERVICE_NETWORK.has(k)) reject([...base, 'networks', net], k, ' on a service network');
        }
      }
      if (Array.isArray(def.volumes)) {
        def.volumes.forEach((m, i) => {
          if (!isObj(m)) return;
          for (const k of Object.keys(m)) if (!SUPPORTED_VOLUME_MOUNT.has(k)) reject([...base, 'volumes', i], k, ' on a mount');
          if (isObj(m.volume) && 'subpath' in m.volume) reject([...base, 'volumes', i, 'volume'], 'subpath', ' on a volume mount');
        });
      }
      if (typeof def.network_mode === 'string' && /^(service|container):/.test(def.network_mode)) {
        out.push(
          source.diag('unsupported-key', [...base, 'network_mode'], 'berth does not support sharing another container\'s network namespace (`service:`/`container:`); put both services on a shared network'),
        );
      }
      if (typeof def.pull_policy === 'string' && def.pull_policy === 'build') {
        out.push(source.diag('unsupported-key', [...base, 'pull_policy'], 'berth does not support `pull_policy: build`: berth never builds images'));
      }
      if (Array.isArray(def.devices)) {
        def.devices.forEach((d, i) => {
          if (!(typeof d === 'string')) out.push(source.diag('unsupported-key', [...base, 'devices', i], 'berth supports devices in the short form "HOST:CONTAINER[:PERMISSIONS]" only'));
        });
      }
    }
  }
  // Outside swarm, Compose mounts file-based secrets and configs into the container; that is what berth does.
  for (const section of ['secrets', 'configs'] as const) {
    const defs = root[section];
    if (!isObj(defs)) continue;
    for (const [name, def] of Object.entries(defs)) {
      if (!isObj(def)) continue;
      if (def.file === undefined) {
        const what = def.external ? 'external (swarm) ' : def.environment !== undefined ? 'environment-based ' : def.content !== undefined ? 'inline `content` ' : '';
        out.push(source.diag('unsupported-key', [section, name], `berth supports ${section} with \`file:\` only, not ${what || 'this kind of '}${section}`, { key: true }));
      }
    }
  }
  for (const [section, allowed] of [
    ['networks', SUPPORTED_NETWORK],
    ['volumes', SUPPORTED_VOLUME],
  ] as const) {
    const defs = root[section];
    if (!isObj(defs)) continue;
    for (const [name, def] of Object.entries(defs)) {
      if (!isObj(def)) continue;
      for (const k of Object.keys(def)) {
        if (k.startsWith('x-') || allowed.has(k)) continue;
        reject([section, name], k, section === 'networks' ? ' on a network' : ' on a volume');
      }
    }
  }
  return out;
}

function checkDeploy(
  deploy: unknown,
  path: (string | number)[],
  reject: (path: (string | number)[], key: string, where: string) => void,
  source: YamlSource,
  out: Diagnostic[],
): void {
  if (!isObj(deploy)) return;
  for (const k of Object.keys(deploy)) {
    if (k.startsWith('x-')) continue;
    if (!SUPPORTED_DEPLOY.has(k)) reject(path, k, ' under deploy (only `resources` is used; rollouts are set in `x-berth`)');
  }
  if (deploy.replicas !== undefined && deploy.replicas !== 1 && deploy.replicas !== '1') {
    out.push(source.diag('unsupported-key', [...path, 'replicas'], 'berth runs exactly one container per service; `deploy.replicas` must be 1'));
  }
  const res = deploy.resources;
  if (!isObj(res)) return;
  for (const k of Object.keys(res)) if (!SUPPORTED_RESOURCES.has(k)) reject([...path, 'resources'], k, ' under deploy.resources');
  for (const [k, allowed] of [
    ['limits', SUPPORTED_LIMITS],
    ['reservations', SUPPORTED_RESERVATIONS],
  ] as const) {
    const sub = res[k];
    if (!isObj(sub)) continue;
    for (const kk of Object.keys(sub)) if (!allowed.has(kk)) reject([...path, 'resources', k], kk, ` under deploy.resources.${k}`);
  }
}
