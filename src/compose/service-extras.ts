import type { ServiceSpec } from '../model/desired.js';
import type { PathSeg } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
type Err = (path: PathSeg[], code: string, message: string, key?: boolean) => void;
export type Warn = (path: PathSeg[], message: string) => void;

/** Optional ServiceSpec fields: present only when the file sets them, so specs that do not use them keep their config hash. */
export type ServiceExtras = Pick<ServiceSpec, 'macAddress' | 'platform' | 'runtime' | 'hooks'> & { restart?: string };

/**
 * Service keys beyond the core set, mapped as `docker compose` maps them to
 * the Engine API outside swarm:
 *  - `mac_address`, `runtime`, `platform` (the create call's `platform`);
 *  - `deploy.restart_policy` → the container's restart policy, when
 *    `restart` is not set (`none` → no, `on-failure` [with max_attempts],
 *    `any` → always), as Compose does;
 *  - `post_start` / `pre_stop` hooks: commands run in the container by exec
 *    after it starts / before it is stopped.
 *  - `develop` and `models` are accepted with a warning saying what berth
 *    does not do with them.
 */
export function serviceExtras(def: Obj, at: (...p: PathSeg[]) => PathSeg[], err: Err, warn: Warn): ServiceExtras {
  const x: ServiceExtras = {};
  if (def.mac_address !== undefined) {
    const mac = String(def.mac_address);
    if (!/^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(mac)) err(at('mac_address'), 'mac-address', 'not a MAC address: six hex pairs such as 02:42:ac:11:00:02');
    else x.macAddress = mac.toLowerCase().replace(/-/g, ':');
  }
  if (def.runtime !== undefined) x.runtime = String(def.runtime);
  if (def.platform !== undefined) {
    const p = String(def.platform);
    if (!/^[a-z0-9_]+\/[a-z0-9_]+(\/[a-z0-9_.]+)?$/i.test(p)) err(at('platform'), 'platform', 'platform must be OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8');
    else x.platform = p.toLowerCase();
  }
  const deploy = isObj(def.deploy) ? def.deploy : {};
  if (def.restart === undefined && isObj(deploy.restart_policy)) {
    const rp = deploy.restart_policy;
    const cond = rp.condition === undefined ? 'any' : String(rp.condition);
    if (cond === 'none') x.restart = 'no';
    else if (cond === 'any') x.restart = 'always';
    else if (cond === 'on-failure') x.restart = rp.max_attempts !== undefined ? `on-failure:${Number(rp.max_attempts)}` : 'on-failure';
    else err(at('deploy', 'restart_policy', 'condition'), 'restart', 'condition must be none, on-failure or any');
    for (const k of ['delay', 'window'] as const) {
      if (rp[k] !== undefined) warn(at('deploy', 'restart_policy', k), `\`deploy.restart_policy.${k}\` applies to swarm services; outside swarm the engine's own restart backoff applies (as with docker compose)`);
    }
  }
  const hooks: NonNullable<ServiceSpec['hooks']> = {};
  for (const [key, field] of [['post_start', 'postStart'], ['pre_stop', 'preStop']] as const) {
    const list = def[key];
    if (!Array.isArray(list)) continue;
    const parsed = list.filter(isObj).map((h, i) => hook(h, at(key, i), err));
    const ok = parsed.filter((h): h is NonNullable<typeof h> => h !== null);
    if (ok.length > 0) hooks[field] = ok;
  }
  if (hooks.postStart || hooks.preStop) x.hooks = hooks;
  if (def.develop !== undefined) warn(at('develop'), '`develop` (watch: sync/rebuild on file changes) is a development feature; berth deploys from git and ignores it');
  if (def.models !== undefined) warn(at('models'), '`models` (AI models served by Docker Model Runner) are not provisioned by berth; the service runs without them');
  return x;
}

function hook(h: Obj, path: PathSeg[], err: Err): NonNullable<NonNullable<ServiceSpec['hooks']>['postStart']>[number] | null {
  const cmd = h.command;
  const command = Array.isArray(cmd) ? cmd.map(String) : typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : null;
  if (command === null || command.length === 0) {
    err([...path, 'command'], 'hook', 'a hook needs a `command`');
    return null;
  }
  const out: { command: string[]; user?: string; privileged?: boolean; workingDir?: string; environment?: Record<string, string> } = { command };
  if (h.user !== undefined) out.user = String(h.user);
  if (h.privileged === true) out.privileged = true;
  if (h.working_dir !== undefined) out.workingDir = String(h.working_dir);
  if (h.environment !== undefined) {
    const env: Record<string, string> = {};
    if (Array.isArray(h.environment)) for (const e of h.environment.map(String)) env[e.split('=')[0]!] = e.includes('=') ? e.slice(e.indexOf('=') + 1) : '';
    else if (isObj(h.environment)) for (const [k, v] of Object.entries(h.environment)) env[k] = v === null ? '' : String(v);
    out.environment = env;
  }
  return out;
}
