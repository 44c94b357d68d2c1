import { targetOf } from '../compose/hosts.js';
import type { DesiredState, TargetSpec } from '../model/desired.js';

/**
 * A target is one Docker endpoint and the part of the desired state it runs.
 * Each target is reconciled on its own — its own observe → plan → apply, its
 * own state dir (lock, applied record, drift ledger, holds, history) — so one
 * host that is down never stops the others, and prune on one host only ever
 * sees what that host applied.
 */
export interface Target {
  /** berth.yaml `hosts:` key; null for the one implicit engine of DOCKER_HOST. */
  name: string | null;
  spec: TargetSpec | null;
  desired: DesiredState;
}

/** The desired state split by host; without `hosts:`, one target with everything. */
export function partitionByTarget(desired: DesiredState): Target[] {
  const hosts = desired.settings.hosts;
  if (hosts.length === 0) return [{ name: null, spec: null, desired }];
  return hosts.map((spec) => ({
    name: spec.name,
    spec,
    desired: { ...desired, stacks: desired.stacks.filter((s) => targetOf(hosts, s.name)?.name === spec.name) },
  }));
}

/** `--host NAME`: just that target, or an error naming the hosts there are. */
export function selectTargets(targets: Target[], host: string | undefined): Target[] | { error: string } {
  if (host === undefined) return targets;
  const named = targets.filter((t) => t.name !== null);
  if (named.length === 0) return { error: `--host ${host}: berth.yaml has no \`hosts:\`; berth drives the one engine of DOCKER_HOST` };
  const hit = named.filter((t) => t.name === host);
  if (hit.length === 0) return { error: `--host ${host}: no such host in berth.yaml (hosts: ${named.map((t) => t.name).join(', ')})` };
  return hit;
}

/** Where a target's own state lives inside BERTH_STATE_DIR (the implicit target keeps the top level, as before hosts existed). */
export function targetStateSubdir(name: string | null): string | null {
  return name === null ? null : `hosts/${name}`;
}

/**
 * One host's part of the desired state (`berth run` drives each host with a
 * controller of its own). The same object when it already is that part, so
 * what a controller caches per desired state stays valid. A host that is no
 * longer in berth.yaml is an error, never "no stacks": that would prune it.
 */
export function targetPart(desired: DesiredState, name: string): DesiredState {
  const spec = desired.settings.hosts.find((h) => h.name === name);
  if (!spec) {
    throw new Error(
      desired.settings.hosts.length === 0
        ? `berth.yaml has no \`hosts:\` any more; host ${name} is left as it is`
        : `host ${name} is no longer in berth.yaml \`hosts:\`; it is left as it is`,
    );
  }
  const mine = desired.stacks.filter((s) => targetOf(desired.settings.hosts, s.name)?.name === name);
  return mine.length === desired.stacks.length ? desired : { ...desired, stacks: mine };
}
