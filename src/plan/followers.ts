import { cmp, normalizeImageRef, serviceKey, type ControllerContext } from '../../controllers/context.js';
import { decideImage } from '../../controllers/image.js';
import { secretSafe } from '../../controllers/service.js';
import { serviceOf } from '../compose/service-refs.js';
import { isManaged } from '../labels.js';
import type { ServiceSpec } from '../model/desired.js';
import { replicaCount, replicaSpec } from '../model/replicas.js';
import type { Op, ServiceRecreateOp, ServiceStartOp } from '../model/plan.js';

type Replacing = Extract<Op, { kind: 'service.create' | 'service.recreate' | 'service.rolling' }>;

/**
 * What Compose does to the dependents of a service whose container is
 * replaced (created anew or recreated), which no controller sees alone:
 *
 *  - a service that shares X's network, IPC or PID namespace
 *    (`service:X`) joined the old container's namespace, which goes away
 *    with it: it is recreated, after X;
 *  - a service with `depends_on: {X: {restart: true}}` is restarted after X.
 *
 * Only services that have no change of their own are added (a service
 * already created or recreated joins the new X anyway: its implicit
 * depends_on orders it after X). Followers of followers follow too.
 */
export function followReplacedDependencies(ops: Op[], ctx: ControllerContext): Op[] {
  const byKey = new Map<string, Op>();
  for (const op of ops) {
    if (op.kind === 'service.create' || op.kind === 'service.recreate' || op.kind === 'service.rolling' || op.kind === 'service.start' || op.kind === 'service.connect') {
      byKey.set(serviceKey(op.stack, op.service.name), op);
    }
  }
  const replaced: Replacing[] = ops.filter((o): o is Replacing => o.kind === 'service.create' || o.kind === 'service.recreate' || o.kind === 'service.rolling');
  const result = new Map(ops.map((o) => [o.id, o]));
  for (let i = 0; i < replaced.length; i++) {
    const x = replaced[i]!;
    const how = x.kind === 'service.create' ? 'created' : 'replaced';
    const stack = ctx.stacks.find((s) => s.name === x.stack);
    for (const s of stack?.services ?? []) {
      if (s.name === x.service.name) continue;
      const own = byKey.get(serviceKey(s.stack, s.name));
      if (own && own.kind !== 'service.start' && own.kind !== 'service.connect') continue;
      const ns = sharedNamespace(s, x.service.name);
      const restarts = ns === null && s.dependsOn.some((d) => d.service === x.service.name && d.restart);
      if (ns === null && !restarts) continue;
      // Every replica of a scaled dependent follows, each under the op id the replicas controller gives it.
      const n = replicaCount(s);
      for (let k = 1; k <= n; k++) {
        const spec = replicaSpec(s, k);
        const id = n > 1 ? `service:${s.stack}/${s.name}#${k}` : `service:${s.stack}/${s.name}`;
        const object = n > 1 ? `${s.stack}/${s.name}#${k}` : `${s.stack}/${s.name}`;
        const mine = result.get(id);
        if (mine?.kind === 'service.start' && mine.restart) continue;
        const live = ctx.containers.get(spec.containerName);
        if (!live || !isManaged(live.labels)) continue;
        const wave = s.berth.tier === 'database' ? 'databases' : 'apps';
        if (ns !== null) {
          // The image as the service controller would decide it (pins kept); pulled in the prepare phase.
          const image = decideImage(spec, ctx.imageIndex, ctx.images.has(normalizeImageRef(spec.image)), ctx.imageInputs, live).image;
          const op: ServiceRecreateOp = {
            kind: 'service.recreate',
            id,
            wave,
            action: 'recreate',
            stack: s.stack,
            object,
            reasons: [`${ns} service:${x.service.name}: ${x.service.name} is ${how}, and this container joined the old one's namespace`],
            after: [],
            service: secretSafe(spec),
            pull: image.pullRef !== null,
            image,
            old: { id: live.id, name: live.name },
            strategy: 'recreate',
          };
          if (mine) result.delete(mine.id);
          result.set(op.id, op);
          byKey.set(serviceKey(s.stack, s.name), op);
          replaced.push(op);
          continue;
        }
        if (mine || live.state !== 'running') continue;
        const op: ServiceStartOp = {
          kind: 'service.start',
          id,
          wave,
          action: 'start',
          stack: s.stack,
          object,
          reasons: [`restart: depends on ${x.service.name} with \`restart: true\`, and ${x.service.name} is ${how}`],
          after: [],
          service: secretSafe(spec),
          containerId: live.id,
          restart: true,
        };
        result.set(op.id, op);
      }
    }
  }
  return [...result.values()].sort((a, b) => cmp(a.id, b.id));
}

function sharedNamespace(s: ServiceSpec, target: string): string | null {
  if (serviceOf(s.networkMode) === target) return 'network_mode';
  if (serviceOf(s.ipcMode) === target) return 'ipc';
  if (serviceOf(s.pidMode) === target) return 'pid';
  return null;
}
