import { describe, expect, it } from 'vitest';
import { renderReport, type Report } from '../../bench/report-markdown.js';
import type { ControllerPart, NoopPart, RolloutPart } from '../../bench/report-model.js';

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
});
