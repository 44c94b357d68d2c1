import type { DesiredState, ServiceSpec } from '../../model/desired.js';
import type { RawFinding } from '../finding.js';
import type { LintRuleId } from '../rule-ids.js';

/** Run a per-service check over every deployed service of every stack. */
export function eachService(
  desired: DesiredState,
  rule: LintRuleId,
  check: (svc: ServiceSpec) => { message: string; at?: (string | number)[] } | null,
): RawFinding[] {
  const out: RawFinding[] = [];
  for (const stack of desired.stacks) {
    for (const svc of stack.services) {
      const hit = check(svc);
      if (!hit) continue;
      out.push({
        rule,
        stack: stack.name,
        service: svc.name,
        object: `${stack.name}/${svc.name}`,
        message: hit.message,
        at: ['services', svc.name, ...(hit.at ?? [])],
      });
    }
  }
  return out;
}
