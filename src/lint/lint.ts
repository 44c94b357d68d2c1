import type { DesiredState } from '../model/desired.js';
import type { Finding, KeyPath, LintRule, RawFinding } from './finding.js';
import { LINT_RULES } from './registry.js';

/**
 * Where things are in a stack's Compose file: the loader's parsed source
 * (`LoadResult.sources`) has this shape, so lint never parses YAML again.
 */
export interface SourcePositions {
  /** The file's value after interpolation, `<<` merges resolved. */
  value: unknown;
  locate(path: KeyPath, opts?: { key?: boolean }): { line: number; col: number };
}

export interface LintOptions {
  /** Per stack name; without it findings name the file but no line. */
  positions?: ReadonlyMap<string, SourcePositions>;
  rules?: readonly LintRule[];
}

/**
 * Pure: the desired state → hardening findings, each silenced by the
 * `x-berth.lint.ignore` of the service(s) it concerns, made an error when
 * berth.yaml lists its rule under `lint.errors`, and located in its Compose
 * file. Deterministic order: by stack, then position.
 */
export function lint(desired: DesiredState, opts: LintOptions = {}): Finding[] {
  const rules = opts.rules ?? LINT_RULES;
  const ignored = new Map<string, ReadonlySet<string>>();
  for (const stack of desired.stacks) for (const s of stack.services) ignored.set(`${stack.name}/${s.name}`, new Set(s.berth.lintIgnore));
  const fileOf = new Map(desired.stacks.map((s) => [s.name, s.file]));
  const asErrors = new Set(desired.settings.lint.errors);

  const silenced = (f: RawFinding): boolean => {
    const by = f.silencedBy ?? (f.service !== undefined ? [{ stack: f.stack, service: f.service }] : []);
    return by.some((s) => ignored.get(`${s.stack}/${s.service}`)?.has(f.rule) === true);
  };

  const findings: Finding[] = [];
  for (const rule of rules) {
    for (const raw of rule.check(desired)) {
      if (silenced(raw)) continue;
      const file = fileOf.get(raw.stack);
      const pos = locate(opts.positions?.get(raw.stack), raw.at);
      findings.push({
        rule: raw.rule,
        severity: asErrors.has(raw.rule) ? 'error' : rule.defaultSeverity,
        stack: raw.stack,
        ...(raw.service !== undefined ? { service: raw.service } : {}),
        object: raw.object,
        message: raw.message,
        ...(file !== undefined ? { file } : {}),
        ...(pos ?? {}),
      });
    }
  }
  const order = new Map(rules.map((r, i) => [r.id, i]));
  return findings.sort(
    (a, b) =>
      cmp(a.stack, b.stack) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.col ?? 0) - (b.col ?? 0) ||
      cmp(a.object, b.object) ||
      (order.get(a.rule) ?? 0) - (order.get(b.rule) ?? 0) ||
      cmp(a.message, b.message),
  );
}

/**
 * The key the finding is about, or, when the file does not have it (a
 * missing `cap_drop:`), the deepest key that exists on the way — normally
 * the service's name. Nothing left of the path (the implicit `default`
 * network): the file as a whole.
 */
function locate(src: SourcePositions | undefined, at: KeyPath): { line: number; col: number } | null {
  if (!src) return null;
  let cur: unknown = src.value;
  let depth = 0;
  for (const seg of at) {
    if (Array.isArray(cur) && typeof seg === 'number' && seg < cur.length) cur = cur[seg];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else break;
    depth++;
  }
  if (depth === 0) return null;
  return src.locate(at.slice(0, depth), { key: true });
}

export function counts(findings: readonly Finding[]): { errors: number; warnings: number } {
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { errors, warnings: findings.length - errors };
}

/** `berth lint`'s exit code: 0 clean · 2 warnings · 1 errors. */
export function lintExitCode(findings: readonly Finding[]): 0 | 1 | 2 {
  const c = counts(findings);
  return c.errors > 0 ? 1 : c.warnings > 0 ? 2 : 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
