import { parseNotInInventory } from '../../controllers/context.js';

/**
 * The plan's warnings as `berth plan` prints them below a plan: each
 * "managed by berth, but stack S was never applied from this repository"
 * notice is one per object (a stack of another state dir gives one per
 * container), so they are folded into one line per stack with the count per
 * kind. Any other warning is kept as it is, in its place. `--lint=full` and
 * `--json` keep the full list.
 */
export function summarizeNotices(warnings: readonly string[]): string[] {
  const groups = new Map<string, { first: string; kinds: Map<string, string[]> }>();
  const out: (string | { stack: string })[] = [];
  for (const w of warnings) {
    const n = parseNotInInventory(w);
    if (!n) {
      out.push(w);
      continue;
    }
    let g = groups.get(n.stack);
    if (!g) {
      g = { first: w, kinds: new Map() };
      groups.set(n.stack, g);
      out.push({ stack: n.stack });
    }
    const names = g.kinds.get(n.kind) ?? [];
    names.push(n.name);
    g.kinds.set(n.kind, names);
  }
  return out.map((entry) => {
    if (typeof entry === 'string') return entry;
    const { first, kinds } = groups.get(entry.stack)!;
    const all = [...kinds.values()].flat();
    if (all.length === 1) return first;
    const stack = entry.stack || '(none)';
    const perKind = [...kinds].map(([kind, names]) => `${names.length} ${plural(kind, names.length)}`).join(', ');
    return `stack "${stack}": ${all.length} objects managed by berth (${perKind}) were never applied from this repository and state dir; left in place (berth plan --lint=full lists them)`;
  });
}

function plural(kind: string, n: number): string {
  return n === 1 ? kind : `${kind}s`;
}
