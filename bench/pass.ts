// The no-op pass of `berth run` in process (not a test): what one reconcile
// costs berth itself when the desired state is cached (same clean commit, or a
// pass only Docker events asked for) — observe, plan, drift and rollout holds,
// the applied record, the state dir — for N services. The Docker port answers
// the four list calls from memory, so the engine's own time is not counted;
// any mutating call fails the bench (a no-op pass must not make one).
//
//   npx tsc -p tsconfig.json && node dist/bench/pass.js [services ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StateDir } from '../src/adapters/state-dir.js';
import { reconcile, type ReconcileDeps } from '../src/loop/reconcile.js';
import type { LiveState } from '../src/model/live.js';
import { systemClock } from '../src/ports/clock.js';
import type { DockerPort } from '../src/ports/docker.js';
import { generate, SALT } from './synthetic-host.js';

const RUNS = 15;

function memoryDocker(live: LiveState): DockerPort {
  const lists: Partial<DockerPort> = {
    listContainers: async () => structuredClone(live.containers),
    listNetworks: async () => structuredClone(live.networks),
    listVolumes: async () => structuredClone(live.volumes),
    listImageTags: async () => [...live.imageTags],
    // observe() lists images (IDs and digests, for pinning); the synthetic host has tags only.
    listImages: async () => structuredClone(live.images ?? live.imageTags.map((tag, i) => ({ id: `sha256:${String(i).padStart(64, '0')}`, repoTags: [tag], repoDigests: [] }))),
  };
  return new Proxy(lists as DockerPort, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (v !== undefined || typeof prop !== 'string') return v;
      return () => {
        throw new Error(`a no-op pass called docker.${prop}`);
      };
    },
  });
}

export async function passTimes(n: number, runs = RUNS): Promise<{ services: number; firstMs: number; medianMs: number; minMs: number; cpuMedianMs: number }> {
  const { desired, live, applied } = generate(n, { changes: false });
  const dir = mkdtempSync(join(tmpdir(), 'berth-pass-'));
  try {
    const state = new StateDir(dir);
    await state.writeJson('salt.json', { salt: SALT });
    await state.writeApplied({ ...applied, revision: 'bench0' });
    const docker = memoryDocker(live);
    const source = { dir: '/bench', revision: 'bench0', origin: '/bench' };
    // Kept across passes as `berth run`'s controller keeps it.
    const upToDate: NonNullable<ReconcileDeps['upToDate']> = new WeakMap();
    const times: number[] = [];
    // CPU time of the pass: on a shared, loaded machine the wall time mostly measures the others.
    const cpu: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const result = await reconcile(source, { docker, state, clock: systemClock, env: {}, upToDate }, 'apply', desired);
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      if (result.outcome !== 'in-sync') throw new Error(`expected a no-op pass, got ${result.outcome}: ${JSON.stringify(result.plan?.ops.slice(0, 3).map((o) => [o.id, o.reasons]))}`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const cpuSorted = [...cpu].sort((a, b) => a - b);
    return { services: n, firstMs: times[0]!, medianMs: sorted[Math.floor(sorted.length / 2)]!, minMs: sorted[0]!, cpuMedianMs: cpuSorted[Math.floor(cpuSorted.length / 2)]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length > 0 ? sizes : [50, 1000]) {
    const t = await passTimes(n);
    console.log(`no-op pass in process: ${t.services} services — first ${t.firstMs.toFixed(1)} ms, median ${t.medianMs.toFixed(1)} ms, min ${t.minMs.toFixed(1)} ms over ${RUNS} runs; CPU median ${t.cpuMedianMs.toFixed(1)} ms; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  }
}
