import type { ComposeTag } from './composite-source.js';

/**
 * Compose's merge rules for one service definition over another (the
 * Compose Specification's merge rules, as compose-go applies them for
 * `extends` and for several files of one project):
 *
 *  - scalars, and `command`, `entrypoint`, `healthcheck.test`: the override replaces;
 *  - mappings merge key by key, recursively; so do the fields Compose
 *    allows as a list or a mapping (`environment`, `labels`, `sysctls`,
 *    `annotations`, `extra_hosts`, `deploy.labels`, `build.args`,
 *    `depends_on`, `networks`): both are read as mappings first;
 *  - `ulimits.<name>` replaces as a whole; `logging` merges its options only
 *    when the driver is the same;
 *  - sequences are concatenated, and the ones Compose keeps unique are
 *    de-duplicated by their key, the override's entry winning: `volumes` and
 *    `devices` by container path, `secrets`/`configs` by target, `ports`
 *    and `expose` by value, `env_file` by path, and the lists of names
 *    (`cap_add`, `dns`, `profiles`, `links`, `tmpfs`, …) by value;
 *  - a value tagged `!override` replaces the base's whatever its kind;
 *    `!reset` removes the key (the base's value with it).
 *
 * `tags` are the override's, keyed by the path inside the service.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (p: readonly (string | number)[]) => p.map(String).join('\u0000');

const REPLACED = new Set(['command', 'entrypoint', 'healthcheck.test']);
const KV_LISTS = new Set(['environment', 'labels', 'sysctls', 'annotations', 'deploy.labels', 'build.args', 'build.labels']);
const UNIQUE_BY_VALUE = new Set(['cap_add', 'cap_drop', 'dns', 'dns_opt', 'dns_search', 'profiles', 'links', 'tmpfs', 'group_add', 'security_opt', 'external_links', 'expose', 'device_cgroup_rules', 'label_file', 'volumes_from']);

export function mergeService(base: Obj, override: Obj, tags: ReadonlyMap<string, ComposeTag> = new Map()): Obj {
  return mergeMap(base, override, [], tags);
}

function mergeMap(base: Obj, over: Obj, path: string[], tags: ReadonlyMap<string, ComposeTag>): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const p = [...path, k];
    const tag = tags.get(key(p));
    if (tag === '!reset') {
      delete out[k];
      continue;
    }
    if (tag === '!override' || !(k in base)) {
      out[k] = v;
      continue;
    }
    out[k] = mergeValue(base[k], v, p, tags);
  }
  return out;
}

function mergeValue(a: unknown, b: unknown, path: string[], tags: ReadonlyMap<string, ComposeTag>): unknown {
  const field = path.join('.');
  const last = path[path.length - 1]!;
  if (REPLACED.has(field)) return b;
  if (path.length === 1 && (last === 'depends_on' || last === 'networks')) {
    return mergeMap(namedMap(a), namedMap(b), path, tags);
  }
  if (field === 'extra_hosts') return mergeMap(hostsMap(a), hostsMap(b), path, tags);
  if (KV_LISTS.has(field)) return { ...kvMap(a), ...kvMap(b) };
  if (path.length === 1 && last === 'build') return mergeMap(buildMap(a), buildMap(b), path, tags);
  if (path.length === 2 && path[0] === 'ulimits') return b;
  if (field === 'logging' && isObj(a) && isObj(b) && a.driver !== undefined && b.driver !== undefined && a.driver !== b.driver) return b;
  if (isObj(a) && isObj(b)) return mergeMap(a, b, path, tags);
  if (Array.isArray(a) && Array.isArray(b)) return mergeSeq(field, a, b);
  return b;
}

function mergeSeq(field: string, a: unknown[], b: unknown[]): unknown[] {
  const by = uniqueKey(field);
  if (!by) return [...a, ...b];
  // The override's entry takes the place of the base's with the same key.
  const out = new Map<string, unknown>();
  for (const item of [...a, ...b]) {
    const k = by(item);
    if (out.has(k)) out.delete(k);
    out.set(k, item);
  }
  return [...out.values()];
}

function uniqueKey(field: string): ((item: unknown) => string) | null {
  if (field === 'volumes') return (v) => (isObj(v) ? String(v.target ?? '') : mountTarget(String(v)));
  if (field === 'devices') return (v) => (isObj(v) ? String(v.target ?? v.source ?? '') : deviceTarget(String(v)));
  if (field === 'secrets' || field === 'configs') return (v) => (isObj(v) ? String(v.target ?? v.source ?? '') : String(v));
  if (field === 'env_file') return (v) => (isObj(v) ? String(v.path ?? '') : String(v));
  if (field === 'ports') return (v) => (isObj(v) ? JSON.stringify(Object.entries(v).sort()) : String(v));
  if (UNIQUE_BY_VALUE.has(field)) return (v) => String(v);
  return null;
}

/** Container path of a short volume: `SRC:TARGET[:MODE]` or `TARGET`. */
function mountTarget(s: string): string {
  const parts = s.split(':');
  if (parts.length >= 3 && /^[A-Za-z]$/.test(parts[0]!) && parts[1]!.startsWith('\\')) parts.splice(0, 2, `${parts[0]}:${parts[1]}`);
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

function deviceTarget(s: string): string {
  const parts = s.split(':');
  return parts.length >= 2 && !/^[rwm]+$/.test(parts[1]!) ? parts[1]! : parts[0]!;
}

/** `depends_on` / `networks`: a list of names is the mapping of those names to an empty definition. */
function namedMap(v: unknown): Obj {
  if (Array.isArray(v)) return Object.fromEntries(v.map((n) => [String(n), {}]));
  return isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x ?? {}])) : {};
}

/** `KEY=VALUE` lists (a bare `KEY` is KEY with no value) and mappings, as one mapping. */
function kvMap(v: unknown): Obj {
  if (isObj(v)) return v;
  const out: Obj = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = null;
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  }
  return out;
}

/** `extra_hosts`: `HOST:IP`, `HOST=IP` or a mapping; several IPs of one host stay a list. */
function hostsMap(v: unknown): Obj {
  if (isObj(v)) return v;
  const out: Obj = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const at = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
      if (at < 0) continue;
      out[s.slice(0, at)] = s.slice(at + 1);
    }
  }
  return out;
}

function buildMap(v: unknown): Obj {
  return typeof v === 'string' ? { context: v } : isObj(v) ? v : {};
}

/** Keys tagged `!reset` in a definition that overrides nothing: removed, as Compose does. */
export function applyResets(def: Obj, tags: ReadonlyMap<string, ComposeTag>, path: string[] = []): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(def)) {
    const p = [...path, k];
    if (tags.get(key(p)) === '!reset') continue;
    out[k] = isObj(v) ? applyResets(v, tags, p) : v;
  }
  return out;
}
