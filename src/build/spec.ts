import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BuildSpec } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { isInside } from '../compose/mounts.js';
import { parseBytes } from '../compose/units.js';
import { normalizeExtraHosts, stringMap } from '../compose/value-forms.js';
import type { PathSeg, YamlSource } from '../compose/yaml-source.js';
import { repoRelative } from '../files/uses.js';

/**
 * A service's `build:` (string or mapping) into a BuildSpec, with located
 * errors for what berth cannot build safely: a URL or out-of-repository
 * context, a Dockerfile outside the context, a link inside the context that
 * leads out of it (the build would read a host file), build secrets and more
 * than one platform (the classic builder behind `POST /build` has neither).
 */
export interface BuildInput {
  root: string;
  stackDir: string;
  source: YamlSource;
  service: string;
  def: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export function normalizeBuild(input: BuildInput, out: Diagnostic[]): BuildSpec | undefined {
  const raw = input.def.build;
  if (raw === undefined) return undefined;
  const b: Obj = typeof raw === 'string' ? { context: raw } : isObj(raw) ? raw : {};
  const at = (...p: PathSeg[]): PathSeg[] => (typeof raw === 'string' ? ['services', input.service, 'build'] : ['services', input.service, 'build', ...p]);
  const err = (path: PathSeg[], message: string, key = false) => out.push(input.source.diag('build', path, message, { key }));
  const n0 = out.length;

  const context = b.context === undefined ? '.' : str(b.context);
  const ctxAbs = resolve(input.stackDir, context);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(context) || /^[\w.-]+@[\w.-]+:/.test(context)) {
    err(at('context'), 'a URL build context is not supported: berth builds from a directory of the repository, so the commit names what is built');
  } else if (!isInside(input.root, ctxAbs)) {
    err(at('context'), `build context ${context} is outside the repository; berth builds only what the repository holds`);
  } else if (!existsSync(ctxAbs) || !statSync(ctxAbs).isDirectory()) {
    err(at('context'), `build context ${repoRelative(input.root, ctxAbs) || '.'} is not a directory of the repository`);
  } else {
    const escape = linkLeavingContext(ctxAbs);
    if (escape) err(at('context'), `${repoRelative(input.root, escape.path)} is a symbolic link to ${escape.to}, outside the build context; a build reads its context only`);
  }
  const inline = b.dockerfile_inline === undefined ? null : str(b.dockerfile_inline);
  let dockerfile: string | null = inline === null ? (b.dockerfile === undefined ? 'Dockerfile' : str(b.dockerfile)) : null;
  if (inline !== null && b.dockerfile !== undefined) err(at('dockerfile'), 'set `dockerfile` or `dockerfile_inline`, not both', true);
  if (dockerfile !== null) {
    const abs = resolve(ctxAbs, dockerfile);
    if (!isInside(ctxAbs, abs)) err(at('dockerfile'), `Dockerfile ${dockerfile} is outside the build context; a build reads its context only`);
    else if (out.length === n0 && !existsSync(abs)) err(at('dockerfile'), `Dockerfile ${repoRelative(input.root, abs)} not found`);
    dockerfile = repoRelative(ctxAbs, abs);
  }
  // Both need a BuildKit session: a gRPC server berth would run over the hijacked `POST /session`
  // connection so the daemon can call back for each secret or agent socket. The classic builder has neither.
  if (b.secrets !== undefined) err(at('secrets'), "build secrets are not supported: they need BuildKit, and berth builds through the Engine API's classic builder", true);
  if (b.ssh !== undefined) err(at('ssh'), "build ssh is not supported: forwarding an SSH agent needs BuildKit, and berth builds through the Engine API's classic builder", true);
  for (const k of ['additional_contexts', 'tags', 'ulimits', 'privileged', 'isolation', 'entitlements', 'cache_to']) {
    if (b[k] !== undefined) err(at(k), `berth does not support \`build.${k}\``, true);
  }
  const platforms = Array.isArray(b.platforms) ? b.platforms.map(str) : [];
  if (platforms.length > 1) err(at('platforms'), 'one platform only: berth builds for the engine it deploys to', true);
  const shm = b.shm_size === undefined ? null : parseBytes(b.shm_size as string | number);
  if (b.shm_size !== undefined && shm === null) err(at('shm_size'), 'invalid size: expected bytes or e.g. 64m');
  const image = input.def.image === undefined ? null : str(input.def.image);
  return {
    context: repoRelative(input.root, ctxAbs),
    dockerfile,
    dockerfileInline: inline,
    args: stringMap(b.args),
    target: b.target === undefined ? null : str(b.target),
    labels: stringMap(b.labels),
    network: b.network === undefined ? null : str(b.network),
    extraHosts: normalizeExtraHosts(b.extra_hosts),
    shmSizeBytes: shm,
    noCache: b.no_cache === true,
    pull: b.pull === true,
    cacheFrom: Array.isArray(b.cache_from) ? b.cache_from.map(str) : [],
    platform: platforms[0] ?? null,
    alsoTag: image,
    // Compose's rule: `pull_policy: missing` with an `image:` pulls first and builds only when that fails.
    pullFirst: (input.def.pull_policy === 'missing' || input.def.pull_policy === 'if_not_present') && image !== null,
    tag: null,
  };
}

/** The first symbolic link below `dir` whose target is outside it (links are checked, never followed). */
function linkLeavingContext(dir: string): { path: string; to: string } | null {
  const realDir = realpathSync(dir);
  const walk = (d: string): { path: string; to: string } | null => {
    for (const name of readdirSync(d).sort()) {
      if (name === '.git') continue;
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(p);
        } catch {
          real = resolve(d, readlinkSync(p));
        }
        if (!isInside(realDir, real)) return { path: p, to: readlinkSync(p) };
      } else if (st.isDirectory()) {
        const found = walk(p);
        if (found) return found;
      }
    }
    return null;
  };
  return walk(dir);
}
