// The consolidated report (bench/results/latest.md) from the benches' JSON: a
// header with the machine, two summary tables, then each bench's own section.
// Pure, so the report can be rebuilt from a results JSON and checked in tests.
import { PARTS, type Benches, type CorpusPart, type Part, type PartName, type Target } from './report-model.js';

export interface Machine {
  cores: string;
  cpu: string;
  memory: string;
  kernel: string;
  docker: string;
  compose: string;
  node: string;
  berth: string;
}

export interface Report {
  date: string;
  machine: Machine;
  load: { start: string; end: string };
  durationS: number;
  benches: Benches;
  /** Benches that did not finish, with why (exit code, signal, missing output). */
  failures: { bench: string; reason: string }[];
}

const s3 = (x: number) => `${x.toFixed(3)} s`;
const s2 = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)} s`);
const mb = (kb: number | null) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const verdict = (met: boolean | null) => (met === null ? '—' : met ? 'met' : '**not met**');
const NOT_MEASURED = 'not measured (bench failed)';

/** Every goal of every bench, in the benches' order, in one list (latest.json keeps it too). */
export function allTargets(b: Benches): Target[] {
  return PARTS.flatMap(({ name }) => b[name]?.targets ?? []);
}

/**
 * latest.json: the report with every bench's figures under its name (null when
 * it failed), in the benches' order, and all goals; the sections' markdown is
 * in latest.md, not repeated here.
 */
export function reportJson(r: Report): Omit<Report, 'benches'> & { benches: Record<PartName, Record<string, unknown> | null>; targets: Target[] } {
  const strip = (p: Part | null | undefined) => (p ? Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'markdown')) : null);
  const benches = Object.fromEntries(PARTS.map(({ name }) => [name, strip(r.benches[name])])) as Record<PartName, Record<string, unknown> | null>;
  return { ...r, benches, targets: allTargets(r.benches) };
}

/** The fewest runs any median in the report rests on (single-shot figures are labelled where they appear). */
function fewestRuns(b: Benches): number | null {
  const runs = [b.noop?.method.runs, b.controller?.runs, b.controller?.idle.windows.length, b.rollout?.settings.rollouts].filter((n): n is number => n !== undefined);
  return runs.length ? Math.min(...runs) : null;
}

export function renderReport(r: Report): string {
  const { noop, controller, rollout } = r.benches;
  const m = r.machine;
  const fewest = fewestRuns(r.benches);
  const L: string[] = [];
  L.push(`# berth benchmarks — ${r.date}`, '');
  L.push(
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memory} RAM, Linux ${m.kernel}; Docker Engine ${m.docker}; docker-compose ${m.compose}; node ${m.node}; berth ${m.berth}.`,
    '',
    `Load average (1, 5, 15 min): ${r.load.start} at the start, ${r.load.end} at the end. ` +
      'The CPUs and the Docker engine are shared with other work (test suites of other branches), so absolute times carry that load; ' +
      'each section gives its own load average, and ranges show the spread. ' +
      `All benches ran in this one \`npm run bench\` (${(r.durationS / 60).toFixed(1)} min), one after the other` +
      (fewest === null ? '.' : `; every median is of at least ${fewest} runs${fewest < 5 ? ' (**fewer than 5: a quick run, not a reference**)' : ''}, single measurements say so.`),
    '',
  );
  if (r.failures.length) {
    L.push('**Incomplete run:** ' + r.failures.map((f) => `${f.bench}: ${f.reason}`).join('; ') + '.', '');
  }

  L.push('## Summary', '', '### No-op pass, one stack of N services: one `berth apply` vs one `docker-compose up -d`', '');
  if (noop) {
    L.push(`Median of ${noop.method.runs} runs each; CPU user+sys and peak RSS from GNU time; API calls counted in one extra run through a proxy.`, '');
    L.push('| services | wall berth / compose | speed-up | CPU berth / compose | peak RSS berth / compose | API calls berth (list) / compose |', '|---:|---:|---:|---:|---:|---:|');
    for (const s of noop.sizes) {
      L.push(
        `| ${s.n} | ${s3(s.berth.wallMedianS)} / ${s3(s.compose.wallMedianS)} | ${s.speedup.toFixed(1)}× | ${s2(s.berth.cpuMedianS)} / ${s2(s.compose.cpuMedianS)} | ` +
          `${mb(s.berth.maxRssMedianKb)} / ${mb(s.compose.maxRssMedianKb)} | ${s.berth.apiCalls} (${s.berth.listCalls}) / ${s.compose.apiCalls} |`,
      );
    }
    L.push('');
  } else L.push(NOT_MEASURED, '');

  L.push('### Controller, planner, rollout', '');
  L.push('| figure | median | runs | target | |', '|---|---:|---:|---|---|');
  if (noop?.planner) {
    const p = noop.planner;
    L.push(`| pure planner, ${p.services} services: first call (cold) · median | ${s3(p.firstS)} · ${s3(p.medianS)} | ${p.runs} | ≤ 0.5 s | ${verdict(p.firstS <= 0.5)} |`);
  } else L.push(`| pure planner, 1000 services | ${NOT_MEASURED} | | ≤ 0.5 s | — |`);
  if (controller) {
    const c = controller;
    const drift = c.targets.find((t) => t.what.startsWith('drift detected'));
    const rss = c.targets.find((t) => t.what.startsWith('idle RSS'));
    // The bench's change (web v1↔v2) is a start-first rollout: its health wait and drain are in this figure.
    L.push(`| push → converged (\`berth run\`: push, signed webhook, start-first rollout of the changed service incl. health and 2 s drain) | ${s3(c.pushToConvergedS.median)} | ${c.pushToConvergedS.runs.length} | – | |`);
    L.push(`| drift detected (\`docker stop\` → berth reports it) | ${s3(c.driftDetectedS.median)} | ${c.driftDetectedS.runs.length} | ${drift?.target ?? '–'} | ${verdict(drift?.met ?? null)} |`);
    const heal = c.targets.find((t) => t.what.startsWith('drift healed'));
    L.push(`| drift healed (\`docker stop\` → running again)${c.driftHealedS.p95 !== undefined ? `, p95 ${s3(c.driftHealedS.p95)}` : ''} | ${s3(c.driftHealedS.median)} | ${c.driftHealedS.runs.length} | ${heal?.target ?? '–'} | ${verdict(heal?.met ?? null)} |`);
    L.push(`| idle RSS of \`berth run\` | ${c.idle.rssMedianMb.toFixed(1)} MB | ${c.idle.windows.length} | ${rss?.target ?? '–'} | ${verdict(rss?.met ?? null)} |`);
    L.push(`| idle CPU of \`berth run\` | ${c.idle.cpuPctMedian.toFixed(2)} % | ${c.idle.windows.length} | – | |`);
  } else L.push(`| \`berth run\`: push → converged, drift detection, idle RSS | ${NOT_MEASURED} | | | |`);
  if (rollout) {
    const o = rollout;
    const n = o.settings.rollouts;
    L.push(`| start-first rollout: \`berth apply\` wall time | ${s3(o.medians.wallS)} | ${n} | – | |`);
    L.push(`| · of which the new container's time to healthy (1 s healthcheck) | ${s3(o.medians.timeToHealthyS)} | ${n} | – | |`);
    L.push(`| · of which the drain (\`drainSeconds\`, configured) | ${s3(o.settings.drainSeconds)} | | – | |`);
    L.push(`| · overhead: apply − healthy − drain | ${s3(o.medians.overheadS)} | ${n} | ≤ 1 s | ${verdict(o.medians.overheadS <= 1)} |`);
    L.push(
      `| requests failed during the switch, client **without retry** (sum; of them in the disconnect window) | ${o.totals.failedBare} of ${o.totals.requests} (${o.totals.failedBareInDisconnect}) | ${n} | 0 | ${verdict(o.totals.failedBare === 0)} |`,
    );
    L.push(`| requests failed during the switch, client **retrying once** (sum) | ${o.totals.failedWithOneRetry} of ${o.totals.requests} | ${n} | 0 | ${verdict(o.totals.failedWithOneRetry === 0)} |`);
  } else L.push(`| start-first rollout: duration, failed requests | ${NOT_MEASURED} | | | |`);
  const sops = r.benches.sops;
  if (sops) {
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    const { plainMs, coldMs, warmMs } = sops.medians;
    L.push(`| load of ${sops.settings.files} SOPS files vs plaintext: cold keyring (\`berth plan\`) · warm (\`berth run\`) · plaintext | ${ms(coldMs)} · ${ms(warmMs)} · ${ms(plainMs)} | ${sops.settings.runs} | – | |`);
  } else if (r.benches.sops === null) L.push(`| load of 20 SOPS files vs plaintext | ${NOT_MEASURED} | | | |`);
  const hosts = r.benches.hosts;
  if (hosts) {
    const one = Math.max(...hosts.medians.oneHostMs);
    const ratio = hosts.medians.allHostsMs / one;
    L.push(`| no-op \`berth apply\` over ${hosts.settings.hosts} hosts × ${hosts.settings.servicesPerHost} services · the slowest host alone (\`--host\`) | ${s2(hosts.medians.allHostsMs / 1000)} · ${s2(one / 1000)} (${ratio.toFixed(2)}×) | ${hosts.settings.runs} | ≤ 1.5× | ${verdict(ratio <= 1.5)} |`);
  } else if (hosts === null) L.push(`| no-op pass over 3 hosts × 50 services | ${NOT_MEASURED} | | | |`);
  const sw = r.benches.swarm;
  if (sw) {
    const over = sw.medians.overheadMs / 1000;
    L.push(`| swarm rolling update of ${sw.settings.replicas} replicas: \`berth apply\` · \`docker service update\` alone · berth's overhead | ${s2(sw.medians.berthMs / 1000)} · ${s2(sw.medians.swarmMs / 1000)} · ${s2(over)} | ${sw.settings.runs} | ≤ 2 s | ${verdict(over <= 2)} |`);
  } else if (sw === null) L.push(`| swarm rolling update of 3 replicas vs Swarm alone | ${NOT_MEASURED} | | | |`);
  L.push('');

  L.push('### Registry: berth vs docker / docker-compose', '');
  const g = r.benches.registry;
  if (g) {
    const ms = (x: number) => s3(x / 1000);
    L.push('| work | berth | docker | runs |', '|---|---:|---:|---:|');
    L.push(`| pull of a 10-layer image (prepare phase vs \`docker pull\`) | ${ms(g.pull10Layers.berthMedianMs)} | ${ms(g.pull10Layers.dockerPullMedianMs)} | ${g.runs} |`);
    L.push(`| no-op check of 50 tags (\`berth plan --refresh\` vs \`docker-compose pull\`) | ${ms(g.refresh50.planRefreshMedianMs)} | ${ms(g.refresh50.composePullMedianMs)} | 3 |`);
  } else L.push(NOT_MEASURED);
  L.push('');

  // Absent (a report from before the corpus bench): no heading at all.
  if (r.benches.corpus !== undefined) L.push('### Real-world Compose corpus: `berth validate`', '', corpusSummary(r.benches.corpus), '');

  const goals = allTargets(r.benches);
  if (goals.length) {
    L.push('### Goals', '', '| goal | target | measured | |', '|---|---|---|---|');
    for (const t of goals) L.push(`| ${t.what} | ${t.target} | ${t.measured} | ${verdict(t.met)} |`);
    L.push('');
  }

  for (const { name } of PARTS) {
    const part = r.benches[name];
    if (part) L.push(part.markdown.replace(/\n*$/, ''), '');
  }
  return L.join('\n');
}

