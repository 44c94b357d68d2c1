import type { DockerPort } from '../../src/ports/docker.js';

/** A DockerPort that records every mutating call in order (`method target`); list and inspect calls are not recorded. */
export function recordingDocker(inner: DockerPort, log: string[]): DockerPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const a = args[0] as { name?: string; containerName?: string } | string;
        const what = typeof a === 'string' ? a : (a?.containerName ?? a?.name ?? '');
        if (!String(prop).startsWith('list') && prop !== 'inspectContainer') log.push(`${String(prop)} ${what}`);
        return (v as (...x: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
