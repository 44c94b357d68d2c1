import { LABEL } from '../labels.js';
import type { DesiredState, ServiceHook, ServiceSpec } from '../model/desired.js';
import type { DockerPort, ExecOptions } from '../ports/docker.js';

/** How long one hook may run; Compose waits for it, berth bounds it so a hung hook cannot hold apply forever. */
export const HOOK_TIMEOUT_MS = 60_000;

/**
 * `post_start` and `pre_stop` hooks as Compose runs them: each command by
 * exec in the container, right after it started / right before it is
 * stopped, in order; a post_start hook that fails (non-zero exit) fails the
 * start, as in Compose. Wrapping the Docker port keeps every path that
 * starts or stops a service's container (create, both rollout strategies,
 * restarts) running the hooks without each knowing about them. A state
 * without hooks gets the port unchanged.
 */
export function withHooks(docker: DockerPort, desired: DesiredState): DockerPort {
  const byService = new Map<string, ServiceSpec>();
  for (const s of desired.stacks) for (const svc of s.services) if (svc.hooks) byService.set(`${svc.stack}/${svc.name}`, svc);
  if (byService.size === 0) return docker;

  const specOf = async (id: string): Promise<ServiceSpec | undefined> => {
    const c = await docker.inspectContainer(id);
    return byService.get(`${c.labels[LABEL.stack] ?? ''}/${c.labels[LABEL.service] ?? ''}`);
  };
  const run = async (id: string, hooks: ServiceHook[], what: string) => {
    for (const h of hooks) {
      const opts: ExecOptions = {};
      if (h.user !== undefined) opts.user = h.user;
      if (h.privileged) opts.privileged = true;
      if (h.workingDir !== undefined) opts.workingDir = h.workingDir;
      if (h.environment) opts.env = Object.entries(h.environment).map(([k, v]) => `${k}=${v}`);
      const r = await docker.exec(id, h.command, HOOK_TIMEOUT_MS, opts);
      // The command line is printed, never the hook's environment (it may carry secrets).
      if (r.exitCode !== 0) throw new Error(`${what} hook ${JSON.stringify(h.command)} exited with ${r.exitCode}`);
    }
  };
  const startContainer = async (id: string) => {
    await docker.startContainer(id);
    const spec = await specOf(id);
    if (spec?.hooks?.postStart) await run(id, spec.hooks.postStart, 'post_start');
  };
  const stopContainer = async (id: string, timeoutSeconds?: number) => {
    const spec = await specOf(id).catch(() => undefined);
    if (spec?.hooks?.preStop) {
      const c = await docker.inspectContainer(id);
      // A failing pre_stop hook does not keep the container running: Compose stops it anyway.
      if (c.running) await run(id, spec.hooks.preStop, 'pre_stop').catch(() => undefined);
    }
    await docker.stopContainer(id, timeoutSeconds);
  };
  const wrapped = new Proxy(docker, {
    get(target, prop, receiver) {
      if (prop === 'startContainer') return startContainer;
      if (prop === 'stopContainer') return stopContainer;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return wrapped;
}
