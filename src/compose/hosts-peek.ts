import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { normalizeHosts } from './hosts.js';
import { interpolateTree } from './interpolate-tree.js';
import { parseYaml } from './yaml-source.js';

/**
 * The hosts of a checkout's berth.yaml, read without loading the stacks:
 * `berth run` needs them before any pass, to start one controller per host.
 * It is a peek, not the validation — each host's controller loads and
 * validates the whole desired state and refuses it when it is invalid.
 * Null when berth.yaml cannot be read or parsed (keep the hosts you have);
 * [] when there is no `hosts:` (the one engine of DOCKER_HOST).
 */
export function peekHosts(repoDir: string, env: Record<string, string | undefined>): TargetSpec[] | null {
  const name = ['berth.yaml', 'berth.yml'].find((n) => existsSync(join(repoDir, n)));
  if (!name) return [];
  let text: string;
  try {
    text = readFileSync(join(repoDir, name), 'utf8');
  } catch {
    return null;
  }
  const { source } = parseYaml(name, text);
  if (!source) return null;
  const { value } = interpolateTree(source, (v) => env[v]);
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  const ignored: Diagnostic[] = [];
  const hosts = (value as Record<string, unknown>).hosts;
  if (hosts === undefined || hosts === null) return [];
  return normalizeHosts({ ...source, value }, hosts, [], ignored).filter((h) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h.name) && h.docker !== 'undefined');
}
