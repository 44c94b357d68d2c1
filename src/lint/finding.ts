import type { DesiredState } from '../model/desired.js';
import type { Severity } from '../model/errors.js';
import type { LintRuleId } from './rule-ids.js';

/** Key path inside a stack's Compose file, as the loader's position map takes it. */
export type KeyPath = readonly (string | number)[];

/**
 * What a rule reports, before ignores, severity and positions are applied.
 * `at` is the most specific key path the finding is about; when that key is
 * absent from the file (a missing `cap_drop:`), the finding points at the
 * deepest part that exists, normally the service's name.
 */
export interface RawFinding {
  rule: LintRuleId;
  stack: string;
  /** Absent for findings about a network. */
  service?: string;
  /** What a person calls the object: `<stack>/<service>`, or the network's Docker name. */
  object: string;
  /** What is wrong, in one line. Never a secret value. */
  message: string;
  at: KeyPath;
  /** Services whose `x-berth.lint.ignore` silences this finding (default: `service`). */
  silencedBy?: { stack: string; service: string }[];
}

export interface Finding {
  rule: LintRuleId;
  severity: Severity;
  stack: string;
  service?: string;
  object: string;
  message: string;
  /** Compose file relative to the repo root. */
  file?: string;
  /** 1-based; present when the loader's positions were available. */
  line?: number;
  col?: number;
}

export interface LintRule<Id extends LintRuleId = LintRuleId> {
  id: Id;
  /** Unless berth.yaml lists the id under `lint.errors`. */
  defaultSeverity: Severity;
  /** One line: why the rule exists (printed by `berth lint`, in the README table). */
  why: string;
  check(desired: DesiredState): RawFinding[];
}
