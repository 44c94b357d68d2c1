import type { DesiredStack, TargetSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { YamlSource } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `*` and `?` as in a shell glob, anchored; everything else literal. */
export function stackPattern(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * berth.yaml `hosts:` (already schema-checked) → targets, and the rule that
 * makes several hosts safe: every stack runs on exactly one target. A stack no
 * target lists would silently never deploy; a stack two targets list would run
 * twice. Both are errors located at the entries that cause them.
 */
export function normalizeHosts(source: YamlSource, hosts: unknown, stackNames: string[], out: Diagnostic[]): TargetSpec[] {
  if (!isObj(hosts)) return [];
  const targets: TargetSpec[] = [];
  for (const [name, raw] of Object.entries(hosts)) {
    if (!isObj(raw)) continue;
    const tls = isObj(raw.tls) ? { ca: String(raw.tls.ca), cert: String(raw.tls.cert), key: String(raw.tls.key) } : null;
    const docker = String(raw.docker);
    if (tls && !docker.startsWith('tcp://')) {
      out.push(source.diag('host-tls', ['hosts', name, 'tls'], `host "${name}": \`tls\` applies to tcp:// endpoints only, not ${docker.split('://')[0]}://`));
    }
    const mode = raw.mode === 'swarm' ? 'swarm' : 'engine';
    const stacks = Array.isArray(raw.stacks) ? raw.stacks.map(String) : [];
    stacks.forEach((glob, i) => {
      if (!stackNames.some((s) => stackPattern(glob).test(s))) {
        out.push(source.diag('host-stack-unknown', ['hosts', name, 'stacks', i], `host "${name}" lists "${glob}", which matches no stack in stacks/`, { severity: 'warning' }));
      }
    });
    targets.push({ name, docker, tls, mode, stacks });
  }
  for (const stack of stackNames) {
    const on = targets.filter((t) => t.stacks.some((g) => stackPattern(g).test(stack)));
    if (on.length === 0) {
      out.push(source.diag('stack-without-host', ['hosts'], `stack "${stack}" is on no host: with \`hosts:\` set, every stack must be listed by exactly one host`, { key: true }));
    } else if (on.length > 1) {
      for (const t of on.slice(1)) {
        const i = t.stacks.findIndex((g) => stackPattern(g).test(stack));
        out.push(source.diag('stack-on-two-hosts', ['hosts', t.name, 'stacks', i], `stack "${stack}" is listed by host "${on[0]!.name}" and by host "${t.name}"; a stack runs on exactly one host`));
      }
    }
  }
  return targets;
}

/** The target a stack runs on (the first that lists it; validation makes it the only one). */
export function targetOf(targets: TargetSpec[], stack: string): TargetSpec | undefined {
  return targets.find((t) => t.stacks.some((g) => stackPattern(g).test(stack)));
}

/**
 * An `external: true` network or volume is looked up on the engine the stack
 * runs on. When another stack of the repo defines it, that stack must run on
 * the same target — a network on another host cannot be joined.
 */
export function crossTargetReferenceDiagnostics(stacks: { stack: DesiredStack; source: YamlSource }[], targets: TargetSpec[]): Diagnostic[] {
  if (targets.length === 0) return [];
  const out: Diagnostic[] = [];
  for (const kind of ['networks', 'volumes'] as const) {
    const definedBy = new Map<string, string>();
    for (const { stack } of stacks) for (const o of stack[kind]) if (!o.external) definedBy.set(o.name, stack.name);
    for (const { stack, source } of stacks) {
      const here = targetOf(targets, stack.name);
      for (const o of stack[kind]) {
        const owner = o.external ? definedBy.get(o.name) : undefined;
        if (!owner || !here) continue;
        const there = targetOf(targets, owner);
        if (there && there.name !== here.name) {
          out.push(
            source.diag(
              'external-on-other-host',
              [kind, o.key],
              `external ${kind.slice(0, -1)} "${o.name}" is defined by stack "${owner}" on host "${there.name}", but stack "${stack.name}" runs on host "${here.name}"; both stacks must be on the same host`,
              { key: true },
            ),
          );
        }
      }
    }
  }
  return out;
}
