import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/lint/finding.js';
import { renderLintBlock } from '../../src/lint/render.js';
import type { LintRuleId } from '../../src/lint/rule-ids.js';
import { renderLintSummary, WORST_SHOWN } from '../../src/lint/summary.js';
import { expectGolden } from '../support/golden.js';

// Golden files hold the exact lines below `berth plan`. After an intended change:
//   UPDATE_GOLDEN=1 npx vitest run test/lint/summary.test.ts
const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const golden = (name: string, lines: string[]) => expectGolden(GOLDEN, name, `${lines.join('\n')}\n`);

function finding(rule: LintRuleId, service: string, line: number, severity: Finding['severity'] = 'warning'): Finding {
  return { rule, severity, stack: 'shop', service, object: `shop/${service}`, message: `${rule} on ${service}`, file: 'stacks/shop/compose.yaml', line, col: 3 };
}

/** The 50-service stack of the issue: three rules fire on every service. */
function fiftyServices(): Finding[] {
  const out: Finding[] = [];
  for (let i = 1; i <= 50; i++) {
    const svc = `svc${String(i).padStart(2, '0')}`;
    out.push(finding('no-new-privileges', svc, i * 4), finding('cap-drop-all', svc, i * 4), finding('memory-limit-missing', svc, i * 4));
  }
  return out;
}

describe('the lint summary below a plan', () => {
  it('golden: 150 warnings on 50 services fold into counts per rule and the worst few', () => {
    const lines = renderLintSummary(fiftyServices());
    golden('fifty-services.txt', lines);
    expect(lines.length).toBeLessThan(15);
  });

  it('golden: errors and the riskiest rules come first, one rule at a time', () => {
    const findings = [
      ...fiftyServices().slice(0, 30),
      finding('healthcheck-missing', 'svc01', 4),
      finding('db-port-published', 'db', 300),
      finding('docker-socket-rw', 'agent', 310),
      finding('memory-limit-missing', 'db', 300, 'error'),
    ];
    const lines = renderLintSummary(findings);
    golden('mixed-rules.txt', lines);
    const worst = lines.slice(lines.indexOf(`Worst ${WORST_SHOWN}:`) + 1, lines.indexOf(`Worst ${WORST_SHOWN}:`) + 1 + WORST_SHOWN);
    expect(worst[0]).toContain('error: shop/db');
    expect(worst[1]).toContain('[docker-socket-rw]');
    expect(worst[2]).toContain('[db-port-published]');
  });

  it('a handful of findings is printed in full, as before', () => {
    const few = fiftyServices().slice(0, WORST_SHOWN);
    expect(renderLintSummary(few)).toEqual(renderLintBlock(few));
  });

  it('no findings, no block', () => {
    expect(renderLintSummary([])).toEqual([]);
  });
});
