import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMap, parseDocument } from 'yaml';

/**
 * Copy a desired-state repo so that every Docker name it creates carries
 * `prefix`: stacks are renamed (so containers, default networks and
 * unnamed volumes follow), and networks/volumes with a fixed `name:` or
 * referenced as `external: true` get the prefix on that name. Tests can then
 * apply the example repo without touching anything else on the engine.
 */
export function isolatedCopy(src: string, prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), `berth-${prefix}`));
  cpSync(src, root, { recursive: true });
  const stacks = join(root, 'stacks');
  for (const name of readdirSync(stacks)) {
    const dir = join(stacks, `${prefix}${name}`);
    renameSync(join(stacks, name), dir);
    for (const file of readdirSync(dir).filter((f) => /^(docker-)?compose\.ya?ml$/.test(f))) {
      const path = join(dir, file);
      const doc = parseDocument(readFileSync(path, 'utf8'), { merge: true });
      for (const section of ['networks', 'volumes']) {
        const defs = doc.get(section);
        if (!isMap(defs)) continue;
        for (const pair of defs.items) {
          const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
          let def = pair.value as unknown;
          if (!isMap(def)) {
            def = doc.createNode({});
            pair.value = def as never;
          }
          const m = def as ReturnType<typeof doc.createNode> & { get(k: string): unknown; set(k: string, v: unknown): void };
          const name = m.get('name');
          if (typeof name === 'string') m.set('name', `${prefix}${name}`);
          else if (m.get('external') === true) m.set('name', `${prefix}${key}`);
        }
      }
      writeFileSync(path, doc.toString());
    }
  }
  // berth.yaml per-stack overrides follow the rename.
  try {
    const bpath = join(root, 'berth.yaml');
    const doc = parseDocument(readFileSync(bpath, 'utf8'));
    const st = doc.get('stacks');
    if (isMap(st)) for (const pair of st.items) (pair.key as { value: string }).value = `${prefix}${(pair.key as { value: string }).value}`;
    writeFileSync(bpath, doc.toString());
  } catch {
    /* no berth.yaml */
  }
  return root;
}
