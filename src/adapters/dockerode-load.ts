import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Dockerode from 'dockerode';

const requireHere = createRequire(import.meta.url);

/**
 * dockerode, with the two parts a unix-socket or TCP engine never uses loaded on first use
 * instead of up front (both are `require`d at the top of their parents, used only deep inside):
 *  - docker-modem's SSH transport (lib/ssh.js → ssh2: its poly1305 WebAssembly module and
 *    native crypto addons), for DOCKER_HOST=ssh://;
 *  - dockerode's BuildKit session (lib/session.js → @grpc/grpc-js, protobufjs), for
 *    `buildImage` with `version: "2"`, which berth does not send.
 * Loaded eagerly they were ~13 MB of the resident memory of an idle `berth run`
 * (bench/controller.ts shows the breakdown). Each stand-in is a function that loads the real
 * module on its first call and delegates to it, so an ssh:// engine works as before.
 */
export async function loadDockerode(): Promise<typeof Dockerode> {
  const main = requireHere.resolve('dockerode');
  const modem = createRequire(main).resolve('docker-modem');
  deferFunctionModule(join(dirname(modem), 'ssh.js'));
  deferFunctionModule(join(dirname(main), 'session.js'));
  return ((await import('dockerode')) as { default: typeof Dockerode }).default;
}

/** Puts a stand-in for a CommonJS module whose export is one function into the require cache. */
function deferFunctionModule(path: string): void {
  if (requireHere.cache[path]) return; // loaded already (really, or as a stand-in)
  let real: ((...args: unknown[]) => unknown) | null = null;
  const standIn = new Module(path);
  standIn.filename = path;
  standIn.loaded = true;
  standIn.exports = function deferred(this: unknown, ...args: unknown[]): unknown {
    if (!real) {
      // Drop the stand-in so the real file is read and cached as any other module.
      delete requireHere.cache[path];
      real = requireHere(path) as (...a: unknown[]) => unknown;
    }
    return real.apply(this, args);
  };
  requireHere.cache[path] = standIn;
}
