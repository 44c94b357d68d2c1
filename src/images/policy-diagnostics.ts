import type { PathSeg } from '../compose/yaml-source.js';
import { parseImagePolicy } from './policy.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the schema cannot say about a service's `x-berth.imagePolicy`: it
 * needs exactly one of `semver`/`pattern`, the range or expression must
 * parse, `order` belongs to `pattern`, and the image needs a tag to move.
 */
export function imagePolicyProblems(service: string, def: Obj): { path: PathSeg[]; message: string; key?: boolean }[] {
  const x = isObj(def['x-berth']) ? def['x-berth'] : {};
  const p = x.imagePolicy;
  if (!isObj(p)) return [];
  const at = (...rest: PathSeg[]): PathSeg[] => ['services', service, 'x-berth', 'imagePolicy', ...rest];
  if (p.semver !== undefined && p.pattern !== undefined) return [{ path: at('pattern'), message: 'set `semver` or `pattern`, not both', key: true }];
  if (p.semver !== undefined && p.order !== undefined) return [{ path: at('order'), message: '`order` applies to `pattern`; semver versions have their own order', key: true }];
  const parsed = parseImagePolicy(p);
  if ('key' in parsed) return [{ path: p[parsed.key] === undefined ? at() : at(parsed.key), message: parsed.message, key: p[parsed.key] === undefined }];
  if (typeof def.image !== 'string') return [{ path: at(), message: 'an imagePolicy needs the service to name an `image:` with a tag', key: true }];
  return [];
}
