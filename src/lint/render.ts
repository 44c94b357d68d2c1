import type { BerthSettings } from '../model/desired.js';
import type { Finding, LintRule } from './finding.js';
import { counts } from './lint.js';
import { LINT_RULES } from './registry.js';

/**
 * `berth lint` output for people: findings grouped by stack under the
 * stack's Compose file, one line each (position, severity, object, rule,
 * what is wrong), then one line of why per rule that fired, then the count.
 */
export function renderLintText(findings: readonly Finding[], rules: readonly LintRule[] = LINT_RULES): string {
  if (findings.length === 0) return 'Lint: clean, no findings.\n';
  const lines: string[] = [];
  const pos = (f: Finding) => (f.line !== undefined && f.line > 0 ? `${f.line}:${f.col ?? 0}` : '-');
  const posW = Math.max(...findings.map((f) => pos(f).length));
  const sevW = Math.max(...findings.map((f) => f.severity.length));
  const objW = Math.max(...findings.map((f) => f.object.length));
  let stack: string | null = null;
  for (const f of findings) {
    if (f.stack !== stack) {
      if (stack !== null) lines.push('');
      stack = f.stack;
      lines.push(`Stack ${f.stack}${f.file !== undefined ? ` (${f.file})` : ''}`);
    }
    lines.push(`  ${pos(f).padEnd(posW)}  ${f.severity.padEnd(sevW)}  ${f.object.padEnd(objW)}  ${f.rule}: ${f.message}`);
  }
  const fired = rules.filter((r) => findings.some((f) => f.rule === r.id));
  const idW = Math.max(...fired.map((r) => r.id.length));
  lines.push('', 'Why:');
  for (const r of fired) lines.push(`  ${r.id.padEnd(idW)}  ${r.why}`);
  lines.push('', `${countLine(findings)}. Silence a rule for one service with x-berth.lint.ignore: [rule]; make it an error with lint.errors in berth.yaml.`);
  return `${lines.join('\n')}\n`;
}

/** `FILE:LINE:COL: warning: object: message [rule]`, the form of `berth validate`, for plan and apply. */
export function renderFindingLine(f: Finding): string {
  const where = f.file === undefined ? f.stack : f.line !== undefined && f.line > 0 ? `${f.file}:${f.line}:${f.col ?? 0}` : f.file;
  return `${where}: ${f.severity}: ${f.object}: ${f.message} [${f.rule}]`;
}

export function countLine(findings: readonly Finding[]): string {
  const c = counts(findings);
  return `Lint: ${c.errors} ${c.errors === 1 ? 'error' : 'errors'}, ${c.warnings} ${c.warnings === 1 ? 'warning' : 'warnings'}`;
}

export interface LintJson {
  clean: boolean;
  errors: number;
  warnings: number;
  findings: readonly Finding[];
  /** Every rule with its effective severity under this berth.yaml. */
  rules: { id: string; severity: 'error' | 'warning'; why: string }[];
}

export function lintJson(findings: readonly Finding[], settings: BerthSettings, rules: readonly LintRule[] = LINT_RULES): LintJson {
  const c = counts(findings);
  return {
    clean: findings.length === 0,
    ...c,
    findings,
    rules: rules.map((r) => ({ id: r.id, severity: settings.lint.errors.includes(r.id) ? 'error' : r.defaultSeverity, why: r.why })),
  };
}

/** The block `berth plan` prints below the plan: a count line, then one line per finding. */
export function renderLintBlock(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return [];
  return [`${countLine(findings)} (berth lint says why each rule matters)`, ...findings.map((f) => `  ${renderFindingLine(f)}`)];
}
