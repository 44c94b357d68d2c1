// Registry benchmark (issue 14): against the test registry of
// scripts/test-registry.sh, on the shared engine.
//
//   npm run build && node dist/bench/registry.js [runs]
//
//  1. pull of a 10-layer image (own image, ~20 MiB, removed between runs):
//     berth's prepare phase (docker-config credentials → X-Registry-Auth → engine
//     pull) vs `docker pull`, wall time, median of `runs`;
//  2. `--refresh` over 50 services: the manifest HEADs (token/basic auth,
//     8 at a time) for 50 tags, and `berth plan` vs `berth plan --refresh`
//     on a 50-service repository (wall), beside the same check by
//     docker-compose: `docker-compose pull` of the same 50 services, all
//     present and unmoved (one manifest request each, no layer download).
// Prints one JSON object (also to BENCH_PART when set, as the `registry`
// section of `npm run bench`).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DockerConfigCredentials } from '../src/adapters/docker-credentials.js';
import { DockerodeDocker } from '../src/adapters/dockerode-docker.js';
import { RegistryHttp } from '../src/adapters/registry-http.js';
import { prepareImages } from '../src/apply/prepare-images.js';
import type { Op } from '../src/model/plan.js';
import { systemClock } from '../src/ports/clock.js';
import { gatherImageInputs } from '../src/registry/image-facts.js';
import { StateDir } from '../src/adapters/state-dir.js';
import type { DesiredState } from '../src/model/desired.js';
import type { RegistryPart } from './report-model.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.argv[2] ?? 3);
const reg = JSON.parse(readFileSync(join(process.env.BERTH_TEST_REGISTRY_DIR ?? '/tmp/berth-test-registry', 'registry.json'), 'utf8')) as {
  host: string;
  dockerConfig: string;
};

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((res, rej) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 1 << 26 }, (e, out, err) => (e ? rej(new Error(`${cmd} ${args.join(' ')}: ${err || e.message}`)) : res(out.trim()))),
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cfg = { DOCKER_CONFIG: reg.dockerConfig };
const id = Math.random().toString(16).slice(2, 10);
const repo = `${reg.host}/bench-${id}/ten`;

async function tenLayerImage(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-img-'));
  const runs = Array.from({ length: 10 }, (_, i) => `RUN dd if=/dev/urandom of=/layer${i} bs=1024 count=2048 2>/dev/null`).join('\n');
  writeFileSync(join(dir, 'Dockerfile'), `FROM berth-test/busybox:1\n${runs}\n`);
  await sh('docker', ['build', '-q', '-t', `${repo}:v1`, dir], { DOCKER_BUILDKIT: '0' });
  await sh('docker', ['push', `${repo}:v1`], cfg);
}

async function pulls(): Promise<{ berthMs: number[]; dockerMs: number[] }> {
  const docker = DockerodeDocker.fromEnv(process.env);
  const credentials = new DockerConfigCredentials({ ...process.env, ...cfg });
  const op = { id: 'service:b/ten', kind: 'service.create', pull: true, service: { image: `${repo}:v1` } } as unknown as Op;
  const berthMs: number[] = [];
  const dockerMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await sh('docker', ['rmi', `${repo}:v1`]).catch(() => '');
    let t = performance.now();
    await sh('docker', ['pull', '-q', `${repo}:v1`], cfg);
    dockerMs.push(performance.now() - t);
    await sh('docker', ['rmi', `${repo}:v1`]);
    t = performance.now();
    const r = await prepareImages([op], { docker, clock: systemClock, credentials });
    if (r.failures.size > 0) throw new Error([...r.failures.values()].join('; '));
    berthMs.push(performance.now() - t);
  }
  return { berthMs, dockerMs };
}

