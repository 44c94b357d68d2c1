import type { LintRule } from './finding.js';
import { LINT_RULE_IDS, type LintRuleId } from './rule-ids.js';
import { capDropAll, dockerSocketRw, imageLatest, memoryLimitMissing, noNewPrivileges } from './rules/container.js';
import { dbPortPublished, traefikExposedByDefault } from './rules/exposure.js';
import { healthcheckMissing } from './rules/health.js';
import { backingNetworkNotInternal } from './rules/networks.js';
import { swarmDatabaseUnpinned } from './rules/swarm.js';

/** Every rule by id: the type makes a rule without an id, or an id without a rule, a compile error. */
const BY_ID: { [K in LintRuleId]: LintRule<K> } = {
  'db-port-published': dbPortPublished,
  'healthcheck-missing': healthcheckMissing,
  'no-new-privileges': noNewPrivileges,
  'cap-drop-all': capDropAll,
  'docker-socket-rw': dockerSocketRw,
  'image-latest': imageLatest,
  'memory-limit-missing': memoryLimitMissing,
  'traefik-exposed-by-default': traefikExposedByDefault,
  'backing-network-not-internal': backingNetworkNotInternal,
  'swarm-database-unpinned': swarmDatabaseUnpinned,
};

/** The rules in their documented order. */
export const LINT_RULES: readonly LintRule[] = LINT_RULE_IDS.map((id) => BY_ID[id]);

export function lintRule(id: LintRuleId): LintRule {
  return BY_ID[id];
}
