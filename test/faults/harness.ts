// Shared pieces of the fault-injection tests: the built CLI as a child
// process, a faster copy of the example repo, and the host invariants every
// recovery must restore.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { LABEL, RETIRED_SUFFIX, TEMP_SUFFIX } from '../../src/labels.js';
import { listPrefixed, removePrefixed } from '../support/berth-objects.js';
import { recordCapture } from '../support/capture.js';
import { docker } from '../support/engine.js';
import { isolatedCopy } from '../support/isolated-repo.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'bundle', 'main.js');
export const EXAMPLE = join(ROOT, 'desired-state');

/** The engine the tests (and the proxies in front of it) use: DOCKER_HOST when it is a unix socket, else the default. */
export function engineSocket(): string {
  const h = process.env.DOCKER_HOST ?? '';
  return h.startsWith('unix://') ? h.slice('unix://'.length) : '/var/run/docker.sock';
}

export interface BerthRun {
  child: ChildProcess;
  /** Resolves when the process exited: its code (null when killed), signal and output. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Start the built CLI with `args`; `env` is added to the test's environment. Its output is captured for the secret scan. */
export function spawnBerth(args: string[], env: Record<string, string>): BerthRun {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.once('close', (code, signal) => {
      // For the suite's end-of-run scan for planted secrets.
      recordCapture(`berth ${args[0] ?? ''} (child process)`, output);
      resolve({ code, signal, output });
    }),
  );
  return { child, done };
}

export async function berth(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return spawnBerth(args, env).done;
}

/** The example's services as `stack/service`, with the test prefix on the stack. */
export function exampleServices(prefix: string): string[] {
  return ['api/api', 'api/worker', 'data/postgres', 'data/redis', 'infra/status', 'web/web'].map((s) => `${prefix}${s}`);
}

/** The example's named volumes, prefixed. */
export function exampleVolumes(prefix: string): string[] {
  return [`${prefix}pgdata`, `${prefix}redisdata`];
}

/** The environment variable the rolled services of `fastExample` carry: change it to roll them out. */
export const ROUND_VAR = 'BERTH_FAULT_ROUND';

/**
 * One service per rollout strategy, the richest of each: `web` (start-first,
 * two networks, a healthcheck) and `postgres` (recreate with a backup
 * command, a data volume). Rolling out all six services makes 56 mutating
 * calls whose kill points only repeat these two code paths, at ~15 s each.
 */
export const ROLLED_SERVICES = ['web', 'postgres'];

/**
 * The example repo with every Docker name prefixed (isolatedCopy), changed
 * only where waiting dominates a fault loop of dozens of applies:
 *  - healthcheck intervals of 1 s instead of 5 s (`api`, `postgres`);
 *  - `rollout.drainSeconds: 0` (the drain still takes the old container off
 *    its networks, it just does not wait for requests in flight: there are none);
 *  - `web` and `postgres` get `BERTH_FAULT_ROUND: ${BERTH_FAULT_ROUND:-0}`,
 *    so a test rolls them out just by running berth with another value.
 * Waves, tiers, depends_on, rollout strategies, backup, networks and volumes
 * are the example's.
 */
export function fastExample(prefix: string): string {
  const repo = isolatedCopy(EXAMPLE, prefix);
  const stacks = join(repo, 'stacks');
  for (const stack of readdirSync(stacks)) {
    const file = join(stacks, stack, 'compose.yaml');
    const doc = parseDocument(readFileSync(file, 'utf8'), { merge: true });
    const services = doc.get('services');
    if (!isMap(services)) continue;
    for (const pair of services.items) {
      const name = String((pair.key as { value?: unknown }).value ?? pair.key);
      const hc = doc.getIn(['services', name, 'healthcheck']);
      if (isMap(hc)) {
        if (hc.has('interval')) hc.set('interval', '1s');
        if (hc.has('start_period')) hc.set('start_period', '1s');
      }
      if (ROLLED_SERVICES.includes(name)) addRoundVar(doc, name);
    }
    writeFileSync(file, doc.toString());
  }
  const settings = join(repo, 'berth.yaml');
  const doc = parseDocument(readFileSync(settings, 'utf8'));
  doc.setIn(['rollout', 'drainSeconds'], 0);
  writeFileSync(settings, doc.toString());
  return repo;
}

