import type { Diagnostic } from '../model/errors.js';
import { SWARM_DEPLOY_KEYS } from './swarm-deploy.js';
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
  'volumes_from',
  'links',
  'mac_address',
  'runtime',
  'platform',
  'post_start',
  'pre_stop',
  'develop',
  'models',
  'scale',
  'build',
  // HostConfig keys, src/compose/host-extras.ts
  'gpus',
  'storage_opt',
  'userns_mode',
  'cgroup',
  'cgroup_parent',
  'uts',
  'isolation',
  'blkio_config',
  'device_cgroup_rules',
  'annotations',
  'label_file',
  'attach',
]);

/** Why a spec key is not supported, where there is something useful to say. */
const WHY: Record<string, string> = {
  extends: 'put the shared part in an `x-` extension field with a YAML anchor and merge it with `<<: *anchor`',
  external_links: 'legacy links are not needed: services on a shared network reach each other by name',
  include: 'each stack is one Compose file; share networks and volumes with `external: true`',
  provider: 'provider services are not supported',
};

const SUPPORTED_TOP_LEVEL = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'include', 'models']);
const SUPPORTED_DEPLOY = new Set(['resources', 'replicas', 'update_config', 'restart_policy', 'labels']);
const SUPPORTED_UPDATE_CONFIG = new Set(['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order']);
const SUPPORTED_RESOURCES = new Set(['limits', 'reservations']);
const SUPPORTED_LIMITS = new Set(['cpus', 'memory', 'pids']);
const SUPPORTED_RESERVATIONS = new Set(['cpus', 'memory', 'devices']);
const SUPPORTED_SERVICE_NETWORK = new Set(['aliases', 'ipv4_address', 'ipv6_address', 'priority', 'interface_name']);
const SUPPORTED_VOLUME_MOUNT = new Set(['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'image', 'consistency']);
const SUPPORTED_NETWORK = new Set(['driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'name', 'enable_ipv6']);
const SUPPORTED_VOLUME = new Set(['driver', 'driver_opts', 'external', 'labels', 'name']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `swarm`: the stack runs on a `mode: swarm` host, where the swarm-only deploy keys mean something. */
export function unsupportedKeyDiagnostics(source: YamlSource, swarm = false): Diagnostic[] {
  const out: Diagnostic[] = [];
  const root = source.value;
  if (!isObj(root)) return out;
  const reject = (path: (string | number)[], key: string, where: string) => {
    const why = WHY[key];
    out.push(
      source.diag('unsupported-key', [...path, key], `berth does not support \`${key}\`${where}${why ? `: ${why}` : ''}`, { key: true }),
    );
  };
  if (root.models !== undefined) {
    out.push(source.diag('ignored-key', ['models'], '`models` (AI models served by Docker Model Runner) are not provisioned by berth; services that use them run without them', { key: true, severity: 'warning' }));
  }
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
      checkDeploy(def.deploy, [...base, 'deploy'], reject, swarm);
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
      if (def.pull_policy === 'build' && def.build === undefined) {
        out.push(source.diag('pull-policy', [...base, 'pull_policy'], '`pull_policy: build` needs a `build:` section: the image is built on every apply and never pulled'));
      }
    }
  }
  // Outside swarm, Compose mounts file-based secrets and configs into the container; that is what berth does.
  for (const section of ['secrets', 'configs'] as const) {
    const defs = root[section];
    if (!isObj(defs)) continue;
    for (const [name, def] of Object.entries(defs)) {
      if (!isObj(def)) continue;
      if (def.file === undefined && def.environment === undefined && def.content === undefined) {
        const what = def.external ? 'external (swarm) ' : '';
        out.push(source.diag('unsupported-key', [section, name], `berth supports ${section} with \`file:\`, \`environment:\` or \`content:\`, not ${what || 'this kind of '}${section}`, { key: true }));
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
  swarm: boolean,
): void {
  if (!isObj(deploy)) return;
  for (const k of Object.keys(deploy)) {
    if (k.startsWith('x-') || (swarm && (SWARM_DEPLOY_KEYS as readonly string[]).includes(k))) continue;
    if (!SUPPORTED_DEPLOY.has(k)) {
      const swarmOnly = (SWARM_DEPLOY_KEYS as readonly string[]).includes(k) ? '; it is a swarm key: put the stack on a `mode: swarm` host in berth.yaml' : '';
      reject(path, k, ` under deploy (berth uses \`resources\`, \`replicas\`, \`update_config\`, \`restart_policy\` and \`labels\`${swarmOnly})`);
    }
  }
  for (const section of swarm ? (['update_config', 'rollback_config'] as const) : (['update_config'] as const)) {
    const uc = deploy[section];
    if (isObj(uc)) for (const k of Object.keys(uc)) if (!SUPPORTED_UPDATE_CONFIG.has(k) && !k.startsWith('x-')) reject([...path, section], k, ` under deploy.${section}`);
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
