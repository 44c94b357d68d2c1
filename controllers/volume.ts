import { canonicalJson } from '../src/compose/hash.js';
import { isManaged } from '../src/labels.js';
import type { AppliedRecord } from '../src/model/applied.js';
import type { DesiredState, VolumeSpec } from '../src/model/desired.js';
import type { LiveState } from '../src/model/live.js';
import type { PlanError, VolumeCreateOp } from '../src/model/plan.js';
import { controllerContext, emptyResult, type ControllerContext, type ControllerResult } from './context.js';

/**
 * Volumes (PRODUCT.md §2 wave 2): create what is missing, refuse a name taken
 * by an unmanaged volume, require `external: true` references to resolve.
 * berth never removes or recreates a volume — there is no op for it — so a
 * managed volume whose driver or options changed in git only gets a warning.
 */
export function planVolumes(
  desired: DesiredState,
  live: LiveState,
  applied: AppliedRecord | null,
  ctx: ControllerContext = controllerContext(desired, live, applied),
): ControllerResult {
  const out = emptyResult();
  const externalChecked = new Set<string>();
  for (const stack of ctx.stacks) {
    for (const vol of stack.volumes) {
      if (vol.external) {
        const key = `${stack.name}\0${vol.name}`;
        if (externalChecked.has(key)) continue;
        externalChecked.add(key);
        if (!ctx.volumes.has(vol.name) && !ctx.definedVolumes.has(vol.name)) {
          out.errors.push(
            error('volume-external-missing', vol, `external volume ${vol.name} does not exist on the host and no stack in the repository defines it; create it (docker volume create ${vol.name}) or define it in a stack`),
          );
        }
        continue;
      }
      const definer = ctx.definedVolumes.get(vol.name);
      if (definer !== vol) {
        out.errors.push(
          error('volume-duplicate', vol, `volume ${vol.name} is also defined by stack "${definer?.stack ?? '?'}"; define it in one stack and reference it with \`external: true\` in the others`),
        );
        continue;
      }
      const liveVol = ctx.volumes.get(vol.name);
      if (!liveVol) {
        const op: VolumeCreateOp = {
          kind: 'volume.create',
          id: `volume:${vol.name}`,
          wave: 'volumes',
          action: 'create',
          stack: vol.stack,
          object: vol.name,
          reasons: ['missing'],
          after: [],
          volume: vol,
        };
        out.ops.push(op);
        continue;
      }
      if (!isManaged(liveVol.labels)) {
        out.errors.push(
          error('volume-unmanaged', vol, `volume ${vol.name} exists but is not managed by berth; declare it \`external: true\` to use it as it is`),
        );
        continue;
      }
      if (liveVol.driver !== vol.driver) {
        out.warnings.push(
          `volume ${vol.name}: driver ${liveVol.driver} on the host, ${vol.driver} in the repository; berth never recreates a volume (move the data and remove the volume by hand to change it)`,
        );
      }
      // Docker's volume list has no options; the last applied spec says what they were.
      const before = ctx.applied?.volumes.get(vol.name);
      if (before && canonicalJson(before.driverOpts) !== canonicalJson(vol.driverOpts)) {
        const keys = [...new Set([...Object.keys(before.driverOpts), ...Object.keys(vol.driverOpts)])]
          .filter((k) => before.driverOpts[k] !== vol.driverOpts[k])
          .sort();
        out.warnings.push(
          `volume ${vol.name}: driver_opts changed (${keys.join(', ')}); berth never recreates a volume (move the data and remove the volume by hand to change it)`,
        );
      }
    }
  }
  return out;
}

function error(code: string, vol: VolumeSpec, message: string): PlanError {
  return { code, stack: vol.stack, object: vol.name, message };
}
