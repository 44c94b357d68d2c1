import type { Diagnostic } from '../model/errors.js';
import { interpolate, type Lookup } from './interpolate.js';
import type { PathSeg, YamlSource } from './yaml-source.js';

/**
 * Interpolate every string value of a parsed Compose file (keys are left as
 * written, as Compose does), then cast string values of typed fields to the
 * type the field wants — `read_only: ${RO:-false}` is a boolean, not the string
 * "false" — following compose-go's cast table. The Compose schema lets strings
 * through in these places (for interpolation), so a string that does not cast
 * (`read_only: sometimes`) is reported here.
 */
const BOOL = 'bool';
const INT = 'int';
const FLOAT = 'float';
type Cast = typeof BOOL | typeof INT | typeof FLOAT;

const CASTS: [string, Cast][] = [
  ['services.*.read_only', BOOL],
  ['services.*.init', BOOL],
  ['services.*.privileged', BOOL],
  ['services.*.tty', BOOL],
  ['services.*.stdin_open', BOOL],
  ['services.*.oom_kill_disable', BOOL],
  ['services.*.healthcheck.disable', BOOL],
  ['services.*.healthcheck.retries', INT],
  ['services.*.pids_limit', INT],
  ['services.*.cpu_shares', INT],
  ['services.*.cpu_quota', INT],
  ['services.*.cpu_period', INT],
  ['services.*.cpus', FLOAT],
  ['services.*.deploy.replicas', INT],
  ['services.*.deploy.resources.limits.cpus', FLOAT],
  ['services.*.deploy.resources.limits.pids', INT],
  ['services.*.deploy.resources.reservations.cpus', FLOAT],
  ['services.*.ulimits.*', INT],
  ['services.*.ulimits.*.soft', INT],
  ['services.*.ulimits.*.hard', INT],
  ['services.*.ports.*.target', INT],
  ['services.*.volumes.*.read_only', BOOL],
  ['services.*.volumes.*.volume.nocopy', BOOL],
  ['services.*.volumes.*.bind.create_host_path', BOOL],
  ['services.*.depends_on.*.required', BOOL],
  ['services.*.depends_on.*.restart', BOOL],
  ['services.*.networks.*.priority', INT],
  ['services.*.x-berth.minReadySeconds', INT],
  ['services.*.x-berth.selfHeal', BOOL],
  ['services.*.x-berth.backup.timeoutSeconds', INT],
  ['networks.*.external', BOOL],
  ['networks.*.internal', BOOL],
  ['networks.*.attachable', BOOL],
  ['networks.*.enable_ipv6', BOOL],
  ['volumes.*.external', BOOL],
  // berth.yaml
  ['policy.selfHeal', BOOL],
  ['policy.prune', BOOL],
  ['rollout.bakeSeconds', INT],
  ['rollout.healthTimeoutSeconds', INT],
  ['rollout.drainSeconds', INT],
  ['images.prune', BOOL],
  ['images.keepRevisions', INT],
  ['images.pullStallSeconds', INT],
  ['images.pullTimeoutSeconds', INT],
  ['prune.volumes', BOOL],
  ['stacks.*.selfHeal', BOOL],
  ['stacks.*.prune', BOOL],
];

/** The cast table indexed by path length and last segment: castFor runs for every string of a file. */
const CAST_INDEX = new Map<string, [string[], Cast][]>();
for (const [pattern, cast] of CASTS) {
  const segs = pattern.split('.');
  const key = `${segs.length}:${segs[segs.length - 1]}`;
  CAST_INDEX.set(key, [...(CAST_INDEX.get(key) ?? []), [segs, cast]]);
}

function castFor(path: readonly PathSeg[]): Cast | undefined {
  const last = String(path[path.length - 1]);
  const candidates = [...(CAST_INDEX.get(`${path.length}:${last}`) ?? []), ...(CAST_INDEX.get(`${path.length}:*`) ?? [])];
  outer: for (const [segs, cast] of candidates) {
    for (let i = 0; i < segs.length; i++) {
      if (segs[i] !== '*' && segs[i] !== String(path[i])) continue outer;
    }
    return cast;
  }
  return undefined;
}

function applyCast(v: string, cast: Cast): unknown {
  if (cast === BOOL) {
    const l = v.toLowerCase();
    if (['true', 'yes', 'y', 'on', '1'].includes(l)) return true;
    if (['false', 'no', 'n', 'off', '0', ''].includes(l)) return false;
    return v; // left as a string: the schema will say it must be a boolean
  }
  if (v.trim() === '') return v;
  const n = Number(v);
  if (!Number.isFinite(n)) return v;
  if (cast === INT && !Number.isInteger(n)) return v;
  return n;
}

export interface TreeInterpolation {
  value: unknown;
  diagnostics: Diagnostic[];
}

export function interpolateTree(source: YamlSource, lookup: Lookup): TreeInterpolation {
  const diagnostics: Diagnostic[] = [];
  const warned = new Set<string>();
  const castChecked = (v: string, path: PathSeg[]): unknown => {
    const cast = castFor(path);
    if (!cast) return v;
    const c = applyCast(v, cast);
    if (typeof c === 'string') {
      const want = cast === BOOL ? 'a boolean (true or false)' : cast === INT ? 'an integer' : 'a number';
      diagnostics.push(source.diag('type', path, `must be ${want}`));
    }
    return c;
  };
  const walk = (v: unknown, path: PathSeg[]): unknown => {
    if (typeof v === 'string' && v.includes('$')) {
      const r = interpolate(v, lookup);
      for (const e of r.errors) diagnostics.push(source.diag('interpolation', path, e));
      for (const name of r.unset) {
        if (warned.has(name)) continue;
        warned.add(name);
        diagnostics.push(
          source.diag('interpolation-unset', path, `variable ${name} is not set; defaulting to a blank string`, { severity: 'warning' }),
        );
      }
      return castChecked(r.value, path);
    }
    if (typeof v === 'string') return castChecked(v, path);
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) out[k] = walk(item, [...path, k]);
      return out;
    }
    return v;
  };
  return { value: walk(source.value, []), diagnostics };
}
