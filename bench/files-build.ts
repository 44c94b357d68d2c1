// Repository files and builds, beside docker-compose (issue 13 Measure; not a test: nothing here asserts on time).
//
//   npm run build && node dist/bench/files-build.js      (≈ 4–8 min on a loaded machine; part of `npm run bench`)
//
// Two repos of five stacks, one service each:
//   - "files": each service builds from its own context (5 contexts) and
//     bind-mounts four files of the repository (20 files);
//   - "plain": the same services running berth-test/busybox:1, no mounts.
// berth applies both from their git repos; docker-compose 1.29 runs the same
// Compose files from a `git clone` of each (one project per stack, `up -d`
// for the five in one loop), so both get changes the way git delivers them.
// After a first, unmeasured deploy:
//   1. BENCH_FILES_PLANS (default 5) no-op passes of each, alternating: `berth plan`
//      (wall spawn → exit, median) and the compose loop of `up -d`;
//   2. a commit that changes one mounted file of one stack: `berth apply`
//      vs `git pull` + the compose loop — wall time, and whether the
//      container then reads the new content;
//   3. a commit that changes one file of one build context: `berth apply`
//      (rebuild + start-first rollout) vs `git pull` + the loop of `up -d`
//      (which does not rebuild) and then of `up -d --build`.
// Results: a markdown section on stdout; with BENCH_PART=<file> (set by
// bench/report.ts) the figures as JSON. Everything created (containers,
// networks, images named by the prefix, temp dirs) is removed at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FilesPart, Target } from './report-model.js';
import { runBench } from './bench-main.js';

const CLI = join(import.meta.dirname, '..', 'bundle', 'main.js');
const prefix = `bfb${randomBytes(3).toString('hex')}`;
const plans = Math.max(1, Number(process.env.BENCH_FILES_PLANS ?? process.env.BENCH_PLANS ?? 5));
const STACKS = 5;
const temp: string[] = [];
const log = (m: string) => process.stderr.write(`[bench:files ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const git = (cwd: string, ...a: string[]) => execFileSync('git', ['-c', 'user.email=b@example.com', '-c', 'user.name=b', ...a], { cwd, encoding: 'utf8' });

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  temp.push(root);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'bench');
  return root;
}

function clone(from: string): string {
  const to = mkdtempSync(join(tmpdir(), 'berth-bench-compose-'));
  temp.push(to);
  execFileSync('git', ['clone', '-q', from, to]);
  return to;
}

interface Run {
  ms: number;
  code: number | null;
  out: string;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Run {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ms: performance.now() - t0, code: r.status, out: r.stdout + r.stderr };
}

const berth = (args: string[], state: string) => timed(process.execPath, [CLI, ...args], { ...process.env, BERTH_STATE_DIR: state });

/** docker-compose `up -d` (plus `extra`) for each stack folder of a clone as project `projects[i]`, one after the other, in one process. */
function composeUp(dir: string, folders: string[], projects: string[], extra: string[] = []): Run {
  const loop = 'root="$1"; extra="$2"; shift 2; while [ $# -gt 0 ]; do docker-compose -p "$2" -f "$root/stacks/$1/compose.yaml" up -d $extra || exit $?; shift 2; done';
  return timed('sh', ['-c', loop, 'sh', dir, extra.join(' '), ...folders.flatMap((f, i) => [f, projects[i]!])]);
}

const must = (what: string, r: Run): Run => {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.out.slice(-3000)}`);
  return r;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cat = (container: string, path: string) => execFileSync('docker', ['exec', container, 'cat', path], { encoding: 'utf8' }).trim();
const berthYaml = 'policy:\n  prune: false\nrollout:\n  bakeSeconds: 0\n  drainSeconds: 0\n';

const fStacks = Array.from({ length: STACKS }, (_, i) => `${prefix}f${i}`);
const pStacks = Array.from({ length: STACKS }, (_, i) => `${prefix}p${i}`);
const withFiles: Record<string, string> = { 'berth.yaml': berthYaml };
const plain: Record<string, string> = { 'berth.yaml': berthYaml };
fStacks.forEach((name, i) => {
  const s = `stacks/${name}`;
  withFiles[`${s}/compose.yaml`] = [
    'services:',
    '  app:',
    '    build: ./app',
    '    command: ["sleep", "3600"]',
    '    stop_signal: SIGKILL',
    `    volumes: [${[0, 1, 2, 3].map((j) => `"./conf/f${j}.conf:/etc/f${j}.conf:ro"`).join(', ')}]`,
    '',
  ].join('\n');
  withFiles[`${s}/app/Dockerfile`] = 'FROM berth-test/busybox:1\nCOPY page.txt /page.txt\n';
  withFiles[`${s}/app/page.txt`] = `page ${i}\n`;
  for (let j = 0; j < 4; j++) withFiles[`${s}/conf/f${j}.conf`] = `conf ${i}.${j}\n`;
});
for (const name of pStacks) plain[`stacks/${name}/compose.yaml`] = 'services:\n  app:\n    image: berth-test/busybox:1\n    command: ["sleep", "3600"]\n    stop_signal: SIGKILL\n';

