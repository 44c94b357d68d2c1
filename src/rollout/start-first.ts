import { RETIRED_SUFFIX, TEMP_SUFFIX } from '../labels.js';
import type { ServiceRecreateOp } from '../model/plan.js';
import { waitReady } from './readiness.js';
import { RolloutFailure, type RolloutContext, type RolloutReport } from './types.js';

/**
 * start-first (PRODUCT.md §8): the new container runs beside the old one
 * under `<name>_berth_tmp`, on the same networks with the same labels (so
 * Traefik's load balancer includes it once Docker reports it healthy). It
 * must become ready (health or minReadySeconds); then it joins the service's
 * DNS name and aliases, and must pass the bake gate;
 * only then is the old one drained (off its networks, so DNS and Traefik
 * stop sending it work, then `drainSeconds` for requests in flight),
 * stopped and removed, and the new one takes the canonical name.
 *
 * Until the old container is touched, any failure removes the new one and
 * nothing else: the old container keeps serving, never stopped.
 * A crash at any point leaves a state the next plan repairs: a leftover
 * `_berth_tmp` is removed, a missing canonical container is created.
 */
export async function startFirst(op: ServiceRecreateOp, ctx: RolloutContext): Promise<RolloutReport> {
  return (await startFirstSwap(op, ctx, false)).report;
}

/**
 * The same, returning the new container's id. With `keepOld` the drained old
 * container is stopped and kept as `<name>_berth_old` instead of removed, so a
 * rolling update can still bring it back (src/rollout/rolling.ts).
 */
export async function startFirstSwap(op: Pick<ServiceRecreateOp, 'service' | 'old'>, ctx: RolloutContext, keepOld: boolean): Promise<{ report: RolloutReport; newId: string }> {
  const { docker, clock, settings } = ctx;
  const spec = op.service;
  const canonical = spec.containerName;
  const tmpName = `${canonical}${TEMP_SUFFIX}`;
  const notes: string[] = [];

  // A leftover of an interrupted rollout holds the name (the controller planned its cleanup,
  // which may run concurrently with this op; removing an already removed container is fine).
  await docker.removeContainer(tmpName, true);
  // Without the service name and aliases at first: Docker's DNS would send clients to it before it is ready.
  const id = await docker.createContainer(spec, tmpName, ctx.labels, { aliases: false });
  try {
    await docker.startContainer(id);
    ctx.progress(`started ${tmpName} beside ${op.old.name}`);
    let ready = await waitReady(id, spec, {
      docker,
      clock,
      timeoutMs: settings.rollout.healthTimeoutSeconds * 1000,
      signal: ctx.signal,
      progress: ctx.progress,
    });
    if (spec.networkMode === null && spec.networks.length > 0) {
      // Ready: now it answers to the service's name too (Docker cannot add aliases in place, so rejoin).
      for (const n of spec.networks) {
        await docker.disconnectNetwork(n.name, id);
        await docker.connectNetwork(n.name, id, { aliases: [...n.aliases, spec.name], ipv4Address: n.ipv4Address, ipv6Address: n.ipv6Address });
      }
      ready = await docker.inspectContainer(id);
    }
    if (ctx.bake) {
      const note = await ctx.bake({ spec, container: ready, signal: ctx.signal, progress: ctx.progress });
      if (note) notes.push(note);
      // The bake watched Traefik; make sure the container itself is still up before promoting it.
      await waitReady(id, { ...spec, berth: { ...spec.berth, minReadySeconds: 0 } }, { docker, clock, timeoutMs: 0, signal: ctx.signal });
    }
  } catch (e) {
    let rollbackError: string | null = null;
    await docker.removeContainer(id, true).catch((err: Error) => {
      rollbackError = `could not remove ${tmpName}: ${err.message}`;
    });
    // The old container was never touched, so it is serving as before even if the removal failed.
    throw RolloutFailure.from(e, 'start-first', true, rollbackError);
  }

  // Promote. From here on the new container serves; failures are reported, not rolled back.
  try {
    const old = await docker.inspectContainer(op.old.id);
    ctx.progress(`draining ${op.old.name} for ${settings.rollout.drainSeconds}s`);
    for (const network of old.networks) await docker.disconnectNetwork(network, op.old.id);
    if (old.networks.length > 0 && old.running) await clock.sleep(settings.rollout.drainSeconds * 1000, ctx.signal);
    await docker.stopContainer(op.old.id);
    if (keepOld) await docker.renameContainer(op.old.id, `${canonical}${RETIRED_SUFFIX}`);
    else await docker.removeContainer(op.old.id, true);
  } catch (e) {
    if (!/no such container/i.test((e as Error).message)) {
      throw RolloutFailure.from(new Error(`${spec.stack}/${spec.name}: new container is serving, but retiring ${op.old.name} failed: ${(e as Error).message}`), 'start-first', false, null);
    }
  }
  await docker.renameContainer(id, canonical);
  return { report: { strategy: 'start-first', result: 'succeeded', notes }, newId: id };
}
