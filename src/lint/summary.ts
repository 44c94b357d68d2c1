import type { Finding } from './finding.js';
import { countLine, renderFindingLine } from './render.js';
import type { LintRuleId } from './rule-ids.js';

/**
 * How bad a rule's finding is, for picking the few findings a plan shows:
 * what hands out the host or a database first, missing limits and health
 * checks last. A record over every id, so a new rule must be ranked here.
 */
const RANK: Record<LintRuleId, number> = {
  'docker-socket-rw': 0,
  'swarm-database-unpinned': 1,
  'db-port-published': 2,
  'traefik-exposed-by-default': 3,
  'backing-network-not-internal': 4,
  'image-latest': 5,
  'no-new-privileges': 6,
  'cap-drop-all': 7,
  'memory-limit-missing': 8,
  'healthcheck-missing': 9,
};

/** How many findings a plan prints in full: up to this many, all of them. */
export const WORST_SHOWN = 5;

/**
 * The lint block below `berth plan` (and above `berth apply`): with a handful
 * of findings, every one; with more, the count per rule, the worst few
 * (errors first, then by rule rank, one rule at a time so one noisy rule does
 * not hide the others) and where to see the rest. `berth lint`,
 * `berth plan --lint=full` and `--json` keep the full list.
 */
export function renderLintSummary(findings: readonly Finding[], shown = WORST_SHOWN): string[] {
  if (findings.length === 0) return [];
  if (findings.length <= shown) return [`${countLine(findings)} (berth lint says why each rule matters)`, ...findings.map((f) => `  ${renderFindingLine(f)}`)];
  const perRule = new Map<LintRuleId, Finding[]>();
  for (const f of [...findings].sort(worseFirst)) {
    const list = perRule.get(f.rule) ?? [];
    list.push(f);
    perRule.set(f.rule, list);
  }
  const rules = [...perRule.keys()];
  const idW = Math.max(...rules.map((r) => r.length));
  const lines = [`${countLine(findings)}: run berth lint for all of them and why each rule matters`];
  for (const rule of rules) {
    const list = perRule.get(rule)!;
    const errors = list.filter((f) => f.severity === 'error').length;
    lines.push(`  ${rule.padEnd(idW)}  ${String(list.length).padStart(String(findings.length).length)}${errors > 0 ? ` (${errors} ${errors === 1 ? 'error' : 'errors'})` : ''}`);
  }
  lines.push(`Worst ${shown}:`);
  for (const f of worstFew(perRule, shown)) lines.push(`  ${renderFindingLine(f)}`);
  lines.push(`… and ${findings.length - shown} more (berth lint, or berth plan --lint=full)`);
  return lines;
}

function worseFirst(a: Finding, b: Finding): number {
  const sev = (f: Finding) => (f.severity === 'error' ? 0 : 1);
  return sev(a) - sev(b) || RANK[a.rule] - RANK[b.rule];
}

/** Round-robin over the rules (already worst-first), each rule's findings in file order. */
function worstFew(perRule: ReadonlyMap<LintRuleId, Finding[]>, n: number): Finding[] {
  const queues = [...perRule.values()].map((list) => [...list]);
  const out: Finding[] = [];
  while (out.length < n) {
    let took = false;
    for (const q of queues) {
      const f = q.shift();
      if (f === undefined) continue;
      out.push(f);
      took = true;
      if (out.length === n) break;
    }
    if (!took) break;
  }
  return out;
}
