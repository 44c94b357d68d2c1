import type { DependsOn, ServiceSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { replicaName } from '../model/replicas.js';
import type { PathSeg, YamlSource } from './yaml-source.js';

type Obj = Record<string, unknown>;
type Draft = Omit<ServiceSpec, 'configHash'>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `service:X` (another service of the stack), the Compose form of a shared namespace. */
export function serviceOf(mode: string | null | undefined): string | null {
  return typeof mode === 'string' && mode.startsWith('service:') ? mode.slice('service:'.length) : null;
}

/** `volumes_from` entry: `X[:ro|rw]` (a service) or `container:NAME[:ro|rw]`. */
export function parseVolumesFrom(entry: string): { service: string | null; container: string | null; mode: 'ro' | 'rw' } | null {
  const parts = entry.split(':');
  const isContainer = parts[0] === 'container';
  const rest = isContainer ? parts.slice(1) : parts;
  if (rest.length === 0 || rest.length > 2 || rest[0] === '') return null;
  const mode = rest[1] ?? 'rw';
  if (mode !== 'ro' && mode !== 'rw') return null;
  return isContainer ? { service: null, container: rest[0]!, mode } : { service: rest[0]!, container: null, mode };
}

/** `links` entry: `X` or `X:ALIAS`. */
export function parseLink(entry: string): { service: string; alias: string } {
  const [service = '', alias = service] = entry.split(':');
  return { service, alias };
}

/**
 * What ties services of one stack together beyond `depends_on`: shared
 * namespaces (`network_mode`, `ipc`, `pid` as `service:X`), `volumes_from`
 * and legacy `links`. Each names a service that must exist and be deployed
 * (a located error otherwise); the container name of that service is put
 * into the dependent's spec (`serviceContainers`), so the engine gets
 * `container:<name>` and a renamed dependency changes the config hash. As
 * Compose does, each also makes an implicit `depends_on` (with
 * `restart: true` for namespaces and links, whose dependents must follow a
 * replaced dependency). A `required: false` dependency that is not
 * deployed is dropped: Compose starts the service without it.
 */
export function linkServices(drafts: Draft[], servicesObj: Obj, inactive: readonly string[], source: YamlSource, out: Diagnostic[]): void {
  const byName = new Map(drafts.map((d) => [d.name, d]));
  for (const d of drafts) {
    const def = isObj(servicesObj[d.name]) ? (servicesObj[d.name] as Obj) : {};
    const at = (...p: PathSeg[]) => ['services', d.name, ...p];
    const containers: Record<string, string> = {};
    const implicit: DependsOn[] = [];
    const refer = (target: string, path: PathSeg[], what: string, restart: boolean): boolean => {
      if (target === d.name) {
        out.push(source.diag('service-reference', path, `${what} cannot name the service itself`));
        return false;
      }
      const spec = byName.get(target);
      if (!spec) {
        const why = inactive.includes(target) ? 'which is not deployed: none of its profiles is active (set COMPOSE_PROFILES)' : `which is not a service of stack "${d.stack}"`;
        const found = source.diag('service-reference', path, `${what} refers to service "${target}", ${why}`);
        // A definition inherited through `extends` would report the same mistake once per service: once is enough.
        if (!out.some((o) => o.file === found.file && o.line === found.line && o.col === found.col && o.message === found.message)) out.push(found);
        return false;
      }
      // Replica 1 when the target is scaled, as Compose picks the first container.
      containers[target] = replicaName(spec, 1);
      implicit.push({ service: target, condition: 'service_started', required: true, restart });
      return true;
    };
    for (const [key, field] of [['network_mode', 'networkMode'], ['ipc', 'ipcMode'], ['pid', 'pidMode']] as const) {
      const target = serviceOf(d[field]);
      if (target !== null) refer(target, at(key), `\`${key}: service:${target}\``, true);
    }
    if (Array.isArray(def.volumes_from)) {
      const list: string[] = [];
      def.volumes_from.forEach((v, i) => {
        const parsed = parseVolumesFrom(String(v));
        if (!parsed) {
          out.push(source.diag('volumes-from', at('volumes_from', i), 'expected SERVICE[:ro|rw] or container:NAME[:ro|rw]'));
          return;
        }
        if (parsed.service !== null && !refer(parsed.service, at('volumes_from', i), '`volumes_from`', false)) return;
        list.push(String(v));
      });
      if (list.length > 0) d.volumesFrom = list;
    }
    if (Array.isArray(def.links)) {
      const list: string[] = [];
      def.links.forEach((v, i) => {
        const link = parseLink(String(v));
        if (refer(link.service, at('links', i), '`links`', true)) list.push(`${link.service}:${link.alias}`);
      });
      if (list.length > 0) d.links = [...new Set(list)].sort();
    }
    if (Object.keys(containers).length > 0) d.serviceContainers = sortKeys(containers);
    // Explicit depends_on wins over the implied one (Compose's setIfMissing).
    const have = new Set(d.dependsOn.map((x) => x.service));
    for (const x of implicit) {
      if (!have.has(x.service)) {
        d.dependsOn.push(x);
        have.add(x.service);
      }
    }
    d.dependsOn = d.dependsOn.filter((x) => x.required || byName.has(x.service)).sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  }
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const r: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) r[k] = o[k]!;
  return r;
}
