// What each benchmark hands to bench/report.ts: JSON in the file BENCH_PART
// names. Only the fields the consolidated report reads are typed here; the
// files carry more (every run, the method), and latest.json keeps all of it.

/** One line of a goals table: a goal from an issue and what was measured against it. */
export interface Target {
  what: string;
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

interface PartBase {
  date: string;
  /** The section as markdown (its own tables and method), placed as is in latest.md. */
  markdown: string;
  targets: Target[];
}

export interface ToolFigures {
  wallMedianS: number;
  wallMinS: number;
  cpuMedianS: number | null;
  maxRssMedianKb: number | null;
  apiCalls: number;
  listCalls: number;
  allNoop: boolean;
}

/** bench/run.ts: no-op pass against docker-compose, and the pure planner. */
export interface NoopPart extends PartBase {
  section: 'noop';
  method: { runs: number };
  sizes: { n: number; berth: ToolFigures; compose: ToolFigures; speedup: number }[];
  planner: { services: number; runs: number; firstS: number; medianS: number; minS: number } | null;
}

/** bench/controller.ts: `berth run`. */
export interface ControllerPart extends PartBase {
  section: 'controller';
  runs: number;
  pushToConvergedS: { median: number; runs: number[] };
  driftDetectedS: { median: number; runs: number[] };
  driftHealedS: { median: number; runs: number[] };
  idle: { rssMedianMb: number; rssMaxMb: number; cpuPctMedian: number; windows: unknown[] };
}

/** bench/rollout.ts: start-first rollouts under a polling client. */
export interface RolloutPart extends PartBase {
  section: 'rollout';
  settings: { drainSeconds: number; pollMs: number; rollouts: number };
  medians: { wallS: number; timeToHealthyS: number; overheadS: number; disconnectS: number };
  totals: { requests: number; failedBare: number; failedBareInDisconnect: number; failedWithOneRetry: number; rolloutsWithBareFailure: number };
}

export type Part = NoopPart | ControllerPart | RolloutPart;
