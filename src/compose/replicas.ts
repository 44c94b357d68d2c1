import { DEFAULT_UPDATE_CONFIG, type UpdateConfig } from '../model/desired.js';
import { parseDurationMs } from './units.js';
import type { PathSeg } from './yaml-source.js';

/**
 * `scale`, `deploy.replicas` and `deploy.update_config` of one service, as
 * `docker compose` reads them outside swarm: `scale` and `deploy.replicas`
 * mean the same (two different values are an error, as in Compose), a fixed
 * `container_name` allows one replica only, and update_config shapes how a
 * change rolls over the replicas.
 */
type Obj = Record<string, unknown>;
type Err = (path: PathSeg[], code: string, message: string, key?: boolean) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ReplicaFields {
  replicas: number;
  updateConfig: UpdateConfig;
}

export function normalizeReplicaFields(def: Obj, at: (...p: PathSeg[]) => PathSeg[], err: Err): ReplicaFields {
  const deploy = isObj(def.deploy) ? def.deploy : {};
  const fromScale = def.scale === undefined ? null : count(def.scale, at('scale'), err);
  const fromDeploy = deploy.replicas === undefined ? null : count(deploy.replicas, at('deploy', 'replicas'), err);
  if (fromScale !== null && fromDeploy !== null && fromScale !== fromDeploy) {
    err(at('scale'), 'replicas', `\`scale: ${fromScale}\` and \`deploy.replicas: ${fromDeploy}\` disagree; set one of them`);
  }
  const replicas = fromDeploy ?? fromScale ?? 1;
  if (replicas > 1 && def.container_name !== undefined) {
    err(at('container_name'), 'replicas', `a fixed container_name allows one container, but the service asks for ${replicas} replicas (${fromDeploy !== null ? 'deploy.replicas' : 'scale'}); remove container_name or run one replica`, true);
  }
  return { replicas, updateConfig: updateConfig(deploy.update_config, at('deploy', 'update_config'), err) };
}

function count(v: unknown, path: PathSeg[], err: Err): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) {
    err(path, 'replicas', 'must be a whole number of replicas (0 or more)');
    return null;
  }
  return n;
}

export function updateConfig(v: unknown, path: PathSeg[], err: Err): UpdateConfig {
  const out: UpdateConfig = { ...DEFAULT_UPDATE_CONFIG };
  if (!isObj(v)) return out;
  if (v.parallelism !== undefined) out.parallelism = count(v.parallelism, [...path, 'parallelism'], err) ?? out.parallelism;
  for (const [key, field] of [
    ['delay', 'delayMs'],
    ['monitor', 'monitorMs'],
  ] as const) {
    if (v[key] === undefined) continue;
    const ms = typeof v[key] === 'string' || typeof v[key] === 'number' ? parseDurationMs(v[key] as string | number) : null;
    if (ms === null || ms < 0) err([...path, key], 'update-config', `${key} must be a duration such as 500ms, 10s or 1m`);
    else out[field] = ms;
  }
  if (v.failure_action !== undefined) {
    const a = String(v.failure_action);
    if (a === 'rollback' || a === 'pause' || a === 'continue') out.failureAction = a;
    else err([...path, 'failure_action'], 'update-config', 'failure_action must be rollback, pause or continue');
  }
  if (v.order !== undefined) {
    const o = String(v.order);
    if (o === 'start-first' || o === 'stop-first') out.order = o;
    else err([...path, 'order'], 'update-config', 'order must be start-first or stop-first');
  }
  if (v.max_failure_ratio !== undefined) {
    const r = Number(v.max_failure_ratio);
    if (!Number.isFinite(r) || r < 0 || r > 1) err([...path, 'max_failure_ratio'], 'update-config', 'max_failure_ratio must be a number from 0 to 1');
    else out.maxFailureRatio = r;
  }
  return out;
}
