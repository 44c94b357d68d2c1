// The consolidated report (bench/results/latest.md) from the benches' JSON: a
// header with the machine, two summary tables, then each bench's own section.
// Pure, so the report can be rebuilt from a results JSON and checked in tests.
import type { ControllerPart, NoopPart, RolloutPart, Target } from './report-model.js';

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
  benches: { noop: NoopPart | null; controller: ControllerPart | null; rollout: RolloutPart | null };
  /** Benches that did not finish, with why (exit code, signal, missing output). */
  failures: { bench: string; reason: string }[];
}

const s3 = (x: number) => `${x.toFixed(3)} s`;
const s2 = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)} s`);
const mb = (kb: number | null) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const verdict = (met: boolean | null) => (met === null ? '—' : met ? 'met' : '**not met**');
const NOT_MEASURED = 'not measured (bench failed)';

/** Every goal of every bench, in one list (latest.json keeps it too). */
export function allTargets(b: Report['benches']): Target[] {
  return [...(b.noop?.targets ?? []), ...(b.controller?.targets ?? []), ...(b.rollout?.targets ?? [])];
}

/** The fewest runs any median in the report rests on (single-shot figures are labelled where they appear). */
function fewestRuns(b: Report['benches']): number | null {
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

  L.push('## Summary', '', '### No-op pass: `berth plan` vs `docker-compose up -d`', '');
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
    L.push(`| drift healed (\`docker stop\` → running again) | ${s3(c.driftHealedS.median)} | ${c.driftHealedS.runs.length} | – | |`);
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
  L.push('');

  const goals = allTargets(r.benches);
  if (goals.length) {
    L.push('### Goals', '', '| goal | target | measured | |', '|---|---|---|---|');
    for (const t of goals) L.push(`| ${t.what} | ${t.target} | ${t.measured} | ${verdict(t.met)} |`);
    L.push('');
  }

  for (const part of [noop, controller, rollout]) if (part) L.push(part.markdown.replace(/\n*$/, ''), '');
  return L.join('\n');
}
