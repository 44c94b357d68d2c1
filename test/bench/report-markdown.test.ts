import { describe, expect, it } from 'vitest';
import { corpusSection, renderReport, reportJson, type Report } from '../../bench/report-markdown.js';
import { PARTS, type ControllerPart, type CorpusPart, type FilesPart, type NoopPart, type RegistryPart, type RolloutPart, type SopsPart } from '../../bench/report-model.js';

const tool = (wall: number, calls: number) => ({ wallMedianS: wall, wallMinS: wall, cpuMedianS: wall, maxRssMedianKb: 61_440, apiCalls: calls, listCalls: Math.min(calls, 4), allNoop: true });
const noop: NoopPart = {
  section: 'noop',
  date: '2026-01-01T00:00:00Z',
  markdown: '## No-op pass\n\nnoop details\n',
  targets: [{ what: 'no-op speed-up N=50', target: '≥ 10×', measured: '11.0×', met: true }],
  method: { runs: 5 },
  sizes: [{ n: 50, berth: tool(0.4, 4), compose: tool(4.4, 380), speedup: 11 }],
  planner: { services: 1000, runs: 7, firstS: 0.034, medianS: 0.014, minS: 0.01 },
};
const rollout: RolloutPart = {
  section: 'rollout',
  date: '2026-01-01T00:00:00Z',
  markdown: '## Start-first rollout\n\nrollout details\n',
  targets: [{ what: 'requests failed, no retry', target: '0', measured: '1 of 500', met: false }],
  settings: { drainSeconds: 2, pollMs: 50, rollouts: 7 },
  medians: { wallS: 4.5, timeToHealthyS: 1.1, overheadS: 1.4, disconnectS: 0.2 },
  totals: { requests: 500, failedBare: 1, failedBareInDisconnect: 1, failedWithOneRetry: 0, rolloutsWithBareFailure: 1 },
};
const report = (controller: ControllerPart | null): Report => ({
  date: '2026-01-01T00:10:00Z',
  machine: { cores: '2', cpu: 'EPYC', memory: '23.5 GiB', kernel: '6.1', docker: '20.10.24', compose: '1.29.2', node: 'v20.20.2', berth: 'abc1234' },
  load: { start: '1.00 2.00 3.00', end: '4.00 5.00 6.00' },
  durationS: 600,
  benches: { noop, controller, rollout },
  failures: controller ? [] : [{ bench: 'controller.js', reason: 'exit 1' }],
});

describe('renderReport', () => {
  it('puts machine, load, summary figures with verdicts, goals and every section into one document', () => {
    const md = renderReport(report(null));
    expect(md).toContain('2 cores (EPYC)');
    expect(md).toContain('1.00 2.00 3.00 at the start, 4.00 5.00 6.00 at the end');
    expect(md).toContain('| 50 | 0.400 s / 4.400 s | 11.0× |');
    expect(md).toMatch(/overhead: apply − healthy − drain \| 1\.400 s \| 7 \| ≤ 1 s \| \*\*not met\*\* \|/);
    expect(md).toMatch(/without retry.*\| 1 of 500 \(1\) \| 7 \| 0 \| \*\*not met\*\* \|/);
    expect(md).toMatch(/retrying once.*\| 0 of 500 \| 7 \| 0 \| met \|/);
    expect(md).toContain('| requests failed, no retry | 0 | 1 of 500 | **not met** |');
    expect(md).toContain('every median is of at least 5 runs, single measurements say so.');
    expect(md.indexOf('noop details')).toBeLessThan(md.indexOf('rollout details'));
  });

  it('says which bench is missing rather than leaving its rows out', () => {
    const md = renderReport(report(null));
    expect(md).toContain('**Incomplete run:** controller.js: exit 1.');
    expect(md).toMatch(/`berth run`: push → converged, drift detection, idle RSS \| not measured/);
  });

  it('the SOPS decryption cost: a summary row (cold · warm · plaintext) and its section; a failed SOPS bench says so', () => {
    const sops: SopsPart = {
      section: 'sops',
      date: '2026-01-01T00:00:00Z',
      markdown: '## SOPS decryption cost\n\nsops details\n',
      targets: [],
      settings: { files: 20, runs: 7 },
      medians: { plainMs: 24.3, coldMs: 295.3, warmMs: 69.1 },
    };
    const md = renderReport({ ...report(null), benches: { noop, controller: null, rollout, sops } });
    expect(md).toMatch(/load of 20 SOPS files vs plaintext: cold keyring .* \| 295\.3 ms · 69\.1 ms · 24\.3 ms \| 7 \|/);
    expect(md.indexOf('rollout details')).toBeLessThan(md.indexOf('sops details'));
    expect(renderReport({ ...report(null), benches: { noop, controller: null, rollout, sops: null } })).toMatch(/load of 20 SOPS files vs plaintext \| not measured/);
  });

  it('places the files-and-builds section last, with its goal in the goals table', () => {
    const files = {
      section: 'files',
      date: '2026-01-01T00:00:00Z',
      markdown: '## Repository files and builds\n\nfiles details\n',
      targets: [{ what: 'no-op with files vs without', target: '≤ +10 %', measured: '+4.0 %', met: true }],
    } as FilesPart;
    const r = report(null);
    const md = renderReport({ ...r, benches: { ...r.benches, files } });
    expect(md).toContain('| no-op with files vs without | ≤ +10 % | +4.0 % | met |');
    expect(md.indexOf('rollout details')).toBeLessThan(md.indexOf('files details'));
  });
});

