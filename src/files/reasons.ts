import { createHash } from 'node:crypto';
import type { RepoFileRef } from '../model/desired.js';

/**
 * Plan reasons for repository files: `file stacks/edge/traefik.yml changed`,
 * `secret db_password changed` — a secret by its name only, never its path's
 * content or id. Compares the last-applied record's refs (secret ids salted,
 * see redactFileIds) with the desired ones.
 */
export function fileReasons(before: RepoFileRef[] | undefined, after: RepoFileRef[] | undefined, salt: string): string[] {
  const key = (r: RepoFileRef) => `${r.kind}\0${r.path}\0${r.target ?? ''}\0${r.name ?? ''}`;
  const a = new Map((before ?? []).map((r) => [key(r), r]));
  const b = new Map((after ?? []).map((r) => [key(r), r]));
  const out: string[] = [];
  const seen = new Set<string>();
  const say = (r: RepoFileRef, what: string) => {
    const line = `${label(r)} ${what}`;
    if (!seen.has(line)) out.push(line);
    seen.add(line);
  };
  for (const [k, r] of b) {
    const old = a.get(k);
    if (!old) say(r, 'added');
    else if (old.id !== comparableId(r, salt)) say(r, 'changed');
  }
  for (const [k, r] of a) if (!b.has(k)) say(r, 'removed');
  return out;
}

function label(r: RepoFileRef): string {
  switch (r.kind) {
    case 'secret':
      return `secret ${r.name ?? '(unnamed)'}`;
    case 'build-context':
      return `build context ${r.path}`;
    case 'env_file':
      return `env_file ${r.path}`;
    default:
      return `file ${r.path}`;
  }
}

/** What the record keeps of a ref's id: a secret's is salted (a git blob id of a short secret could be guessed). */
export function comparableId(r: RepoFileRef, salt: string): string | null {
  if (r.kind !== 'secret' || r.id === null) return r.id;
  return `salted:${createHash('sha256').update(salt + r.id).digest('hex')}`;
}

export function redactFileIds(refs: RepoFileRef[] | undefined, salt: string): RepoFileRef[] | undefined {
  return refs?.map((r) => ({ ...r, id: comparableId(r, salt) }));
}
