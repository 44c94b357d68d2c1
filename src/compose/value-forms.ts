/**
 * The list-or-map value forms Compose allows for labels, environment-like maps
 * and extra_hosts, in one canonical form. A leaf module: normalize.ts and
 * build/spec.ts (build args, build extra_hosts) both use it, and neither
 * imports the other for it.
 */
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** `[K=V, K]` or `{K: V}` → a map with sorted keys (a bare `K` maps to ''). */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = str(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = '';
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = str(val);
  }
  return sortKeys(out);
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

export function normalizeExtraHosts(v: unknown): string[] {
  let entries: string[] = [];
  if (Array.isArray(v)) entries = v.map(str);
  else if (isObj(v)) {
    for (const [host, ip] of Object.entries(v)) {
      for (const one of Array.isArray(ip) ? ip : [ip]) entries.push(`${host}=${str(one)}`);
    }
  }
  // Docker takes HOST:IP; Compose also allows HOST=IP. One canonical form.
  return [...new Set(entries.map((e) => (e.includes('=') ? e.replace('=', ':') : e)))].sort();
}
