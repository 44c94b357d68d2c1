import type { LintRule } from '../finding.js';
import { eachService } from './each-service.js';

/**
 * On a swarm a database's volume lives on the one node its task first ran
 * on: rescheduled elsewhere, the database starts empty beside its data. So a
 * database-tier service on a `mode: swarm` host must be pinned by a
 * placement constraint (an error by default, not a hardening hint).
 */
export const swarmDatabaseUnpinned: LintRule<'swarm-database-unpinned'> = {
  id: 'swarm-database-unpinned',
  defaultSeverity: 'error',
  why: "a swarm may reschedule the task to another node, where the database's named volume is a new, empty one",
  check: (desired) =>
    eachService(desired, 'swarm-database-unpinned', (svc) =>
      svc.swarm && svc.berth.tier === 'database' && svc.swarm.placement.constraints.length === 0
        ? { message: 'database-tier service on a swarm without a placement constraint: pin it to the node that holds its volume (deploy.placement.constraints, e.g. node.hostname == db-1)', at: ['deploy', 'placement', 'constraints'] }
        : null,
    ),
};
