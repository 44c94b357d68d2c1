// Summarise a V8 .cpuprofile (node --cpu-prof) as self time per package.
//
//   node dist/bench/cpu-profile.js FILE.cpuprofile [top]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface PackageTime {
  package: string;
  selfMs: number;
  pct: number;
}

/**
 * Where a sampled function lives, as a "package":
 * - `node_modules/<pkg>` (or `@scope/pkg`) → `<pkg>`
 * - berth's own compiled code (`dist/src/<dir>/…`) → `berth src/<dir>`
 * - Node's built-in JS (`node:internal/modules/esm/…`) → `node:internal/modules`
 * - V8 pseudo-frames → `(garbage collector)`, `(program)`, `(idle)`
 * - native frames without a URL → `(native) <function>`
 */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' && parts.length > 2 ? `internal/${parts[1]}` : parts.slice(0, 2).join('/')}`;
  }
  const own = /\/dist\/(src|bench|generated)\/(?:([^/]+)\/)?[^/]+$/.exec(url);
  if (own) return own[2] ? `berth ${own[1]}/${own[2]}` : `berth ${own[1]}`;
  return url.replace(/^file:\/\//, '');
}

export function summarise(profile: CpuProfile): { totalMs: number; packages: PackageTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>(); // µs
  const add = (node: ProfileNode | undefined, us: number) => {
    if (!node) return;
    const key = packageOf(node.callFrame.url, node.callFrame.functionName);
    self.set(key, (self.get(key) ?? 0) + us);
  };
  if (profile.samples && profile.timeDeltas && profile.samples.length === profile.timeDeltas.length) {
    // The time of sample i is the gap to the next sample (the last one gets the gap to endTime).
    const s = profile.samples;
    const d = profile.timeDeltas;
    let t = profile.startTime;
    const times = d.map((x) => (t += x));
    for (let i = 0; i < s.length; i++) {
      const next = i + 1 < s.length ? times[i + 1]! : profile.endTime;
      add(byId.get(s[i]!), Math.max(0, next - times[i]!));
    }
  } else {
    const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0));
    for (const n of profile.nodes) add(n, (n.hitCount ?? 0) * interval);
  }
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const packages = [...self.entries()]
    .map(([pkg, us]) => ({ package: pkg, selfMs: us / 1000, pct: totalUs > 0 ? (100 * us) / totalUs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: totalUs / 1000, packages };
}

export function summariseFile(path: string): { totalMs: number; packages: PackageTime[] } {
  return summarise(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/cpu-profile.js FILE.cpuprofile [top]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 10);
  const { totalMs, packages } = summariseFile(file);
  console.log(`profile: ${totalMs.toFixed(0)} ms sampled`);
  for (const p of packages.slice(0, top)) console.log(`${p.selfMs.toFixed(1).padStart(8)} ms ${p.pct.toFixed(1).padStart(5)} %  ${p.package}`);
}
