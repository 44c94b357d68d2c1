import { existsSync, realpathSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type {
  DependsCondition,
  DependsOn,
  DesiredStack,
  HealthcheckSpec,
  IpamSpec,
  MountSpec,
  NetworkSpec,
  PortSpec,
  ResourcesSpec,
  ServiceNetwork,
  ServiceSpec,
  Ulimit,
  VolumeSpec,
} from '../model/desired.js';
import { formatPath, type Diagnostic } from '../model/errors.js';
import { isValidContainerName, isValidImageReference, isValidLocalVolumeName, isValidRestartPolicy } from './docker-rules.js';
import { parseDotenv } from './dotenv.js';
import { parseRawEnv } from './env-raw.js';
import { configHash } from './hash.js';
import { normalizeReplicaFields } from './replicas.js';
import { swarmDeploy } from './swarm-deploy.js';
import type { Lookup } from './interpolate.js';
import { compareMounts, isInside, parseMountLong, parseMountShort, parseTmpfs, type MountContext } from './mounts.js';
import { comparePorts, parseExpose, parsePortLong, parsePortShort } from './ports.js';
import { normalizePullPolicy } from './pull-policy.js';
import { serviceExtras } from './service-extras.js';
import { deviceStrings, hostExtras, labelFileLabels } from './host-extras.js';
import { linkServices } from './service-refs.js';
import { shellSplit } from './shell-split.js';
import { healthGated, inferTier } from './tier.js';
import { serviceFileUses } from '../files/uses.js';
import { normalizeBuild } from '../build/spec.js';
import { normalizeExtraHosts, stringMap } from './value-forms.js';
import { parseBytes, parseDurationNs, parseNanoCpus } from './units.js';
import { type PathSeg, type YamlSource } from './yaml-source.js';
import { decryptedBindMount, readRepoText, secretMountSource } from './secret-files.js';
import { inlineFileMount } from './inline-secrets.js';
import { imagePolicyProblems } from '../images/policy-diagnostics.js';
import type { RepoSecrets } from '../secrets/repo-secrets.js';
import { referencePerms } from './secret-perms.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

export interface StackInput {
  stack: string;
  /** Absolute directory of the stack (relative paths resolve here). */
  stackDir: string;
  /** Absolute repository root (for file names in diagnostics). */
  root: string;
  source: YamlSource;
  /** Interpolation lookup: process env first, then the stack's `.env`. */
  lookup: Lookup;
  /** Paths (within `services`) whose subtree has schema errors: those services are not normalized. */
  invalidServices: Set<string>;
  invalidTopLevel: Set<'networks' | 'volumes'>;
  /** Decrypts SOPS files (env_file, secrets:/configs: files) as they are read. */
  secrets?: RepoSecrets;
  /** The variables of the include that brought a `secrets:`/`configs:` declaration (its `environment:` reads them); absent: `lookup`. */
  declLookup?: (section: 'secrets' | 'configs', name: string) => Lookup | undefined;
  /** The stack runs on a `mode: swarm` host: swarm-only `deploy:` keys are read (src/compose/swarm-deploy.ts). */
  swarm?: boolean;
}

/**
 * Turn one validated Compose file into the canonical stack model. Semantic
 * errors (undefined volume, bad port string, missing env_file) become located
 * diagnostics; the stack is still returned so other checks can run.
 */
export function normalizeStack(input: StackInput, out: Diagnostic[]): DesiredStack {
  const { stack, source } = input;
  const root = (isObj(source.value) ? source.value : {}) as Obj;
  const networks = input.invalidTopLevel.has('networks') ? [] : normalizeNetworks(stack, root.networks);
  const volumes = input.invalidTopLevel.has('volumes') ? [] : normalizeVolumes(stack, root.volumes);
  const services: ServiceSpec[] = [];
  const servicesObj = isObj(root.services) ? root.services : {};

  // The implicit `default` network exists only when a service uses it: by
  // naming no network, or by naming `default` itself (as Compose allows).
  const usesDefault = Object.values(servicesObj).some(
    (s) =>
      isObj(s) &&
      s.network_mode === undefined &&
      (s.networks === undefined ||
        (Array.isArray(s.networks) && (s.networks.length === 0 || s.networks.includes('default'))) ||
        (isObj(s.networks) && 'default' in s.networks)),
  );
  if (usesDefault && !networks.some((n) => n.key === 'default')) {
    networks.push(defaultNetwork(stack));
  }

  // Profiles as `docker compose up` applies them: a service with profiles runs
  // only when one of them is listed in COMPOSE_PROFILES (environment or .env).
  const activeProfiles = new Set(
    (input.lookup('COMPOSE_PROFILES') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  );
  const inactive = Object.entries(servicesObj)
    .filter(([, def]) => isObj(def) && Array.isArray(def.profiles) && def.profiles.length > 0 && !def.profiles.some((p) => activeProfiles.has(str(p)) || activeProfiles.has('*')))
    .map(([name]) => name)
    .sort();

  // Key paths already in error (interpolation, casts) before normalizing.
  const failedPaths = new Set(out.filter((d) => d.severity === 'error' && d.file === source.file).map((d) => d.path));
  const drafts: Omit<ServiceSpec, 'configHash'>[] = [];
  for (const [name, def] of Object.entries(servicesObj)) {
    if (!isObj(def) || input.invalidServices.has(name) || inactive.includes(name)) continue;
    const draft = normalizeService(input, name, def, networks, volumes, failedPaths, out);
    const files = serviceFileUses({ root: input.root, stackDir: input.stackDir, def, top: root, mounts: draft.mounts });
    if (files.length > 0) draft.files = files;
    const build = normalizeBuild({ root: input.root, stackDir: input.stackDir, source, service: name, def }, out);
    if (build) draft.build = build;
    for (const d of draft.dependsOn) {
      if (inactive.includes(d.service) && d.required) {
        out.push(source.diag('depends-on-inactive', ['services', name, 'depends_on'], `service "${name}" depends on "${d.service}", which is not deployed: none of its profiles is active (set COMPOSE_PROFILES)`, { key: true }));
      }
    }
    drafts.push(draft);
  }
  linkServices(drafts, servicesObj, inactive, source, out);
  // Tier inference needs the whole stack (who depends on whom), so it runs after.
  const gated = healthGated(drafts);
  for (const d of drafts) {
    const x = isObj((servicesObj[d.name] as Obj)['x-berth']) ? ((servicesObj[d.name] as Obj)['x-berth'] as Obj) : {};
    const explicit = x.tier as 'database' | 'app' | undefined;
    const tier = explicit ?? inferTier(d, gated);
    d.berth.tier = tier;
    d.berth.tierInferred = explicit === undefined;
    if (x.rollout === undefined) d.berth.rollout = tier === 'database' ? 'recreate' : 'start-first';
    if (d.berth.backup && d.berth.rollout !== 'recreate') {
      out.push(source.diag('x-berth', ['services', d.name, 'x-berth', 'backup'], 'a backup command runs only with `rollout: recreate` (the old container must stop before the new one starts)', { key: true }));
    }
    for (const p of imagePolicyProblems(d.name, servicesObj[d.name] as Obj)) out.push(source.diag('x-berth', p.path, p.message, { key: p.key === true }));
    services.push({ ...d, configHash: configHash(d) });
  }
  for (const v of volumes) {
    if (!v.external && v.driver === 'local' && !isValidLocalVolumeName(v.name)) {
      const named = isObj(root.volumes) && isObj((root.volumes as Obj)[v.key]) && ((root.volumes as Obj)[v.key] as Obj).name !== undefined;
      out.push(source.diag('volume-name', named ? ['volumes', v.key, 'name'] : ['volumes', v.key], 'not a valid volume name: letters, digits, "_", "." and "-", starting with a letter or digit, at least 2 characters', { key: !named }));
    }
  }
  out.push(...missingFileDiagnostics(input, servicesObj, inactive));
  networks.sort((a, b) => cmp(a.key, b.key));
  volumes.sort((a, b) => cmp(a.key, b.key));
  services.sort((a, b) => cmp(a.name, b.name));
  return { name: stack, file: source.file, networks, volumes, services, inactive };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

function externalName(key: string, def: Obj, stack: string): { external: boolean; name: string } {
  const ext = def.external;
  if (ext === true || ext === 'true') return { external: true, name: def.name !== undefined ? str(def.name) : key };
  // The legacy form `external: {name: x}`.
  if (isObj(ext)) return { external: true, name: ext.name !== undefined ? str(ext.name) : def.name !== undefined ? str(def.name) : key };
  return { external: false, name: def.name !== undefined ? str(def.name) : `${stack}_${key}` };
}

function defaultNetwork(stack: string): NetworkSpec {
  return {
    stack,
    key: 'default',
    name: `${stack}_default`,
    external: false,
    driver: 'bridge',
    internal: false,
    attachable: false,
    enableIpv6: false,
    ipam: null,
    driverOpts: {},
    labels: {},
  };
}

function normalizeNetworks(stack: string, v: unknown): NetworkSpec[] {
  if (!isObj(v)) return [];
  return Object.entries(v).map(([key, raw]) => {
    const def = isObj(raw) ? raw : {};
    const { external, name } = externalName(key, def, stack);
    return {
      stack,
      key,
      name,
      external,
      driver: def.driver !== undefined ? str(def.driver) : 'bridge',
      internal: def.internal === true,
      attachable: def.attachable === true,
      enableIpv6: def.enable_ipv6 === true,
      ipam: normalizeIpam(def.ipam),
      driverOpts: stringMap(def.driver_opts),
      labels: stringMap(def.labels),
    };
  });
}

function normalizeIpam(v: unknown): IpamSpec | null {
  if (!isObj(v)) return null;
  const config = Array.isArray(v.config)
    ? v.config.filter(isObj).map((c) => {
        const o: IpamSpec['config'][number] = {};
        if (c.subnet !== undefined) o.subnet = str(c.subnet);
        if (c.ip_range !== undefined) o.ipRange = str(c.ip_range);
        if (c.gateway !== undefined) o.gateway = str(c.gateway);
        if (isObj(c.aux_addresses)) o.auxAddresses = stringMap(c.aux_addresses);
        return o;
      })
    : [];
  return { driver: v.driver !== undefined ? str(v.driver) : 'default', config, options: stringMap(v.options) };
}

function normalizeVolumes(stack: string, v: unknown): VolumeSpec[] {
  if (!isObj(v)) return [];
  return Object.entries(v).map(([key, raw]) => {
    const def = isObj(raw) ? raw : {};
    const { external, name } = externalName(key, def, stack);
    return {
      stack,
      key,
      name,
      external,
      driver: def.driver !== undefined ? str(def.driver) : 'local',
      driverOpts: stringMap(def.driver_opts),
      labels: stringMap(def.labels),
    };
  });
}

function normalizeService(
  input: StackInput,
  name: string,
  def: Obj,
  networks: NetworkSpec[],
  volumes: VolumeSpec[],
  failedPaths: ReadonlySet<string>,
  out: Diagnostic[],
): Omit<ServiceSpec, 'configHash'> {
  const { stack, source } = input;
  const at = (...p: PathSeg[]) => ['services', name, ...p];
  const err = (path: PathSeg[], code: string, message: string, key = false) => out.push(source.diag(code, path, message, { key }));
  // On swarm, `deploy.labels` and restart_policy's delay/window do what they say: no "ignored" warning.
  const ignored = (path: PathSeg[], message: string) => {
    if (!(input.swarm && path[2] === 'deploy')) out.push(source.diag('ignored-key', path, message, { key: true, severity: 'warning' }));
  };

  // A value whose interpolation failed was already reported; checking what is left of it only adds noise.
  const reported = (path: PathSeg[]) => failedPaths.has(formatPath(path));
  const image = str(def.image);
  if (!reported(at('image'))) {
    if (def.build !== undefined && def.image === undefined) {
      // Built: the image is named from the build's content (src/build/tag.ts).
    } else if (def.image === undefined || image.trim() === '') {
      err(['services', name], 'image-required', `service "${name}" has no \`image\` and no \`build\`: berth needs one of them`, true);
    } else if (!isValidImageReference(image)) {
      // The value is not repeated: it may come from a variable, and values of variables are never printed.
      err(at('image'), 'image', 'not a valid image reference: [REGISTRY/]NAME[:TAG][@DIGEST], the name in lowercase, no spaces');
    }
  }
  if (def.container_name !== undefined && !reported(at('container_name')) && !isValidContainerName(str(def.container_name))) {
    err(at('container_name'), 'container-name', 'not a valid container name: letters, digits, "_", "." and "-", starting with a letter or digit, at least 2 characters');
  }
  if (def.restart !== undefined && !reported(at('restart')) && !isValidRestartPolicy(str(def.restart))) {
    err(at('restart'), 'restart', 'restart must be "no", "always", "unless-stopped", "on-failure" or "on-failure:N"');
  }

  const mountCtx: MountContext = {
    stackDir: input.stackDir,
    // A volume declared in an invalid `volumes:` section was reported there; it is not also "undefined".
    volumeName: (key) => volumes.find((v) => v.key === key)?.name ?? (declaredIn(input, 'volumes', key) ? `${stack}_${key}` : undefined),
  };
  const mounts: MountSpec[] = [];
  if (Array.isArray(def.volumes)) {
    def.volumes.forEach((m, i) => {
      const r = typeof m === 'string' ? parseMountShort(m, mountCtx) : isObj(m) ? parseMountLong(m as never, mountCtx) : { error: 'invalid mount' };
      if ('error' in r) err(at('volumes', i), 'mount', r.error);
      else {
        if (r.mount.type === 'bind') linkEscape(input, r.mount.source, at('volumes', i), `bind mount source`, out);
        const mount = decryptedBindMount(input, r.mount, at('volumes', i), out);
        if (mount) mounts.push(mount);
      }
    });
  }
  mounts.push(...fileMounts(input, name, def, 'secrets', out), ...fileMounts(input, name, def, 'configs', out));
  const tmpfsList = def.tmpfs === undefined ? [] : Array.isArray(def.tmpfs) ? def.tmpfs : [def.tmpfs];
  tmpfsList.forEach((t, i) => {
    const r = parseTmpfs(str(t));
    const p = Array.isArray(def.tmpfs) ? at('tmpfs', i) : at('tmpfs');
    if ('error' in r) err(p, 'mount', r.error);
    else mounts.push(r.mount);
  });
  const targets = new Set<string>();
  for (const m of mounts) {
    if (targets.has(m.target)) err(at('volumes'), 'mount', `two mounts share the target "${m.target}"`, true);
    targets.add(m.target);
  }
  mounts.sort(compareMounts);

  const ports: PortSpec[] = [];
  if (Array.isArray(def.ports)) {
    def.ports.forEach((p, i) => {
      const r = isObj(p) ? parsePortLong(p as never) : parsePortShort(p as string | number);
      if ('error' in r) err(at('ports', i), 'port', `invalid port: ${r.error}`);
      else ports.push(...r.ports);
    });
  }
  ports.sort(comparePorts);

  const expose: string[] = [];
  if (Array.isArray(def.expose)) {
    def.expose.forEach((e, i) => {
      const r = parseExpose(e as string | number);
      if (!r) err(at('expose', i), 'port', 'invalid expose entry: expected PORT[-PORT][/PROTOCOL]');
      else expose.push(...r);
    });
  }

  const networkMode = def.network_mode !== undefined ? str(def.network_mode) : null;
  const svcNetworks = normalizeServiceNetworks(input, name, def, networks, networkMode, out);

  return {
    stack,
    name,
    containerName: def.container_name !== undefined ? str(def.container_name) : `${stack}-${name}-1`,
    image: str(def.image),
    ...normalizePullPolicy(def.pull_policy, at('pull_policy'), err, def.pull_refresh_after),
    command: commandList(def.command, at('command'), err),
    entrypoint: commandList(def.entrypoint, at('entrypoint'), err),
    environment: normalizeEnvironment(input, name, def, out),
    ports,
    expose: [...new Set(expose)].sort(),
    mounts,
    networkMode,
    networks: svcNetworks,
    dependsOn: normalizeDependsOn(def.depends_on),
    healthcheck: normalizeHealthcheck(def.healthcheck, at('healthcheck'), err),
    restart: def.restart !== undefined ? str(def.restart) : 'no',
    labels: { ...labelFileLabels(input, name, def, out), ...stringMap(def.labels) },
    user: optStr(def.user),
    workingDir: optStr(def.working_dir),
    hostname: optStr(def.hostname),
    domainname: optStr(def.domainname),
    extraHosts: normalizeExtraHosts(def.extra_hosts),
    dns: strList(def.dns),
    dnsSearch: strList(def.dns_search),
    readOnly: def.read_only === true,
    privileged: def.privileged === true,
    init: def.init === undefined ? null : def.init === true,
    tty: def.tty === true,
    stdinOpen: def.stdin_open === true,
    capAdd: sortedSet(def.cap_add, (c) => c.toUpperCase().replace(/^CAP_/, '')),
    capDrop: sortedSet(def.cap_drop, (c) => c.toUpperCase().replace(/^CAP_/, '')),
    securityOpt: sortedSet(def.security_opt, (s) => s.trim()),
    sysctls: stringMap(def.sysctls),
    groupAdd: sortedSet(def.group_add, (g) => g),
    devices: deviceStrings(def.devices),
    stopSignal: optStr(def.stop_signal),
    stopGracePeriodSeconds: stopGrace(def.stop_grace_period, at('stop_grace_period'), err),
    logging: isObj(def.logging)
      ? { driver: def.logging.driver !== undefined ? str(def.logging.driver) : 'json-file', options: stringMap(def.logging.options) }
      : null,
    ulimits: normalizeUlimits(def.ulimits, at('ulimits'), err),
    shmSizeBytes: sizeOrNull(def.shm_size, at('shm_size'), err),
    pidMode: optStr(def.pid),
    ipcMode: optStr(def.ipc),
    resources: normalizeResources(def, at, err),
    ...serviceExtras(def, at, err, ignored),
    ...hostExtras(def, at, err, ignored),
    berth: berthOptions(def['x-berth']),
    ...normalizeReplicaFields(def, at, err),
    ...(input.swarm ? { swarm: swarmDeploy(def, at, err, (v) => stringMap(v)) } : {}),
    // configHash is added by the caller once the tier is known.
  } as Omit<ServiceSpec, 'configHash'>;
}

type Err = (path: PathSeg[], code: string, message: string, key?: boolean) => void;

function optStr(v: unknown): string | null {
  return v === undefined || v === null ? null : str(v);
}

function strList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(str);
}

function sortedSet(v: unknown, norm: (s: string) => string): string[] {
  return [...new Set(strList(v).map(norm))].sort();
}



function commandList(v: unknown, path: PathSeg[], err: Err): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(str);
  const words = shellSplit(str(v));
  if (words === null) {
    err(path, 'command', 'unterminated quote in command string');
    return null;
  }
  return words;
}

function normalizeEnvironment(input: StackInput, name: string, def: Obj, out: Diagnostic[]): Record<string, string | null> {
  const env: Record<string, string | null> = {};
  // env_file first, then `environment` overrides: the Compose precedence.
  const files = def.env_file === undefined ? [] : Array.isArray(def.env_file) ? def.env_file : [def.env_file];
  files.forEach((f, i) => {
    const path = isObj(f) ? str(f.path) : str(f);
    const required = isObj(f) ? f.required !== false : true;
    const loc: PathSeg[] = Array.isArray(def.env_file) ? ['services', name, 'env_file', i] : ['services', name, 'env_file'];
    const abs = resolve(input.stackDir, path);
    const rel = relative(input.root, abs).split('\\').join('/');
    if (!existsSync(abs)) {
      if (required) out.push(input.source.diag('env-file', loc, `env_file "${path}" not found (${rel})`));
      return;
    }
    if (!statSync(abs).isFile()) {
      out.push(input.source.diag('env-file', loc, `env_file "${path}" is not a regular file (${rel})`));
      return;
    }
    // Compose reads an env_file wherever it is; berth does too, but says so when that is outside the repository,
    // and refuses a file that only looks inside because a link leads out (as for compose files and .env).
    if (!isInside(input.root, abs)) {
      out.push(input.source.diag('path-outside-repo', loc, `env_file "${path}" is outside the repository: its values come from ${abs} on this host`, { severity: 'warning' }));
    } else if (linkEscape(input, abs, loc, 'env_file', out, 'error')) return;
    const decoded = readRepoText(input.secrets, abs, rel);
    if ('error' in decoded) {
      out.push(decoded.error);
      return;
    }
    if (isObj(f) && f.format !== undefined && f.format !== 'raw') {
      out.push(input.source.diag('env-file', [...loc, 'format'], `env_file format "${str(f.format)}" is not known: Compose reads its own format (the default) or \`raw\``));
      return;
    }
    const parsed = isObj(f) && f.format === 'raw' ? parseRawEnv(decoded.text) : parseDotenv(decoded.text, input.lookup);
    for (const e of parsed.errors) {
      out.push({ severity: 'error', code: 'env-file', file: rel, line: e.line, col: e.col, path: '', message: e.message });
    }
    for (const e of parsed.entries) env[e.key] = e.value;
  });
  const raw = def.environment;
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const s = str(item);
      const eq = s.indexOf('=');
      if (eq < 0) env[s] = input.lookup(s) ?? null;
      else env[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (isObj(raw)) {
    for (const [k, v] of Object.entries(raw)) env[k] = v === null || v === undefined ? (input.lookup(k) ?? null) : str(v);
  }
  // A key with no value and nothing in the environment is not passed at all, as in Compose.
  for (const k of Object.keys(env)) if (env[k] === null) delete env[k];
  return sortKeys(env);
}

function normalizeServiceNetworks(
  input: StackInput,
  name: string,
  def: Obj,
  networks: NetworkSpec[],
  networkMode: string | null,
  out: Diagnostic[],
): ServiceNetwork[] {
  if (networkMode !== null) {
    if (def.networks !== undefined) {
      out.push(input.source.diag('networks', ['services', name, 'network_mode'], '`network_mode` and `networks` cannot be used together', { key: true }));
    }
    return [];
  }
  const entries: [string, Obj, PathSeg[]][] = [];
  if (def.networks === undefined || (Array.isArray(def.networks) && def.networks.length === 0)) {
    entries.push(['default', {}, ['services', name]]);
  } else if (Array.isArray(def.networks)) {
    def.networks.forEach((n, i) => entries.push([str(n), {}, ['services', name, 'networks', i]]));
  } else if (isObj(def.networks)) {
    for (const [k, v] of Object.entries(def.networks)) entries.push([k, isObj(v) ? v : {}, ['services', name, 'networks', k]]);
  }
  const result: ServiceNetwork[] = [];
  for (const [key, opts, loc] of entries) {
    const net = networks.find((n) => n.key === key);
    if (!net && declaredIn(input, 'networks', key)) continue; // its section is invalid, and reported as such
    if (!net) {
      out.push(input.source.diag('undefined-network', loc, `service "${name}" refers to undefined network "${key}": declare it under the top-level \`networks:\``, { key: !Array.isArray(def.networks) }));
      continue;
    }
    result.push({
      key,
      name: net.name,
      aliases: [...new Set(strList(opts.aliases))].sort(),
      ipv4Address: optStr(opts.ipv4_address),
      ipv6Address: optStr(opts.ipv6_address),
      priority: typeof opts.priority === 'number' ? opts.priority : 0,
      ...(typeof opts.interface_name === 'string' ? { interfaceName: opts.interface_name } : {}),
    });
  }
  return result.sort((a, b) => cmp(a.name, b.name));
}

function normalizeDependsOn(v: unknown): DependsOn[] {
  const out: DependsOn[] = [];
  if (Array.isArray(v)) {
    for (const s of v) out.push({ service: str(s), condition: 'service_started', required: true, restart: false });
  } else if (isObj(v)) {
    for (const [svc, o] of Object.entries(v)) {
      const opts = isObj(o) ? o : {};
      out.push({
        service: svc,
        condition: (opts.condition as DependsCondition | undefined) ?? 'service_started',
        required: opts.required !== false,
        restart: opts.restart === true,
      });
    }
  }
  return out.sort((a, b) => cmp(a.service, b.service));
}

function durationOrNull(v: unknown, path: PathSeg[], err: Err): number | null {
  if (v === undefined || v === null) return null;
  const ns = parseDurationNs(v as string | number);
  if (ns === null) err(path, 'duration', 'invalid duration: expected e.g. 30s, 1m30s, 500ms (at most about 104 days)');
  return ns;
}

function normalizeHealthcheck(v: unknown, path: PathSeg[], err: Err): HealthcheckSpec | null {
  if (!isObj(v)) return null;
  if (v.disable === true) return { disable: true };
  let test: string[] | null = null;
  if (typeof v.test === 'string') test = ['CMD-SHELL', v.test];
  else if (Array.isArray(v.test)) test = v.test.map(str);
  if (test && test[0] === 'NONE') return { disable: true };
  if (test && !['CMD', 'CMD-SHELL'].includes(test[0]!)) {
    err([...path, 'test'], 'healthcheck', 'a healthcheck test list must start with "CMD", "CMD-SHELL" or "NONE"');
  }
  return {
    disable: false,
    test,
    intervalNs: durationOrNull(v.interval, [...path, 'interval'], err),
    timeoutNs: durationOrNull(v.timeout, [...path, 'timeout'], err),
    startPeriodNs: durationOrNull(v.start_period, [...path, 'start_period'], err),
    startIntervalNs: durationOrNull(v.start_interval, [...path, 'start_interval'], err),
    retries: v.retries === undefined ? null : wholeNumber(v.retries, [...path, 'retries'], err),
  };
}

function stopGrace(v: unknown, path: PathSeg[], err: Err): number | null {
  const ns = durationOrNull(v, path, err);
  return ns === null ? null : Math.ceil(ns / 1e9);
}

function normalizeUlimits(v: unknown, path: PathSeg[], err: Err): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {};
  if (!isObj(v)) return out;
  for (const [k, raw] of Object.entries(v)) {
    if (isObj(raw)) {
      const soft = wholeNumber(raw.soft, [...path, k, 'soft'], err);
      const hard = wholeNumber(raw.hard, [...path, k, 'hard'], err);
      out[k] = { soft: soft ?? 0, hard: hard ?? 0 };
    } else {
      const n = wholeNumber(raw, [...path, k], err) ?? 0;
      out[k] = { soft: n, hard: n };
    }
  }
  return sortKeys(out);
}

/**
 * An integer Docker takes as int64: a fraction, Infinity (YAML's `.inf`,
 * or 1e400) or anything past 2^53 (no longer exact in JavaScript) is refused.
 * A string here is one the interpolation cast table could not make an
 * integer.
 */
function wholeNumber(raw: unknown, path: PathSeg[], err: Err): number | null {
  // Missing, or a string: the schema or the cast table has said what is wrong.
  if (raw === undefined || raw === null || typeof raw === 'string') return null;
  const n = Number(raw);
  if (Number.isSafeInteger(n)) return n;
  err(path, 'number', Number.isInteger(n) ? 'number is too large' : 'must be a whole number');
  return null;
}

function sizeOrNull(v: unknown, path: PathSeg[], err: Err): number | null {
  if (v === undefined || v === null) return null;
  const b = parseBytes(v as string | number);
  if (b === null) err(path, 'size', 'invalid size: expected bytes or e.g. 512m, 1g (at most 8 PiB)');
  return b;
}

function normalizeResources(def: Obj, at: (...p: PathSeg[]) => PathSeg[], err: Err): ResourcesSpec {
  const deploy = isObj(def.deploy) ? def.deploy : {};
  const res = isObj(deploy.resources) ? deploy.resources : {};
  const limits = isObj(res.limits) ? res.limits : {};
  const resv = isObj(res.reservations) ? res.reservations : {};
  const pick = <T>(
    legacyKey: string,
    legacy: unknown,
    deployPath: PathSeg[],
    deployVal: unknown,
    parse: (v: string | number) => T | null,
  ): T | null => {
    const a = legacy === undefined ? null : parse(legacy as string | number);
    const b = deployVal === undefined ? null : parse(deployVal as string | number);
    if (legacy !== undefined && a === null) err(at(legacyKey), 'resources', `invalid ${legacyKey}`);
    if (deployVal !== undefined && b === null) err(deployPath, 'resources', 'invalid value');
    if (a !== null && b !== null && a !== b) {
      err(at(legacyKey), 'resources', `${legacyKey} conflicts with ${deployPath.slice(2).join('.')}; set only one of them`, true);
    }
    return b ?? a;
  };
  return {
    memoryBytes: pick('mem_limit', def.mem_limit, at('deploy', 'resources', 'limits', 'memory'), limits.memory, parseBytes),
    memoryReservationBytes: pick('mem_reservation', def.mem_reservation, at('deploy', 'resources', 'reservations', 'memory'), resv.memory, parseBytes),
    nanoCpus: pick('cpus', def.cpus, at('deploy', 'resources', 'limits', 'cpus'), limits.cpus, parseNanoCpus),
    cpuReservationNano: resv.cpus === undefined ? null : parseNanoCpus(resv.cpus as string | number),
    cpusetCpus: optStr(def.cpuset),
    cpuShares: def.cpu_shares === undefined ? null : wholeNumber(def.cpu_shares, at('cpu_shares'), err),
    cpuQuota: def.cpu_quota === undefined ? null : wholeNumber(def.cpu_quota, at('cpu_quota'), err),
    cpuPeriod: def.cpu_period === undefined ? null : wholeNumber(def.cpu_period, at('cpu_period'), err),
    memorySwapBytes: def.memswap_limit === undefined ? null : String(def.memswap_limit) === '-1' ? -1 : sizeOrNull(def.memswap_limit, at('memswap_limit'), err),
    memorySwappiness: numOrNull(def.mem_swappiness),
    oomScoreAdj: numOrNull(def.oom_score_adj),
    oomKillDisable: def.oom_kill_disable === true,
    pidsLimit: pick('pids_limit', def.pids_limit, at('deploy', 'resources', 'limits', 'pids'), limits.pids, (v) => {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : null;
    }),
  };
}

function numOrNull(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * File-based `secrets:` and `configs:` as Compose runs them outside swarm:
 * read-only bind mounts of the file, at /run/secrets/<name> and /<name>.
 */
function fileMounts(input: StackInput, name: string, def: Obj, section: 'secrets' | 'configs', out: Diagnostic[]): MountSpec[] {
  const refs = def[section];
  if (!Array.isArray(refs)) return [];
  const top = (isObj(input.source.value) ? (input.source.value as Obj)[section] : undefined) as Obj | undefined;
  const mounts: MountSpec[] = [];
  refs.forEach((ref, i) => {
    const sourceName = isObj(ref) ? str(ref.source) : str(ref);
    const decl = isObj(top) ? top[sourceName] : undefined;
    if (!isObj(decl)) {
      out.push(input.source.diag(`undefined-${section.slice(0, -1)}`, ['services', name, section, i], `service "${name}" refers to undefined ${section.slice(0, -1)} "${sourceName}": declare it under the top-level \`${section}:\``));
      return;
    }
    const target = isObj(ref) && ref.target !== undefined ? str(ref.target) : sourceName;
    const abs = target.startsWith('/') ? target : section === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
    if (decl.file === undefined) {
      const inline = inlineFileMount(input, section, sourceName, decl, ref, abs, ['services', name, section, i], out);
      if (inline) mounts.push(inline);
      return;
    }
    const file = resolve(input.stackDir, str(decl.file));
    linkEscape(input, file, [section, sourceName, 'file'], `${section.slice(0, -1)} file`, out);
    const perms = referencePerms(input.source, ['services', name, section, i], ref, out);
    if (perms === 'invalid') return;
    const sops = secretMountSource(input, file, [section, sourceName, 'file'], `${section.slice(0, -1)} ${sourceName}`, out, perms, ['services', name, section, i]);
    if (sops === null) return;
    mounts.push({
      ...sops,
      type: 'bind',
      target: abs,
      readOnly: true,
      propagation: 'rprivate',
      createHostPath: false,
      selinux: '',
    });
  });
  return mounts;
}

/**
 * A path that is inside the repository by its name but leads out through a
 * symbolic link: reported with where it really goes (a path outside by its
 * name is visible in the file itself, and in the plan). True when reported.
 */
function linkEscape(input: StackInput, abs: string, loc: PathSeg[], what: string, out: Diagnostic[], severity: 'error' | 'warning' = 'warning'): boolean {
  if (!isInside(input.root, abs) || !existsSync(abs)) return false;
  const real = realpathSync(abs);
  if (isInside(realpathSync(input.root), real)) return false;
  const message =
    severity === 'error'
      ? `${what} ${relative(input.root, abs)} is a symbolic link to ${real}, outside the repository; berth reads files of the repository only`
      : `${what} ${relative(input.root, abs)} is a symbolic link to ${real}, outside the repository: the container gets that host path`;
  const d = input.source.diag('path-escapes-repo', loc, message, { severity });
  // A secrets file shared by several services is one finding, not one per service.
  if (!out.some((o) => o.code === d.code && o.file === d.file && o.line === d.line && o.col === d.col)) out.push(d);
  return true;
}

/**
 * A file-based secret or config whose file is missing: Docker would refuse the
 * bind mount when creating the container, after earlier waves were applied.
 * Checked once per declaration that an active service uses.
 */
function missingFileDiagnostics(input: StackInput, services: Obj, inactive: string[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const root = isObj(input.source.value) ? input.source.value : {};
  for (const section of ['secrets', 'configs'] as const) {
    const decls = root[section];
    if (!isObj(decls)) continue;
    const used = new Set<string>();
    for (const [name, def] of Object.entries(services)) {
      if (!isObj(def) || inactive.includes(name) || !Array.isArray(def[section])) continue;
      for (const ref of def[section] as unknown[]) used.add(isObj(ref) ? str(ref.source) : str(ref));
    }
    for (const name of [...used].sort()) {
      const decl = decls[name];
      if (!isObj(decl) || decl.file === undefined) continue;
      const abs = resolve(input.stackDir, str(decl.file));
      if (!existsSync(abs)) {
        const rel = relative(input.root, abs).split('\\').join('/');
        out.push(input.source.diag(`${section.slice(0, -1)}-file`, [section, name, 'file'], `${section.slice(0, -1)} file "${str(decl.file)}" not found (${rel})`));
      }
    }
  }
  return out;
}

/** Declared in a top-level section that failed validation (and so was not normalized). */
function declaredIn(input: StackInput, section: 'networks' | 'volumes', key: string): boolean {
  const root = isObj(input.source.value) ? input.source.value : {};
  return input.invalidTopLevel.has(section) && isObj(root[section]) && key in (root[section] as Obj);
}

function berthOptions(v: unknown): ServiceSpec['berth'] {
  const x = isObj(v) ? v : {};
  const backup = isObj(x.backup)
    ? {
        command: typeof x.backup.command === 'string' ? ['sh', '-c', x.backup.command] : strList(x.backup.command),
        timeoutSeconds: typeof x.backup.timeoutSeconds === 'number' ? x.backup.timeoutSeconds : 300,
      }
    : null;
  return {
    tier: 'app',
    tierInferred: true,
    rollout: (x.rollout as 'recreate' | 'start-first' | undefined) ?? 'start-first',
    minReadySeconds: typeof x.minReadySeconds === 'number' ? x.minReadySeconds : 0,
    selfHeal: typeof x.selfHeal === 'boolean' ? x.selfHeal : null,
    backup,
    lintIgnore: isObj(x.lint) ? strList(x.lint.ignore).sort() : [],
  };
}