async function refresh(): Promise<{ headsMs: number; planMs: number; planRefreshMs: number; composePullMs: number }> {
  for (let i = 0; i < 50; i++) {
    await sh('docker', ['tag', `${repo}:v1`, `${repo}:t${i}`]);
  }
  // One push per tag: the layers are there already, each is a manifest PUT.
  for (let i = 0; i < 50; i++) await sh('docker', ['push', '-q', `${repo}:t${i}`], cfg);
  const services = Array.from({ length: 50 }, (_, i) => ({ image: `${repo}:t${i}`, pullPolicy: 'missing' }));
  const desired = { stacks: [{ services }] } as unknown as DesiredState;
  const state = new StateDir(mkdtempSync(join(tmpdir(), 'berth-bench-state-')));
  const registry = new RegistryHttp(new DockerConfigCredentials({ ...process.env, ...cfg }));
  let t = performance.now();
  const { inputs } = await gatherImageInputs(desired, state, registry, Date.now(), true);
  const headsMs = performance.now() - t;
  if (inputs.remote.size !== 50) throw new Error(`HEADs: ${inputs.remote.size}/50 answered: ${[...inputs.remoteErrors.values()][0]}`);
  const repoDir = mkdtempSync(join(tmpdir(), 'berth-bench-repo-'));
  mkdirSync(join(repoDir, 'stacks', `bench-${id}`), { recursive: true });
  writeFileSync(
    join(repoDir, 'stacks', `bench-${id}`, 'compose.yaml'),
    `services:\n${services.map((s, i) => `  s${i}:\n    image: ${s.image}\n`).join('')}`,
  );
  const cli = join(ROOT, 'dist', 'bundle', 'main.js');
  const env = { ...cfg, BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), 'berth-bench-state-')) };
  const plan = async (extra: string[]) => {
    const t0 = performance.now();
    await sh(process.execPath, [cli, 'plan', '--repo', repoDir, ...extra], env).catch(() => '');
    return performance.now() - t0;
  };
  const planMs = median([await plan([]), await plan([]), await plan([])]);
  const planRefreshMs = median([await plan(['--refresh']), await plan(['--refresh']), await plan(['--refresh'])]);
  // The same question asked by docker-compose: pull every service's tag (all present, none moved).
  const composeFile = join(repoDir, 'stacks', `bench-${id}`, 'compose.yaml');
  const composePull = async () => {
    const t0 = performance.now();
    await sh('docker-compose', ['-p', `bench-${id}`, '-f', composeFile, 'pull', '-q'], cfg);
    return performance.now() - t0;
  };
  const composePullMs = median([await composePull(), await composePull(), await composePull()]);
  return { headsMs, planMs, planRefreshMs, composePullMs };
}

function section(out: { runs: number; pull10Layers: { berthMedianMs: number; dockerPullMedianMs: number; berthMs: number[]; dockerMs: number[] }; refresh50: { manifestHeadsMs: number; planMedianMs: number; planRefreshMedianMs: number; composePullMedianMs: number } }, loadStart: string): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const p = out.pull10Layers;
  const r = out.refresh50;
  return [
    '## Registry (issue 14)',
    '',
    `Against the test registry on loopback (scripts/test-registry.sh, htpasswd auth), on the shared engine; load average at the start ${loadStart}, at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    '| work | berth | side by side | runs |',
    '|---|---:|---:|---:|',
    `| pull of a 10-layer image (~20 MiB, removed before each pull): berth's prepare phase vs \`docker pull\` | ${s(p.berthMedianMs)} | ${s(p.dockerPullMedianMs)} | ${out.runs} |`,
    `| no-op check of 50 tags against the registry: \`berth plan --refresh\` (50 manifest HEADs, 8 at a time) vs \`docker-compose pull\` of the same 50 services | ${s(r.planRefreshMedianMs)} | ${s(r.composePullMedianMs)} | 3 |`,
    `| · \`berth plan\` on the same 50 services without \`--refresh\` | ${s(r.planMedianMs)} | | 3 |`,
    `| · the 50 manifest HEADs alone (in process) | ${s(r.manifestHeadsMs)} | | 1 |`,
    '',
    `Every pull (ms): berth ${p.berthMs.join(', ')}; docker pull ${p.dockerMs.join(', ')}. Medians; wall time.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const loadStart = loadavg().map((x) => x.toFixed(2)).join(' ');
  await tenLayerImage();
  try {
    const p = await pulls();
    const r = await refresh();
    const out = {
      runs: RUNS,
      pull10Layers: { berthMedianMs: Math.round(median(p.berthMs)), dockerPullMedianMs: Math.round(median(p.dockerMs)), berthMs: p.berthMs.map(Math.round), dockerMs: p.dockerMs.map(Math.round) },
      refresh50: { manifestHeadsMs: Math.round(r.headsMs), planMedianMs: Math.round(r.planMs), planRefreshMedianMs: Math.round(r.planRefreshMs), composePullMedianMs: Math.round(r.composePullMs) },
    };
    console.log(JSON.stringify(out, null, 2));
    const part: RegistryPart = { section: 'registry', date: new Date().toISOString(), markdown: section(out, loadStart), targets: [], ...out };
    if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2));
  } finally {
    const tags = [`${repo}:v1`, ...Array.from({ length: 50 }, (_, i) => `${repo}:t${i}`)];
    await sh('docker', ['rmi', ...tags]).catch(() => '');
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