describe('renderReport: the registry section', () => {
  it('puts berth and docker side by side for the pull and the 50-tag check, and places the section', () => {
    const registry: RegistryPart = {
      section: 'registry',
      date: '2026-01-01T00:00:00Z',
      markdown: '## Registry (issue 14)\n\nregistry details\n',
      targets: [],
      runs: 3,
      pull10Layers: { berthMedianMs: 1234, dockerPullMedianMs: 1300, berthMs: [1234], dockerMs: [1300] },
      refresh50: { manifestHeadsMs: 90, planMedianMs: 400, planRefreshMedianMs: 520, composePullMedianMs: 3100 },
    };
    const md = renderReport({ ...report(null), benches: { noop, controller: null, rollout, registry } });
    expect(md).toContain('| pull of a 10-layer image (prepare phase vs `docker pull`) | 1.234 s | 1.300 s | 3 |');
    expect(md).toContain('| no-op check of 50 tags (`berth plan --refresh` vs `docker-compose pull`) | 0.520 s | 3.100 s | 3 |');
    expect(md).toContain('registry details');
    expect(renderReport(report(null))).toMatch(/### Registry: berth vs docker \/ docker-compose\n\nnot measured/);
  });
});

const spread = (median: number, p95: number, max: number, total: number) => ({ median, p95, max, total });
/** The figures bench/corpus.ts hands over (it renders its section from them). */
const figures: Omit<CorpusPart, 'markdown'> = {
  section: 'corpus',
  date: '2026-01-01T00:00:00Z',
  targets: [{ what: 'real-world Compose cases refused by `berth validate`', target: '≤ 2', measured: '1 of 79', met: true }],
  settings: { runs: 5, coldEvery: 10 },
  loadAverage: '1.50 1.20 0.90',
  cases: 79,
  accepted: 78,
  refused: [{ name: 'compose-go-loader-with-version', errors: 1, reason: 'stacks/x/compose.yaml:13:12: error: services.web.build: a | b [build]' }],
  perCaseMs: spread(4.24, 43.1, 146.2, 731.4),
  loadMs: spread(4.1, 40, 140, 640),
  lintMs: spread(0.12, 0.2, 0.25, 8),
  slowest: [
    { name: 'compose-go-loader-with-version', ms: 146.2 },
    { name: 'awesome-compose-nginx-golang', ms: 31.04 },
  ],
  cold: { cases: ['a', 'b', 'c'], medianMs: 627.4, maxMs: 928 },
};

describe('the real-world corpus part', () => {
  it('renders its section: counts, the spread table, the slowest cases, each refusal with its first error, the cold runs', () => {
    expect(corpusSection(figures)).toBe(
      [
        '## Real-world Compose corpus (issue 12)',
        '',
        'Every case of ../shared/realworld-compose (79 Compose projects nobody on this project wrote: docker/awesome-compose, compose-go and docker/compose fixtures), read in place. ' +
          'Each case is loaded as `berth validate` loads it (parse, interpolation, schema, normalization, SOPS check) and, when accepted, linted as `berth lint` and `plan` lint it, ' +
          "in one process with the compiled schemas kept, after one warm-up pass over the corpus; a case's time is the median of its 5 runs, and the figures below are over the cases. " +
          'Load average 1.50 1.20 0.90.',
        '',
        '**78 of 79 accepted**, 1 refused.',
        '',
        '| per case | median | p95 | max | whole corpus |',
        '|---|---:|---:|---:|---:|',
        '| load + lint | 4.2 ms | 43 ms | 146 ms | 731 ms |',
        '| load (`berth validate`) | 4.1 ms | 40 ms | 140 ms | 640 ms |',
        '| lint | 0.1 ms | 0.2 ms | 0.3 ms | 8.0 ms |',
        '',
        'Slowest cases (load + lint):',
        '',
        '| case | time |',
        '|---|---:|',
        '| compose-go-loader-with-version | 146 ms |',
        '| awesome-compose-nginx-golang | 31 ms |',
        '',
        'Refused, with the first error:',
        '',
        '| case | errors | first error |',
        '|---|---:|---|',
        '| compose-go-loader-with-version | 1 | stacks/x/compose.yaml:13:12: error: services.web.build: a \\| b [build] |',
        '',
        'A fresh `berth validate --repo <case>` process (node start, module load, schema compile, the bundle in dist/bundle) for every 10th case (3 cases): ' +
          'median 627 ms, max 928 ms; each exited as the in-process load decided (0 accepted, 1 refused).',
        '',
      ].join('\n'),
    );
  });

  it('leaves out the refusals and cold runs it does not have', () => {
    const md = corpusSection({ ...figures, accepted: 79, refused: [], cold: null });
    expect(md).toContain('**79 of 79 accepted**, 0 refused.');
    expect(md).not.toContain('Refused, with the first error');
    expect(md).not.toContain('A fresh `berth validate');
  });

  it('puts a summary with the refusal reasons in the report, its goal in the goals table and its section last', () => {
    const corpus: CorpusPart = { ...figures, markdown: corpusSection(figures) };
    const r = report(null);
    const md = renderReport({ ...r, benches: { ...r.benches, corpus } });
    expect(md).toContain(
      '### Real-world Compose corpus: `berth validate`\n\n**78 of 79 cases accepted**, 1 refused. Refused: compose-go-loader-with-version (stacks/x/compose.yaml:13:12: error: services.web.build: a | b [build]). ' +
        'Per case (load + lint, in one warm process, median of 5 runs each): median 4.2 ms, p95 43 ms, max 146 ms; the whole corpus 731 ms. ' +
        'A fresh `berth validate` process: median 627 ms over 3 of the cases.\n',
    );
    expect(md).toContain('| real-world Compose cases refused by `berth validate` | ≤ 2 | 1 of 79 | met |');
    expect(md.indexOf('rollout details')).toBeLessThan(md.indexOf('## Real-world Compose corpus (issue 12)'));
  });

  it('says a failed corpus bench was not measured; a report from before it has no such heading', () => {
    const r = report(null);
    expect(renderReport({ ...r, benches: { ...r.benches, corpus: null } })).toMatch(/### Real-world Compose corpus: `berth validate`\n\nnot measured/);
    expect(renderReport(r)).not.toContain('Real-world Compose corpus');
  });
});

describe('reportJson (latest.json)', () => {
  it('keeps every bench under its name in the benches\' order, null when it failed, without the markdown, and all goals', () => {
    const corpus: CorpusPart = { ...figures, markdown: '## corpus\n' };
    const r = report(null);
    const json = reportJson({ ...r, benches: { ...r.benches, corpus } });
    expect(Object.keys(json)).toEqual(['date', 'machine', 'load', 'durationS', 'benches', 'failures', 'targets']);
    expect(Object.keys(json.benches)).toEqual(['noop', 'controller', 'rollout', 'replicas', 'files', 'forge', 'sops', 'registry', 'corpus', 'hosts', 'swarm']);
    expect(Object.keys(json.benches)).toEqual(PARTS.map((p) => p.name));
    expect(json.benches.controller).toBeNull();
    expect(json.benches.replicas).toBeNull();
    expect(json.benches.corpus).not.toHaveProperty('markdown');
    expect(json.benches.corpus).toMatchObject({ cases: 79, accepted: 78 });
    expect(json.targets.map((t) => t.what)).toEqual(['no-op speed-up N=50', 'requests failed, no retry', 'real-world Compose cases refused by `berth validate`']);
  });
});
