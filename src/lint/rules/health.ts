import type { HealthcheckSpec } from '../../model/desired.js';
import type { LintRule, RawFinding } from '../finding.js';

/**
 * A service others wait on with `condition: service_healthy` must have a
 * health check, or the wait can only end in a timeout. The loader cannot
 * reject this: a HEALTHCHECK built into the image is valid and invisible
 * until the image is inspected, so it is a lint finding with that caveat.
 */
function healthcheckState(h: HealthcheckSpec | null): 'declared' | 'none' | 'disabled' {
  if (h === null) return 'none';
  if (h.disable || (h.test !== null && h.test[0]?.toUpperCase() === 'NONE')) return 'disabled';
  return 'declared';
}

export const healthcheckMissing: LintRule<'healthcheck-missing'> = {
  id: 'healthcheck-missing',
  defaultSeverity: 'warning',
  why: 'dependents wait with condition: service_healthy until the service reports healthy; without a health check that never happens and the deploy stalls until it times out',
  check: (desired) => {
    const out: RawFinding[] = [];
    for (const stack of desired.stacks) {
      for (const svc of stack.services) {
        const state = healthcheckState(svc.healthcheck);
        if (state === 'declared') continue;
        const waiting = stack.services.filter((s) => s.dependsOn.some((d) => d.service === svc.name && d.condition === 'service_healthy')).map((s) => s.name);
        if (waiting.length === 0) continue;
        const who = `${waiting.join(', ')} ${waiting.length === 1 ? 'waits' : 'wait'} for it with condition: service_healthy`;
        out.push({
          rule: 'healthcheck-missing',
          stack: stack.name,
          service: svc.name,
          object: `${stack.name}/${svc.name}`,
          message:
            state === 'disabled'
              ? `healthcheck is disabled, but ${who}`
              : `no healthcheck in the Compose file, but ${who} (a HEALTHCHECK built into the image is not visible to berth)`,
          at: ['services', svc.name, 'healthcheck'],
        });
      }
    }
    return out;
  },
};