const corpusMs = (x: number) => `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;

/** The summary: how many cases berth accepts, why it refuses the rest, and what a case costs. */
export function corpusSummary(c: CorpusPart | null): string {
  if (!c) return NOT_MEASURED;
  const ms = corpusMs;
  const refusals = c.refused.length ? ` Refused: ${c.refused.map((x) => `${x.name} (${x.reason})`).join('; ')}.` : '';
  const cold = c.cold ? ` A fresh \`berth validate\` process: median ${ms(c.cold.medianMs)} over ${c.cold.cases.length} of the cases.` : '';
  return (
    `**${c.accepted} of ${c.cases} cases accepted**, ${c.refused.length} refused.${refusals} ` +
    `Per case (load + lint, in one warm process, median of ${c.settings.runs} runs each): median ${ms(c.perCaseMs.median)}, p95 ${ms(c.perCaseMs.p95)}, max ${ms(c.perCaseMs.max)}; ` +
    `the whole corpus ${ms(c.perCaseMs.total)}.${cold}`
  );
}

/** bench/corpus.ts's section of latest.md, from its figures. */
export function corpusSection(c: Omit<CorpusPart, 'markdown'>): string {
  const ms = corpusMs;
  const row = (what: string, x: CorpusPart['perCaseMs']) => `| ${what} | ${ms(x.median)} | ${ms(x.p95)} | ${ms(x.max)} | ${ms(x.total)} |`;
  const L = [
    '## Real-world Compose corpus (issue 12)',
    '',
    `Every case of ../shared/realworld-compose (${c.cases} Compose projects nobody on this project wrote: docker/awesome-compose, compose-go and docker/compose fixtures), read in place. ` +
      'Each case is loaded as `berth validate` loads it (parse, interpolation, schema, normalization, SOPS check) and, when accepted, linted as `berth lint` and `plan` lint it, ' +
      `in one process with the compiled schemas kept, after one warm-up pass over the corpus; a case's time is the median of its ${c.settings.runs} runs, and the figures below are over the cases. ` +
      `Load average ${c.loadAverage}.`,
    '',
    `**${c.accepted} of ${c.cases} accepted**, ${c.refused.length} refused.`,
    '',
    '| per case | median | p95 | max | whole corpus |',
    '|---|---:|---:|---:|---:|',
    row('load + lint', c.perCaseMs),
    row('load (`berth validate`)', c.loadMs),
    row('lint', c.lintMs),
    '',
    'Slowest cases (load + lint):',
    '',
    '| case | time |',
    '|---|---:|',
    ...c.slowest.map((x) => `| ${x.name} | ${ms(x.ms)} |`),
    '',
  ];
  if (c.refused.length) {
    L.push('Refused, with the first error:', '', '| case | errors | first error |', '|---|---:|---|');
    for (const x of c.refused) L.push(`| ${x.name} | ${x.errors} | ${x.reason.replace(/\|/g, '\\|')} |`);
    L.push('');
  }
  if (c.cold) {
    L.push(
      `A fresh \`berth validate --repo <case>\` process (node start, module load, schema compile, the bundle in dist/bundle) for every ${c.settings.coldEvery}th case ` +
        `(${c.cold.cases.length} cases): median ${ms(c.cold.medianMs)}, max ${ms(c.cold.maxMs)}; each exited as the in-process load decided (0 accepted, 1 refused).`,
      '',
    );
  }
  return L.join('\n');
}
