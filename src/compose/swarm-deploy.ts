import type { SwarmDeploy } from '../model/desired.js';
import { updateConfig } from './replicas.js';
import { parseDurationNs } from './units.js';
import type { PathSeg } from './yaml-source.js';

/**
 * The `deploy:` keys that only mean something to a swarm service (as `docker
 * stack deploy` reads them): `mode`, `placement`, `endpoint_mode`,
 * `restart_policy` (with delay/window), `rollback_config` and `labels` (on the
 * service object). Read only for stacks on a `mode: swarm` host; on an engine
 * host these keys stay unsupported (src/compose/supported.ts).
 */
type Obj = Record<string, unknown>;
type Err = (path: PathSeg[], code: string, message: string, key?: boolean) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The deploy keys a swarm stack may use beyond the engine's (supported.ts adds them for swarm stacks). */
export const SWARM_DEPLOY_KEYS = ['mode', 'placement', 'endpoint_mode', 'rollback_config'] as const;

/** `labels` reads `deploy.labels` (map or KEY=VALUE list) the way every other label map is read. */
export function swarmDeploy(def: Obj, at: (...p: PathSeg[]) => PathSeg[], err: Err, labels: (v: unknown) => Record<string, string>): SwarmDeploy {
  const deploy = isObj(def.deploy) ? def.deploy : {};
  const mode = deploy.mode === undefined ? 'replicated' : String(deploy.mode);
  if (mode !== 'replicated' && mode !== 'global') err(at('deploy', 'mode'), 'swarm-deploy', 'mode must be replicated or global');
  if (mode === 'global' && deploy.replicas !== undefined) err(at('deploy', 'replicas'), 'swarm-deploy', '`mode: global` runs one task per node; `replicas` does not apply: remove it', true);
  const endpoint = deploy.endpoint_mode === undefined ? 'vip' : String(deploy.endpoint_mode);
  if (endpoint !== 'vip' && endpoint !== 'dnsrr') err(at('deploy', 'endpoint_mode'), 'swarm-deploy', 'endpoint_mode must be vip or dnsrr');
  const p = isObj(deploy.placement) ? deploy.placement : {};
  const maxReplicas = p.max_replicas_per_node === undefined ? null : Number(p.max_replicas_per_node);
  if (maxReplicas !== null && !(Number.isInteger(maxReplicas) && maxReplicas >= 0)) err(at('deploy', 'placement', 'max_replicas_per_node'), 'swarm-deploy', 'max_replicas_per_node must be a whole number');
  const preferences = Array.isArray(p.preferences)
    ? p.preferences.filter(isObj).map((x) => String(x.spread ?? ''))
    : [];
  return {
    mode: mode === 'global' ? 'global' : 'replicated',
    placement: { constraints: Array.isArray(p.constraints) ? p.constraints.map((c) => String(c).trim()) : [], preferences, maxReplicas },
    endpointMode: endpoint === 'dnsrr' ? 'dnsrr' : 'vip',
    restartPolicy: restartPolicy(deploy.restart_policy, at('deploy', 'restart_policy'), err),
    rollbackConfig: deploy.rollback_config === undefined ? null : updateConfig(deploy.rollback_config, at('deploy', 'rollback_config'), err),
    labels: labels(deploy.labels),
  };
}

function restartPolicy(v: unknown, path: PathSeg[], err: Err): SwarmDeploy['restartPolicy'] {
  if (!isObj(v)) return null;
  const condition = v.condition === undefined ? 'any' : String(v.condition);
  if (condition !== 'none' && condition !== 'on-failure' && condition !== 'any') err([...path, 'condition'], 'restart', 'condition must be none, on-failure or any');
  const duration = (key: 'delay' | 'window'): number | null => {
    if (v[key] === undefined) return null;
    const ns = parseDurationNs(v[key] as string | number);
    if (ns === null) err([...path, key], 'restart', `${key} must be a duration such as 5s`);
    return ns;
  };
  const attempts = v.max_attempts === undefined ? null : Number(v.max_attempts);
  if (attempts !== null && !(Number.isInteger(attempts) && attempts >= 0)) err([...path, 'max_attempts'], 'restart', 'max_attempts must be a whole number');
  return { condition: condition === 'none' || condition === 'on-failure' ? condition : 'any', delayNs: duration('delay'), maxAttempts: attempts, windowNs: duration('window') };
}
