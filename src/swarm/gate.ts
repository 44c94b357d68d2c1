import { canonicalJson } from '../compose/hash.js';
import { LABEL } from '../labels.js';
import type { LiveSwarmService, LiveSwarmTask } from '../ports/swarm.js';
import { liveShape } from './engine-spec.js';

/**
 * The rollout gate of a swarm service, as a pure verdict over one look at the
 * service and its tasks. A task is "of the current spec" when its own spec is
 * the service's TaskTemplate, field by field as berth writes them (Swarm copies
 * the template into every task it makes) — not
 * by a label, which a hand edit would carry along. Converged when the service
 * carries the spec berth wrote (`configHash`) and every task Swarm wants
 * running is of that spec and running (Swarm reports `running` only once a
 * healthcheck passed, so running is healthy where there is one), as many as
 * asked. Failed as soon as such a task failed or Swarm paused or rolled back.
 */
export type GateVerdict = { state: 'converged' } | { state: 'waiting'; why: string } | { state: 'failed'; why: string };

const SWARM_GAVE_UP = new Set(['paused', 'rollback_started', 'rollback_paused', 'rollback_completed']);
const TASK_FAILED = new Set(['failed', 'rejected']);

export function gate(configHash: string, service: LiveSwarmService | null, tasks: LiveSwarmTask[], opts: { rollingBack?: boolean } = {}): GateVerdict {
  if (!service) return { state: 'failed', why: 'the service is gone' };
  const status = service.updateStatus;
  if (!opts.rollingBack && status && SWARM_GAVE_UP.has(status.state)) {
    const what = status.state === 'paused' ? 'Swarm paused the update' : 'Swarm rolled the update back';
    return { state: 'failed', why: `${what}${status.message ? ` (${status.message})` : ''}` };
  }
  if (service.labels[LABEL.configHash] !== configHash) return { state: 'waiting', why: 'the service does not carry the expected spec yet' };
  // Compared as shapes: a task's copy lacks defaults the service spec spells out (Runtime, an empty DNSConfig).
  const taskShape = (template: unknown) => canonicalJson(liveShape({ TaskTemplate: template }, new Map()));
  const template = taskShape((service.spec as { TaskTemplate?: unknown } | null)?.TaskTemplate ?? null);
  const current = (t: LiveSwarmTask) => taskShape(t.spec) === template;
  const failed = tasks.find((t) => current(t) && TASK_FAILED.has(t.state));
  if (failed && !opts.rollingBack) return { state: 'failed', why: `task ${failed.slot || failed.id.slice(0, 12)} ${failed.state}${failed.error ? `: ${failed.error}` : ''}` };
  const mode = liveShape(service.spec, new Map()).mode;
  const wanted = tasks.filter((t) => t.desiredState === 'running');
  const ready = wanted.filter((t) => current(t) && t.state === 'running');
  const old = tasks.filter((t) => !current(t) && (t.state === 'running' || t.state === 'starting'));
  const expected = mode === 'global' ? Math.max(1, wanted.length) : mode.replicated;
  if (ready.length === expected && wanted.length === expected && old.length === 0) return { state: 'converged' };
  return { state: 'waiting', why: `${ready.length}/${expected} tasks of the new spec running${old.length ? `, ${old.length} old still running` : ''}` };
}
