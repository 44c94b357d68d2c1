import { LABEL, isManaged } from '../src/labels.js';
import type { AppliedRecord } from '../src/model/applied.js';
import type { DesiredState, NetworkSpec } from '../src/model/desired.js';
import type { LiveNetwork, LiveState } from '../src/model/live.js';
import type { NetworkCreateOp, NetworkRecreateOp, NetworkRemoveOp, PlanError } from '../src/model/plan.js';
import {
  controllerContext,
  describeContainer,
  emptyResult,
  notInInventory,
  pruneEnabled,
  type ControllerContext,
  type ControllerResult,
} from './context.js';

/**
 * Networks (PRODUCT.md §2 wave 1, §3 ownership):
 * - a network the repo defines and the host lacks is created;
 * - a name taken by an unmanaged network is an error (berth never touches it);
 * - a managed network whose immutable settings changed is recreated, unless
 *   an unmanaged container is attached (error: berth would cut it off);
 * - an `external: true` reference must exist on the host or be defined by a stack;
 * - with prune, a managed network no stack wants any more is removed.
 */
export function planNetworks(
  desired: DesiredState,
  live: LiveState,
  applied: AppliedRecord | null,
  ctx: ControllerContext = controllerContext(desired, live, applied),
): ControllerResult {
  const out = emptyResult();
  const externalChecked = new Set<string>();

  for (const stack of ctx.stacks) {
    for (const net of stack.networks) {
      if (net.external) {
        if (externalChecked.has(`${stack.name}\0${net.name}`)) continue;
        externalChecked.add(`${stack.name}\0${net.name}`);
        if (!ctx.networks.has(net.name) && !ctx.definedNetworks.has(net.name)) {
          out.errors.push(
            error('network-external-missing', net, `external network ${net.name} does not exist on the host and no stack in the repository defines it; create it (docker network create ${net.name}) or define it in a stack`),
          );
        }
        continue;
      }
      const definer = ctx.definedNetworks.get(net.name);
      if (definer !== net) {
        out.errors.push(
          error('network-duplicate', net, `network ${net.name} is also defined by stack "${definer?.stack ?? '?'}"; define it in one stack and reference it with \`external: true\` in the others`),
        );
        continue;
      }
      planDefinedNetwork(net, ctx, out);
    }
  }

  planNetworkPrune(ctx, out);
  return out;
}

function planDefinedNetwork(net: NetworkSpec, ctx: ControllerContext, out: ControllerResult): void {
  const same = ctx.duplicateNetworks.get(net.name);
  if (same) {
    out.warnings.push(`network ${net.name}: the host has ${same.length} networks with this name (ids ${same.map((n) => n.id.slice(0, 12)).join(', ')}); berth uses ${ctx.networks.get(net.name)!.id.slice(0, 12)}`);
  }
  const liveNet = ctx.networks.get(net.name);
  if (!liveNet) {
    const op: NetworkCreateOp = {
      kind: 'network.create',
      id: `network:${net.name}`,
      wave: 'networks',
      action: 'create',
      stack: net.stack,
      object: net.name,
      reasons: ['missing'],
      after: [],
      network: net,
    };
    out.ops.push(op);
    return;
  }
  if (!isManaged(liveNet.labels)) {
    out.errors.push(
      error('network-unmanaged', net, `network ${net.name} exists but is not managed by berth; remove it or declare it \`external: true\``),
    );
    return;
  }
  const reasons = immutableDifferences(net, liveNet);
  if (reasons.length === 0) return;
  const attached = ctx.attached.get(net.name) ?? [];
  const foreign = attached.filter((c) => !isManaged(c.labels));
  if (foreign.length > 0) {
    out.errors.push(
      error(
        'network-recreate-blocked',
        net,
        `network ${net.name} must be recreated (${reasons.join('; ')}) but containers not managed by berth are attached: ${foreign.map(describeContainer).join(', ')}; disconnect them (docker network disconnect ${net.name} <container>) and plan again`,
      ),
    );
    return;
  }
  const op: NetworkRecreateOp = {
    kind: 'network.recreate',
    id: `network:${net.name}`,
    wave: 'networks',
    action: 'recreate',
    stack: net.stack,
    object: net.name,
    reasons,
    after: [],
    network: net,
    liveId: liveNet.id,
    attached: attached.map((c) => c.name),
  };
  out.ops.push(op);
}

