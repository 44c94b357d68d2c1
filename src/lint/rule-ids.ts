/**
 * The ids of berth's lint rules, final and stable: users write them in
 * `x-berth.lint.ignore` and in `lint.errors` of berth.yaml, and the schemas
 * reject any other id there (a typo must not silently turn a rule off or
 * leave it a warning). Kept apart from the rules so the schemas can import
 * the list without the checks.
 */
export const LINT_RULE_IDS = [
  'db-port-published',
  'healthcheck-missing',
  'no-new-privileges',
  'cap-drop-all',
  'docker-socket-rw',
  'image-latest',
  'memory-limit-missing',
  'traefik-exposed-by-default',
  'backing-network-not-internal',
  'swarm-database-unpinned',
] as const;

export type LintRuleId = (typeof LINT_RULE_IDS)[number];
