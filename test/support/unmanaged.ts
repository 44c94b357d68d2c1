import { docker } from './engine.js';

/**
 * "berth never changes or removes an object without io.berth.managed=true"
 * (PRODUCT.md §3), checked the blunt way: the full `docker inspect` JSON of
 * each unmanaged object a test created, before and after whatever berth did,
 * compared byte for byte. Only fields Docker changes by itself are left out
 * (a health check's log of timestamped probes), and the report says which.
 */
export type ObjectKind = 'container' | 'network' | 'volume';
export interface ObjectRef {
  kind: ObjectKind;
  name: string;
}

/** Paths (dot-separated, from the inspect object) that change without anyone touching the object. */
const VOLATILE: Record<ObjectKind, string[]> = {
  container: ['State.Health.Log', 'State.Health.FailingStreak'],
  network: [],
  volume: [],
};

export type Snapshot = Map<string, string>;

const key = (o: ObjectRef) => `${o.kind} ${o.name}`;

async function inspect(o: ObjectRef): Promise<string> {
  const args = o.kind === 'container' ? ['container', 'inspect', o.name] : [o.kind, 'inspect', o.name];
  const r = await docker(args, { timeoutMs: 30_000 });
  if (r.code !== 0) return `MISSING: ${r.stderr.trim()}`;
  const [doc] = JSON.parse(r.stdout) as Record<string, unknown>[];
  for (const path of VOLATILE[o.kind]) drop(doc!, path.split('.'));
  return JSON.stringify(doc, null, 1);
}

function drop(obj: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || obj === null || typeof obj !== 'object' || !(head in obj)) return;
  if (rest.length === 0) delete obj[head];
  else drop(obj[head] as Record<string, unknown>, rest);
}

export async function snapshot(objects: ObjectRef[]): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const o of objects) out.set(key(o), await inspect(o));
  return out;
}

export interface Change {
  object: string;
  /** From the first differing line on, a few lines before (-) and after (+), to see what changed. */
  diff: string[];
}

/** Compare the objects now with a snapshot: every object that differs, with the lines that do. */
export async function changedSince(before: Snapshot, objects: ObjectRef[]): Promise<Change[]> {
  const changes: Change[] = [];
  for (const o of objects) {
    const was = before.get(key(o));
    const now = await inspect(o);
    if (was === now) continue;
    const a = (was ?? '').split('\n');
    const b = now.split('\n');
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    const diff = [...a.slice(i, i + 6).map((l) => `- ${l}`.slice(0, 200)), ...b.slice(i, i + 6).map((l) => `+ ${l}`.slice(0, 200))];
    changes.push({ object: key(o), diff });
  }
  return changes;
}

export function describeChanges(changes: Change[]): string {
  return changes.map((c) => `${c.object} changed:\n  ${c.diff.join('\n  ')}`).join('\n');
}

export const volatileFields = (): string => Object.entries(VOLATILE).map(([k, v]) => `${k}: ${v.join(', ') || 'none'}`).join('; ');