/** The settings Docker cannot change on an existing network, as reasons. */
export function immutableDifferences(net: NetworkSpec, liveNet: LiveNetwork): string[] {
  const reasons: string[] = [];
  if (net.driver !== liveNet.driver) reasons.push(`driver ${liveNet.driver} → ${net.driver}`);
  if (net.internal !== liveNet.internal) reasons.push(`internal ${liveNet.internal} → ${net.internal}`);
  if (net.attachable !== liveNet.attachable) reasons.push(`attachable ${liveNet.attachable} → ${net.attachable}`);
  if (net.enableIpv6 !== liveNet.enableIpv6) reasons.push(`enable_ipv6 ${liveNet.enableIpv6} → ${net.enableIpv6}`);
  // Without an ipam config Docker picks the subnet itself: nothing to compare.
  const wantedConfig = net.ipam?.config ?? [];
  if (wantedConfig.length > 0) {
    const wantSubnets = uniqSorted(wantedConfig.map((c) => c.subnet).filter(isString));
    const haveSubnets = uniqSorted(liveNet.ipam.config.map((c) => c.subnet).filter(isString));
    if (wantSubnets.length > 0 && wantSubnets.join() !== haveSubnets.join()) {
      reasons.push(`subnet ${list(haveSubnets)} → ${list(wantSubnets)}`);
    }
    const wantGateways = uniqSorted(wantedConfig.map((c) => c.gateway).filter(isString));
    const haveGateways = uniqSorted(liveNet.ipam.config.map((c) => c.gateway).filter(isString));
    if (wantGateways.length > 0 && wantGateways.join() !== haveGateways.join()) {
      reasons.push(`gateway ${list(haveGateways)} → ${list(wantGateways)}`);
    }
  }
  return reasons;
}

function planNetworkPrune(ctx: ControllerContext, out: ControllerResult): void {
  const seen = new Set<string>();
  for (const liveNet of ctx.networkList) {
    // One op per name (ids are unique); a second managed network of the same name goes on the next run.
    if (!isManaged(liveNet.labels) || ctx.wantedNetworks.has(liveNet.name) || seen.has(liveNet.name)) continue;
    seen.add(liveNet.name);
    const stack = liveNet.labels[LABEL.stack] ?? liveNet.labels[LABEL.composeProject] ?? '';
    if (!ctx.inventory.has(stack)) {
      out.warnings.push(notInInventory('network', liveNet.name, stack));
      continue;
    }
    const stackDesired = ctx.stacks.some((s) => s.name === stack);
    const reason = stackDesired
      ? `no longer declared by stack "${stack}"`
      : stack
        ? `stack "${stack}" is no longer in the repository`
        : 'not declared by any stack in the repository';
    if (!pruneEnabled(ctx.settings, stack)) {
      out.warnings.push(`network ${liveNet.name}: ${reason}; prune is off${stack ? ` for stack "${stack}"` : ''}, left in place`);
      continue;
    }
    const foreign = (ctx.attached.get(liveNet.name) ?? []).filter((c) => !isManaged(c.labels));
    if (foreign.length > 0) {
      out.warnings.push(`network ${liveNet.name}: ${reason}, but containers not managed by berth are attached (${foreign.map(describeContainer).join(', ')}); left in place`);
      continue;
    }
    const op: NetworkRemoveOp = {
      kind: 'network.remove',
      id: `network:${liveNet.name}`,
      wave: 'networks',
      action: 'remove',
      stack,
      object: liveNet.name,
      reasons: [reason],
      after: [],
      name: liveNet.name,
      liveId: liveNet.id,
    };
    out.ops.push(op);
  }
}

function error(code: string, net: NetworkSpec, message: string): PlanError {
  return { code, stack: net.stack, object: net.name, message };
}

function isString(v: string | undefined): v is string {
  return typeof v === 'string' && v !== '';
}

function uniqSorted(xs: string[]): string[] {
  return [...new Set(xs)].sort();
}

function list(xs: string[]): string {
  return xs.length === 0 ? 'none' : xs.join(', ');
}