function addRoundVar(doc: Document, service: string): void {
  const value = `\${${ROUND_VAR}:-0}`;
  const env = doc.getIn(['services', service, 'environment']);
  if (isSeq(env)) env.add(`${ROUND_VAR}=${value}`);
  else if (isMap(env)) env.set(ROUND_VAR, value);
  else doc.setIn(['services', service, 'environment'], doc.createNode({ [ROUND_VAR]: value }));
}

interface ContainerRow {
  name: string;
  stack: string;
  service: string;
  state: string;
}

async function prefixedContainers(prefix: string): Promise<ContainerRow[]> {
  const r = await docker(['ps', '-a', '--format', `{{.Names}}\t{{.Label "${LABEL.stack}"}}\t{{.Label "${LABEL.service}"}}\t{{.State}}`]);
  if (r.code !== 0) throw new Error(`docker ps: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => {
      const [name = '', stack = '', service = '', state = ''] = l.split('\t');
      return { name, stack, service, state };
    });
}

async function prefixedVolumes(prefix: string): Promise<string[]> {
  const r = await docker(['volume', 'ls', '--format', '{{.Name}}']);
  if (r.code !== 0) throw new Error(`docker volume ls: ${r.stderr}`);
  return r.stdout.split('\n').filter((n) => n.startsWith(prefix)).sort();
}

/** The test's own marker, written into each named volume. */
export const MARKER_FILE = 'fault-marker';
/** Written by the fake postgres into its data volume on its first start (scripts/test-images.sh). */
export const PG_MARKER_FILE = 'berth-marker';
const DATA_FILES = [MARKER_FILE, PG_MARKER_FILE];

/** volume → file → contents (null: absent). */
export type VolumeData = Record<string, Record<string, string | null>>;

/**
 * The data files of each volume; with `tag`, first writes `<tag> <volume>`
 * into each volume's MARKER_FILE. When the engine's volume directories are
 * on this machine (the usual local engine, tests run as root) they are read
 * and written directly: a throwaway container per check costs seconds on a
 * busy machine, and the fault loops check after every kill point. Otherwise
 * one busybox container does it. Only volumes that exist may be passed
 * (`docker run -v` would create a missing one).
 */
async function volumeFiles(volumes: string[], tag: string | null): Promise<VolumeData> {
  if (volumes.length === 0) return {};
  const inspect = await docker(['volume', 'inspect', '-f', '{{.Name}}\t{{.Mountpoint}}', ...volumes]);
  if (inspect.code !== 0) throw new Error(`docker volume inspect: ${inspect.stderr}`);
  const dirs = new Map(inspect.stdout.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
  if (volumes.every((v) => existsSync(dirs.get(v) ?? '/nonexistent'))) {
    const out: VolumeData = {};
    for (const v of volumes) {
      const dir = dirs.get(v)!;
      if (tag !== null) writeFileSync(join(dir, MARKER_FILE), `${tag} ${v}\n`);
      const files: Record<string, string | null> = {};
      for (const f of DATA_FILES) files[f] = existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null;
      out[v] = files;
    }
    return out;
  }
  const mounts = volumes.flatMap((v, i) => ['-v', `${v}:/v/${i}${tag === null ? ':ro' : ''}`]);
  const write = tag === null ? [] : volumes.map((v, i) => `echo '${tag} ${v}' > /v/${i}/${MARKER_FILE}`);
  // One line per volume and file: `index/file:base64`, or `index/file:-` when absent.
  const read = volumes.flatMap((_, i) =>
    DATA_FILES.map((f) => `if [ -f /v/${i}/${f} ]; then echo "${i}/${f}:$(base64 < /v/${i}/${f} | tr -d '\\n')"; else echo "${i}/${f}:-"; fi`),
  );
  const r = await docker(['run', '--rm', ...mounts, 'berth-test/busybox:1', 'sh', '-c', [...write, ...read].join('; ')]);
  if (r.code !== 0) throw new Error(`reading volume data: ${r.stderr}`);
  const out: VolumeData = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+)\/([^:]+):(.*)$/.exec(line.trim());
    if (!m) continue;
    const v = volumes[Number(m[1])]!;
    (out[v] ??= {})[m[2]!] = m[3] === '-' ? null : Buffer.from(m[3]!, 'base64').toString('utf8');
  }
  return out;
}

/** Write a fresh marker into each volume; returns every data file as it is now. */
export function markVolumes(volumes: string[], tag: string): Promise<VolumeData> {
  return volumeFiles(volumes, tag);
}

export function readVolumeData(volumes: string[]): Promise<VolumeData> {
  return volumeFiles(volumes, null);
}

/** A sentence for every data file that existed in `before` and is gone or changed in `after`. */
export function lostData(before: VolumeData, after: VolumeData): string[] {
  const out: string[] = [];
  for (const [volume, files] of Object.entries(before)) {
    for (const [file, content] of Object.entries(files)) {
      if (content === null) continue;
      const now = after[volume]?.[file] ?? null;
      if (now !== content) out.push(`volume ${volume}: ${file} was ${JSON.stringify(content.trim())}, now ${JSON.stringify(now?.trim() ?? null)}`);
    }
  }
  return out;
}

/**
 * What is wrong with the host after a recovery, as sentences (empty: all
 * good): a container left under a rollout name, a service with no or more
 * than one container, a container that is not running, a named volume gone.
 */
export async function hostProblems(prefix: string, services: string[], volumes: string[]): Promise<string[]> {
  const problems: string[] = [];
  const containers = await prefixedContainers(prefix);
  for (const c of containers) {
    if (c.name.endsWith(TEMP_SUFFIX) || c.name.endsWith(RETIRED_SUFFIX)) problems.push(`leftover container ${c.name} (${c.state})`);
  }
  for (const svc of services) {
    const mine = containers.filter((c) => `${c.stack}/${c.service}` === svc);
    if (mine.length !== 1) problems.push(`${svc}: ${mine.length} containers (${mine.map((c) => c.name).join(', ') || 'none'})`);
    for (const c of mine) if (c.state !== 'running') problems.push(`${svc}: ${c.name} is ${c.state}`);
  }
  const strays = containers.filter((c) => !services.includes(`${c.stack}/${c.service}`));
  for (const c of strays) problems.push(`container ${c.name} belongs to no desired service (${c.stack}/${c.service})`);
  const present = await prefixedVolumes(prefix);
  for (const v of volumes) if (!present.includes(v)) problems.push(`volume ${v} is gone`);
  return problems;
}

export { prefixedContainers, prefixedVolumes };

/**
 * Remove every object of the test's prefix and check that nothing is left:
 * a kill point that starts "from scratch" must really start from nothing
 * (removePrefixed ignores failures, e.g. a volume still in use while a
 * container is being removed). Returns how many extra rounds it took.
 */
export async function resetHost(prefix: string): Promise<number> {
  for (let round = 0; round < 5; round++) {
    await removePrefixed(prefix);
    const left = await listPrefixed(prefix);
    if (left.containers.length + left.networks.length + left.volumes.length === 0) return round;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`cannot clear the host of ${prefix}*: ${JSON.stringify(await listPrefixed(prefix))}`);
}

/** Kill at every mutating call 1…m, or with BERTH_FAULTS_EVERY=n at every n-th (and the last) for a quicker local run. */
export function killPoints(m: number): number[] {
  const every = Math.max(1, Number(process.env.BERTH_FAULTS_EVERY ?? 1) || 1);
  const ks = Array.from({ length: m }, (_, i) => i + 1).filter((k) => (k - 1) % every === 0);
  if (ks[ks.length - 1] !== m) ks.push(m);
  return ks;
}
