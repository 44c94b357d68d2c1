import { LABEL } from '../labels.js';
import type { DesiredState } from '../model/desired.js';
import type { StateStore } from '../ports/state.js';
import type { LiveSwarmService, SwarmPort } from '../ports/swarm.js';
import { swarmDrift, type SwarmAppliedRecord, type SwarmDriftItem } from './drift.js';
import { planSwarm, type SwarmPlan } from './plan.js';
import { swarmServiceName } from './shape.js';

/**
 * One look at a `mode: swarm` host through its SwarmPort, shared by the
 * one-shot commands (cli/swarm.ts) and `berth run` (loop/swarm-controller.ts):
 * the plan against the manager, the drift baseline berth keeps in the host's
 * state dir, and the drift against it.
 */
export const SWARM_RECORD = 'swarm-applied.json';

/** The manager's berth objects, planned against `desired` (already content-identified). */
export async function planOnManager(swarm: SwarmPort, desired: DesiredState): Promise<SwarmPlan> {
  const role = await swarm.swarmRole();
  if (!role) throw new Error('the engine is in no swarm (`docker swarm init` on the manager), but berth.yaml says `mode: swarm`');
  if (!role.manager) throw new Error('the engine is a swarm worker; `docker:` of a `mode: swarm` host must name a manager');
  const [services, networks, files] = await Promise.all([swarm.listServices(), swarm.listNetworks(), swarm.listSwarmFiles()]);
  return planSwarm(desired, { services, networks, files });
}

/**
 * The drift baseline: each desired service with the config hash it carries
 * now — the new one when its update went through, the previous one when it
 * was rolled back.
 */
export async function recordSwarmApplied(swarm: SwarmPort, state: StateStore, desired: DesiredState, revision: string | null): Promise<SwarmAppliedRecord> {
  const live = new Map((await swarm.listServices()).map((s) => [s.name, s]));
  const services = desired.stacks.flatMap((st) =>
    st.services.flatMap((svc) => {
      const name = swarmServiceName(st.name, svc.name);
      const hash = live.get(name)?.labels[LABEL.configHash];
      return hash ? [{ stack: st.name, service: svc.name, name, configHash: hash }] : [];
    }),
  );
  const record: SwarmAppliedRecord = { revision, services };
  await state.writeJson(SWARM_RECORD, record);
  return record;
}

export function readSwarmApplied(state: StateStore): Promise<SwarmAppliedRecord | null> {
  return state.readJson<SwarmAppliedRecord>(SWARM_RECORD);
}

/** Running tasks per service id (the tasks Swarm wants running and that run). */
export async function runningTasks(swarm: SwarmPort, services: LiveSwarmService[]): Promise<Map<string, number>> {
  const running = new Map<string, number>();
  await Promise.all(services.map(async (s) => running.set(s.id, (await swarm.listTasks(s.id)).filter((t) => t.desiredState === 'running' && t.state === 'running').length)));
  return running;
}

/** Drift against what berth applied there. */
export async function driftOnManager(swarm: SwarmPort, record: SwarmAppliedRecord): Promise<SwarmDriftItem[]> {
  const [services, networks] = await Promise.all([swarm.listServices(), swarm.listNetworks()]);
  return swarmDrift(record, services, new Map(networks.map((n) => [n.id, n.name])), await runningTasks(swarm, services));
}