function cleanup(): void {
  const list = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter(Boolean);
  const cs = list(['ps', '-aq', '--filter', `name=^${prefix}`]);
  if (cs.length) execFileSync('docker', ['rm', '-f', ...cs], { stdio: 'ignore' });
  const ns = list(['network', 'ls', '-q', '--filter', `name=^${prefix}`]);
  if (ns.length) execFileSync('docker', ['network', 'rm', ...ns], { stdio: 'ignore' });
  const is = [...list(['images', '--format', '{{.Repository}}:{{.Tag}}', `berth.local/${prefix}*`]), ...list(['images', '--format', '{{.Repository}}:{{.Tag}}', `${prefix}*`])];
  if (is.length) execFileSync('docker', ['rmi', ...is], { stdio: 'ignore' });
  for (const t of temp) rmSync(t, { recursive: true, force: true });
}

/** One commit to the berth repo, pulled into the compose clone. */
function change(fRepo: string, cRepo: string, path: string, content: string, message: string): void {
  writeFileSync(join(fRepo, path), content);
  git(fRepo, 'commit', '-qam', message);
  git(cRepo, 'pull', '-q', '--ff-only');
}

async function main(): Promise<void> {
  const loadStart = load();
  const fRepo = repo(withFiles);
  const pRepo = repo(plain);
  const cfRepo = clone(fRepo);
  const cpRepo = clone(pRepo);
  const fState = mkdtempSync(join(tmpdir(), 'berth-bench-state-'));
  const pState = mkdtempSync(join(tmpdir(), 'berth-bench-state-'));
  temp.push(fState, pState);
  // docker-compose projects carry their own names (…cf<i>, …cp<i>), so the two tools never share a container.
  const cStacks = fStacks.map((s) => s.replace(/f(\d)$/, 'cf$1'));
  const cpStacks = pStacks.map((s) => s.replace(/p(\d)$/, 'cp$1'));
  const composeFiles = (extra: string[] = []) => composeUp(cfRepo, fStacks, cStacks, extra);
  const composePlain = () => composeUp(cpRepo, pStacks, cpStacks);

  log(`first deploy (unmeasured), load ${load()}`);
  must('first berth apply (files)', berth(['apply', '--repo', fRepo], fState));
  must('first berth apply (plain)', berth(['apply', '--repo', pRepo], pState));
  must('first docker-compose up (files)', composeFiles());
  must('first docker-compose up (plain)', composePlain());

  const noop = { berthFiles: [] as number[], berthPlain: [] as number[], composeFiles: [] as number[], composePlain: [] as number[] };
  for (let i = 0; i < plans; i++) {
    const a = berth(['plan', '--repo', fRepo], fState);
    const b = berth(['plan', '--repo', pRepo], pState);
    if (a.code !== 0 || b.code !== 0) throw new Error(`a no-op plan was not in sync:\n${a.out}\n${b.out}`);
    noop.berthFiles.push(a.ms);
    noop.berthPlain.push(b.ms);
    noop.composeFiles.push(must('docker-compose no-op (files)', composeFiles()).ms);
    noop.composePlain.push(must('docker-compose no-op (plain)', composePlain()).ms);
    log(`no-op ${i + 1}/${plans}: berth ${a.ms.toFixed(0)} / ${b.ms.toFixed(0)} ms, compose ${noop.composeFiles.at(-1)!.toFixed(0)} / ${noop.composePlain.at(-1)!.toFixed(0)} ms (files / plain)`);
  }

  // A mounted file changes in git.
  const conf = `stacks/${fStacks[0]}/conf/f0.conf`;
  change(fRepo, cfRepo, conf, 'conf changed\n', 'one mounted file');
  const bMount = must('berth apply (mounted file)', berth(['apply', '--repo', fRepo], fState));
  const cMount = must('docker-compose up (mounted file)', composeFiles());
  const mounted = {
    berthS: bMount.ms / 1000,
    berthSeesNew: cat(`${fStacks[0]}-app-1`, '/etc/f0.conf') === 'conf changed',
    composeS: cMount.ms / 1000,
    composeSeesNew: cat(`${cStacks[0]}_app_1`, '/etc/f0.conf') === 'conf changed',
  };
  log(`mounted file: berth ${mounted.berthS.toFixed(1)} s (new content: ${mounted.berthSeesNew}), compose ${mounted.composeS.toFixed(1)} s (new content: ${mounted.composeSeesNew})`);

  // A file of one build context changes in git.
  change(fRepo, cfRepo, `stacks/${fStacks[0]}/app/page.txt`, 'page changed\n', 'one context file');
  const bBuild = must('berth apply (context file)', berth(['apply', '--repo', fRepo], fState));
  const cUp = must('docker-compose up (context file)', composeFiles());
  const composeUpSeesNew = cat(`${cStacks[0]}_app_1`, '/page.txt') === 'page changed';
  const cBuild = must('docker-compose up --build (context file)', composeFiles(['--build']));
  const rebuild = {
    berthS: bBuild.ms / 1000,
    berthSeesNew: cat(`${fStacks[0]}-app-1`, '/page.txt') === 'page changed',
    composeUpS: cUp.ms / 1000,
    composeUpSeesNew,
    composeBuildS: cBuild.ms / 1000,
    composeBuildSeesNew: cat(`${cStacks[0]}_app_1`, '/page.txt') === 'page changed',
  };
  log(`context file: berth ${rebuild.berthS.toFixed(1)} s, compose up ${rebuild.composeUpS.toFixed(1)} s (new: ${composeUpSeesNew}), up --build ${rebuild.composeBuildS.toFixed(1)} s`);

  const m = { berthFiles: median(noop.berthFiles), berthPlain: median(noop.berthPlain), composeFiles: median(noop.composeFiles), composePlain: median(noop.composePlain) };
  const overheadPct = ((m.berthFiles - m.berthPlain) / m.berthPlain) * 100;
  const loadEnd = load();
  const yes = (b: boolean) => (b ? 'yes' : '**no**');
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const s1 = (x: number) => `${x.toFixed(1)} s`;
  const targets: Target[] = [
    { what: `no-op \`berth plan\`, ${STACKS} stacks with 20 bind-mounted files + 5 build contexts vs the same without (median)`, target: '≤ +10 %', measured: `${overheadPct >= 0 ? '+' : ''}${overheadPct.toFixed(1)} %`, met: overheadPct <= 10 },
  ];
  const L = [
    '## Repository files and builds: berth vs docker-compose (issue 13)',
    '',
    `${STACKS} stacks of one service; "files": each builds from its own context (5 contexts) and bind-mounts 4 files of the repository (20 files); "plain": the same services on berth-test/busybox:1 without mounts. ` +
      `berth: \`berth plan\` / \`berth apply\` on the git repo; docker-compose 1.29: \`up -d\` for each stack's project in one loop, on a \`git clone\` updated by \`git pull\` (the way git delivers a change). ` +
      `Medians of ${plans} runs each (no-op), single runs (changes). Load average ${loadStart} at the start, ${loadEnd} at the end.`,
    '',
    '| measure | berth | docker-compose |',
    '|---|---:|---:|',
    `| no-op pass, files (20 mounts + 5 contexts) | ${ms(m.berthFiles)} | ${ms(m.composeFiles)} |`,
    `| no-op pass, plain | ${ms(m.berthPlain)} | ${ms(m.composePlain)} |`,
    `| cost of the files and builds on a no-op pass | ${overheadPct >= 0 ? '+' : ''}${overheadPct.toFixed(1)} % | ${((m.composeFiles / m.composePlain - 1) * 100).toFixed(1)} % |`,
    `| one mounted file changed: wall time | ${s1(mounted.berthS)} | ${s1(mounted.composeS)} |`,
    `| · the container reads the new content | ${yes(mounted.berthSeesNew)} | ${yes(mounted.composeSeesNew)} |`,
    `| one build-context file changed: wall time (berth: rebuild + start-first rollout; compose: \`up -d\`) | ${s1(rebuild.berthS)} | ${s1(rebuild.composeUpS)} |`,
    `| · the container runs the new content | ${yes(rebuild.berthSeesNew)} | ${yes(rebuild.composeUpSeesNew)} |`,
    `| · compose \`up -d --build\` (rebuilds every context, cached layers) | – | ${s1(rebuild.composeBuildS)} (new content: ${yes(rebuild.composeBuildSeesNew)}) |`,
    '',
  ];
  const part: FilesPart = {
    section: 'files',
    date: new Date().toISOString(),
    markdown: L.join('\n'),
    targets,
    method: { plans, stacks: STACKS, mountedFiles: 20, buildContexts: 5 },
    noopMs: { ...m, overheadPct, runs: noop },
    mountedFile: mounted,
    contextFile: rebuild,
    load: { start: loadStart, end: loadEnd },
  };
  if (process.env.BENCH_PART) writeFileSync(process.env.BENCH_PART, JSON.stringify(part, null, 2) + '\n');
  console.log(part.markdown);
}

await runBench(main, cleanup, log);
