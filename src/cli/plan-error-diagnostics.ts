import type { PathSeg, YamlSource } from '../compose/yaml-source.js';
import type { DesiredState } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import type { PlanError } from '../model/plan.js';

/**
 * The plan's errors (a name taken by an unmanaged object, an external volume
 * the host lacks) come from comparing with the host, after the files were
 * read. People fix them in the repository as often as on the host, so each
 * is pointed at the declaration it concerns: FILE:LINE:COL like every other
 * error berth reports. `sources` are the Compose files as loaded, by stack.
 */
export function planErrorDiagnostics(desired: DesiredState, sources: ReadonlyMap<string, YamlSource>, errors: PlanError[]): Diagnostic[] {
  return errors.map((e) => {
    const stack = desired.stacks.find((s) => s.name === e.stack);
    const source = sources.get(e.stack);
    if (!stack || !source) return { severity: 'error', code: e.code, file: stack?.file ?? `stacks/${e.stack}`, line: 0, col: 0, path: '', message: e.message };
    // The plan names volumes and networks by their Docker name, services by their name.
    let path: PathSeg[] = [];
    let key = true;
    if (e.path) {
      path = e.path;
    } else if (e.code.startsWith('volume-')) {
      const v = stack.volumes.find((x) => x.name === e.object);
      if (v) path = ['volumes', v.key];
    } else if (e.code.startsWith('network-')) {
      const n = stack.networks.find((x) => x.name === e.object);
      if (n) path = ['networks', n.key];
    } else {
      const svc = stack.services.find((s) => s.name === e.object);
      if (svc && e.code === 'build-failed') {
        path = ['services', svc.name, 'build'];
      } else if (svc && e.code === 'image-missing') {
        path = ['services', svc.name, 'image'];
        key = false;
      } else if (svc) {
        // A clash over the container name is about `container_name:` when the file sets one.
        const named = svc.containerName !== `${stack.name}-${svc.name}-1`;
        path = named && e.code === 'container-unmanaged' ? ['services', svc.name, 'container_name'] : ['services', svc.name];
      }
    }
    return source.diag(e.code, path, e.message, { key });
  });
}
