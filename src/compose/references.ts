import type { DesiredStack } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { YamlSource } from './yaml-source.js';

/**
 * Checks that need more than one service or more than one stack: depends_on
 * targets and cycles, container names, networks and volumes defined twice,
 * and `external: true` references the repo cannot resolve (the host may still
 * have them; `plan` checks the host).
 */
export function referenceDiagnostics(stacks: { stack: DesiredStack; source: YamlSource }[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { stack, source } of stacks) {
    const names = new Set([...stack.services.map((s) => s.name), ...stack.inactive]);
    for (const svc of stack.services) {
      for (const d of svc.dependsOn) {
        if (!names.has(d.service) && d.required) {
          out.push(
            source.diag('depends-on-unknown', ['services', svc.name, 'depends_on'], `service "${svc.name}" depends on "${d.service}", which is not a service of stack "${stack.name}"`, { key: true }),
          );
        }
      }
    }
    for (const cycle of findCycles(stack)) {
      out.push(
        source.diag('depends-on-cycle', ['services', cycle[0]!, 'depends_on'], `depends_on cycle: ${[...cycle, cycle[0]].join(' → ')}`, { key: true }),
      );
    }
  }

  // Container names are global on a host.
  const owners = new Map<string, { stack: string; service: string; source: YamlSource }>();
  for (const { stack, source } of stacks) {
    for (const svc of stack.services) {
      const prev = owners.get(svc.containerName);
      if (prev) {
        out.push(
          source.diag('duplicate-container-name', ['services', svc.name, 'container_name'], `container name "${svc.containerName}" is also used by service "${prev.service}" of stack "${prev.stack}" (${prev.source.file})`, { key: true }),
        );
      } else owners.set(svc.containerName, { stack: stack.name, service: svc.name, source });
    }
  }

  for (const kind of ['networks', 'volumes'] as const) {
    const definedBy = new Map<string, { stack: string; key: string; source: YamlSource }>();
    for (const { stack, source } of stacks) {
      for (const obj of stack[kind]) {
        if (obj.external) continue;
        const prev = definedBy.get(obj.name);
        if (prev) {
          out.push(
            source.diag(`duplicate-${kind.slice(0, -1)}`, [kind, obj.key], `${kind.slice(0, -1)} "${obj.name}" is also defined by stack "${prev.stack}" (${prev.source.file}); define it in one stack and reference it with \`external: true\` in the others`, { key: true }),
          );
        } else definedBy.set(obj.name, { stack: stack.name, key: obj.key, source });
      }
    }
    for (const { stack, source } of stacks) {
      for (const obj of stack[kind]) {
        if (!obj.external || definedBy.has(obj.name)) continue;
        out.push(
          source.diag('external-unresolved', [kind, obj.key], `external ${kind.slice(0, -1)} "${obj.name}" is not defined by any stack in this repository; it must already exist on the host (plan checks)`, { key: true, severity: 'warning' }),
        );
      }
    }
  }
  return out;
}

/** Each elementary cycle once, starting at its smallest name, in a stable order. */
export function findCycles(stack: Pick<DesiredStack, 'services'>): string[][] {
  const edges = new Map(stack.services.map((s) => [s.name, s.dependsOn.map((d) => d.service)]));
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  const pathStack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'visiting');
    pathStack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (!edges.has(m)) continue;
      if (state.get(m) === 'visiting') {
        const cyc = pathStack.slice(pathStack.indexOf(m));
        const min = cyc.reduce((a, b) => (b < a ? b : a));
        const rotated = [...cyc.slice(cyc.indexOf(min)), ...cyc.slice(0, cyc.indexOf(min))];
        cycles.set(rotated.join('\0'), rotated);
      } else if (!state.has(m)) visit(m);
    }
    pathStack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return [...cycles.values()].sort((a, b) => (a.join() < b.join() ? -1 : 1));
}
