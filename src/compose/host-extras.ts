import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { HostExtras } from '../model/desired.js';
import type { Diagnostic } from '../model/errors.js';
import { parseDotenv } from './dotenv.js';
import type { StackInput } from './normalize.js';
import { stringMap } from './value-forms.js';
import { readRepoText } from './secret-files.js';
import { parseBytes } from './units.js';
import type { PathSeg } from './yaml-source.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
type Err = (path: PathSeg[], code: string, message: string, key?: boolean) => void;
type Warn = (path: PathSeg[], message: string) => void;

/**
 * Service keys that map one to one onto the container's HostConfig, as
 * `docker compose` (outside swarm) sends them: `gpus` and
 * `deploy.resources.reservations.devices` (DeviceRequests), `storage_opt`,
 * `userns_mode`, `cgroup` (CgroupnsMode), `cgroup_parent`, `uts`,
 * `isolation`, `blkio_config`, `device_cgroup_rules`, `annotations` (API
 * 1.43: the plan checks the engine). Present in the spec only when the file
 * sets one, so other specs keep their config hash. `attach` and
 * `deploy.labels` change nothing about a container outside swarm (as with
 * `docker compose up -d`): accepted with a warning that says so.
 */
export function hostExtras(def: Obj, at: (...p: PathSeg[]) => PathSeg[], err: Err, warn: Warn): { host?: HostExtras } {
  const h: HostExtras = {};
  const requests = [...gpuRequests(def.gpus, at, err), ...reservationRequests(def.deploy, at, err)];
  if (requests.length > 0) h.deviceRequests = requests;
  if (isObj(def.storage_opt)) h.storageOpt = Object.fromEntries(Object.entries(def.storage_opt).map(([k, v]) => [k, str(v)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
  if (def.userns_mode !== undefined) h.usernsMode = str(def.userns_mode);
  if (def.cgroup !== undefined) h.cgroupnsMode = str(def.cgroup);
  if (def.cgroup_parent !== undefined) h.cgroupParent = str(def.cgroup_parent);
  if (def.uts !== undefined) h.utsMode = str(def.uts);
  if (def.isolation !== undefined) h.isolation = str(def.isolation);
  if (Array.isArray(def.device_cgroup_rules)) h.deviceCgroupRules = def.device_cgroup_rules.map(str);
  if (def.annotations !== undefined) h.annotations = stringMap(def.annotations);
  if (isObj(def.blkio_config)) {
    const b = blkio(def.blkio_config, at, err);
    if (b) h.blkio = b;
  }
  if (def.attach !== undefined) warn(at('attach'), '`attach` chooses whose logs `docker compose up` shows in the foreground; berth never attaches, so it changes nothing');
  if (isObj(def.deploy) && def.deploy.labels !== undefined) {
    warn(at('deploy', 'labels'), '`deploy.labels` label a swarm service, not its containers; outside swarm (docker compose, berth) they set nothing: use `labels:` for container labels');
  }
  return Object.keys(h).length > 0 ? { host: h } : {};
}

type DeviceRequest = NonNullable<HostExtras['deviceRequests']>[number];

/** `gpus: all` or a list of `{driver, count, device_ids, capabilities, options}`: GPU requests, as `docker run --gpus`. */
function gpuRequests(v: unknown, at: (...p: PathSeg[]) => PathSeg[], err: Err): DeviceRequest[] {
  if (v === undefined) return [];
  if (v === 'all') return [{ driver: '', count: -1, deviceIds: [], capabilities: [['gpu']], options: {} }];
  if (!Array.isArray(v)) {
    err(at('gpus'), 'gpus', '`gpus` is `all` or a list of device requests');
    return [];
  }
  return v.filter(isObj).map((d, i) => deviceRequest(d, at('gpus', i), err, ['gpu']));
}

function reservationRequests(deploy: unknown, at: (...p: PathSeg[]) => PathSeg[], err: Err): DeviceRequest[] {
  const devices = isObj(deploy) && isObj(deploy.resources) && isObj(deploy.resources.reservations) ? deploy.resources.reservations.devices : undefined;
  if (!Array.isArray(devices)) return [];
  return devices.filter(isObj).map((d, i) => deviceRequest(d, at('deploy', 'resources', 'reservations', 'devices', i), err, null));
}

function deviceRequest(d: Obj, path: PathSeg[], err: Err, defaultCaps: string[] | null): DeviceRequest {
  const ids = Array.isArray(d.device_ids) ? d.device_ids.map(str) : [];
  let count = ids.length > 0 ? 0 : -1; // Compose: no count and no ids means all devices
  if (d.count !== undefined) {
    if (d.count === 'all') count = -1;
    else if (Number.isSafeInteger(Number(d.count))) count = Number(d.count);
    else err([...path, 'count'], 'device-request', '`count` is a number or `all`');
  }
  if (d.count !== undefined && ids.length > 0) err([...path, 'device_ids'], 'device-request', '`count` and `device_ids` cannot be used together');
  const caps = Array.isArray(d.capabilities) ? d.capabilities.map(str) : defaultCaps;
  if (!caps || caps.length === 0) err(path, 'device-request', 'a device reservation needs `capabilities` (for example [gpu])');
  return { driver: str(d.driver), count, deviceIds: ids, capabilities: caps && caps.length > 0 ? [caps] : [], options: stringMap(d.options) };
}

function blkio(b: Obj, at: (...p: PathSeg[]) => PathSeg[], err: Err): HostExtras['blkio'] | null {
  const out: NonNullable<HostExtras['blkio']> = {};
  if (b.weight !== undefined) out.weight = Number(b.weight);
  if (Array.isArray(b.weight_device)) out.weightDevice = b.weight_device.filter(isObj).map((d) => ({ path: str(d.path), weight: Number(d.weight) }));
  for (const [key, field, bytes] of [
    ['device_read_bps', 'deviceReadBps', true],
    ['device_write_bps', 'deviceWriteBps', true],
    ['device_read_iops', 'deviceReadIOps', false],
    ['device_write_iops', 'deviceWriteIOps', false],
  ] as const) {
    const list = b[key];
    if (!Array.isArray(list)) continue;
    const rates: { path: string; rate: number }[] = [];
    list.forEach((d, i) => {
      if (!isObj(d)) return;
      const rate = bytes ? parseBytes(d.rate as string | number) : Number(d.rate);
      if (rate === null || !Number.isFinite(rate)) err(at('blkio_config', key, i, 'rate'), 'blkio', bytes ? 'a rate is a byte size such as 10mb' : 'a rate is a number of operations per second');
      else rates.push({ path: str(d.path), rate });
    });
    out[field] = rates;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** Long-form `devices` entries (`{source, target, permissions}`) in the short form the rest of berth reads. */
export function deviceStrings(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((d) => (isObj(d) ? `${str(d.source)}:${str(d.target ?? d.source)}:${str(d.permissions ?? 'rwm')}` : str(d)));
}

/**
 * `label_file`: labels read from files (KEY=VALUE lines, as env_files),
 * in order, later files winning; the service's `labels:` win over them, as
 * in Compose. A missing file is a located error.
 */
export function labelFileLabels(input: StackInput, name: string, def: Obj, out: Diagnostic[]): Record<string, string> {
  const files = def.label_file === undefined ? [] : Array.isArray(def.label_file) ? def.label_file : [def.label_file];
  const labels: Record<string, string> = {};
  files.forEach((f, i) => {
    const loc: PathSeg[] = Array.isArray(def.label_file) ? ['services', name, 'label_file', i] : ['services', name, 'label_file'];
    const abs = resolve(input.stackDir, str(f));
    const rel = relative(input.root, abs).split('\\').join('/');
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      out.push(input.source.diag('label-file', loc, `label_file "${str(f)}" not found (${rel})`));
      return;
    }
    const read = readRepoText(input.secrets, abs, rel);
    if ('error' in read) {
      out.push(read.error);
      return;
    }
    const parsed = parseDotenv(read.text, () => undefined, false);
    for (const e of parsed.errors) out.push({ severity: 'error', code: 'label-file', file: rel, line: e.line, col: e.col, path: '', message: e.message });
    Object.assign(labels, parsed.values);
  });
  return labels;
}
