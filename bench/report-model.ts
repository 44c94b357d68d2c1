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
  /** p95 and parts (Docker's and berth's share of each heal) since issue 15. */
  driftHealedS: { median: number; p95?: number; runs: number[] };
  idle: { rssMedianMb: number; rssMaxMb: number; cpuPctMedian: number; windows: unknown[] };
}

/** bench/rollout.ts: start-first rollouts under a polling client. */
export interface RolloutPart extends PartBase {
  section: 'rollout';
  settings: { drainSeconds: number; pollMs: number; rollouts: number };
  medians: { wallS: number; timeToHealthyS: number; overheadS: number; disconnectS: number };
  totals: { requests: number; failedBare: number; failedBareInDisconnect: number; failedWithOneRetry: number; rolloutsWithBareFailure: number };
}

/** bench/replicas.ts: a rolling update of a scaled service, beside docker-compose. */
export interface ReplicasPart extends PartBase {
  section: 'replicas';
  settings: { replicas: number; rollouts: number; drainSeconds: number; pollMs: number };
  berth: ReplicaFigures;
  compose: ReplicaFigures | null;
}

export interface ReplicaFigures {
  wallMedianS: number;
  wallS: number[];
  requests: number;
  failedBare: number;
  failedWithOneRetry: number;
}

/** bench/files-build.ts: repository files and builds, beside docker-compose. */
export interface FilesPart extends PartBase {
  section: 'files';
  method: { plans: number; stacks: number; mountedFiles: number; buildContexts: number };
  noopMs: { berthFiles: number; berthPlain: number; composeFiles: number; composePlain: number; overheadPct: number; runs: Record<string, number[]> };
  mountedFile: { berthS: number; berthSeesNew: boolean; composeS: number; composeSeesNew: boolean };
  contextFile: { berthS: number; berthSeesNew: boolean; composeUpS: number; composeUpSeesNew: boolean; composeBuildS: number; composeBuildSeesNew: boolean };
  load: { start: string; end: string };
}

/** bench/registry.ts: pulls and `plan --refresh` against a real registry, beside docker pull / docker-compose pull. */
export interface RegistryPart extends PartBase {
  section: 'registry';
  runs: number;
  pull10Layers: { berthMedianMs: number; dockerPullMedianMs: number; berthMs: number[]; dockerMs: number[] };
  refresh50: { manifestHeadsMs: number; planMedianMs: number; planRefreshMedianMs: number; composePullMedianMs: number };
}

/** bench/forge.ts: plan previews (webhook → comment) and the dashboard's live feed. */
export interface ForgePart extends PartBase {
  section: 'forge';
  runs: number;
  previewS: { median: number; runs: number[] };
  driftOnPageS: { median: number; runs: number[] };
  driftClearedOnPageS: { median: number; runs: number[] };
  pageBytes: number;
}


/** bench/sops.ts: loading a stack of 20 SOPS files against the same files in plaintext (issue 16). */
export interface SopsPart extends PartBase {
  section: 'sops';
  settings: { files: number; runs: number };
  /** Medians, ms: the plaintext load, a cold keyring (`berth plan`), a warm one (`berth run`). */
  medians: { plainMs: number; coldMs: number; warmMs: number };
}

/** Median, p95 (nearest rank), max and sum of a set of times, ms. */
export interface Spread {
  median: number;
  p95: number;
  max: number;
  total: number;
}

/** bench/corpus.ts: `berth validate` (and lint) over every case of ../shared/realworld-compose (issue 12). */
export interface CorpusPart extends PartBase {
  section: 'corpus';
  settings: { runs: number; coldEvery: number };
  /** Load average (1, 5, 15 min) when the warm runs ended. */
  loadAverage: string;
  cases: number;
  accepted: number;
  /** The cases berth refuses, each with its error count and first error (file:line:col message). */
  refused: { name: string; errors: number; reason: string }[];
  /**
   * Over the cases, of each case's median of `runs` warm in-process runs:
   * load + lint, the load alone (what `berth validate` runs) and lint alone
   * (what `berth lint` and `plan` add; 0 for a refused case).
   */
  perCaseMs: Spread;
  loadMs: Spread;
  lintMs: Spread;
  /** The five slowest cases (load + lint), slowest first. */
  slowest: { name: string; ms: number }[];
  /** A fresh `berth validate` process every `coldEvery`-th case (node start, module load, schema compile included); null when skipped. */
  cold: { cases: string[]; medianMs: number; maxMs: number } | null;
}

/** bench/hosts.ts: a no-op pass over 3 hosts × 50 services against one host's (issue 18). */
export interface HostsPart extends PartBase {
  section: 'hosts';
  settings: { hosts: number; servicesPerHost: number; runs: number };
  /** Medians, ms: no-op `berth apply` of all hosts and of each host alone (`--host`); observe() of each host alone, of all at once (wall and each). */
  medians: { allHostsMs: number; oneHostMs: number[]; observeAloneMs: number[]; observeTogetherMs: number; observeTogetherEachMs: number[] };
  setup: { bedStartS: number; convergeS: number };
}

/** bench/swarm.ts: a rolling update of 3 replicas on a 3-node swarm, `berth apply` vs `docker service update` (issue 18). */
export interface SwarmPart extends PartBase {
  section: 'swarm';
  settings: { replicas: number; runs: number };
  /** Medians, ms: Swarm alone (command to every task on the new image), `berth apply` (process wall), and berth − Swarm per run. */
  medians: { swarmMs: number; berthMs: number; overheadMs: number };
  setup: { swarmStartS: number; convergeS: number };
}

/** Every part by its section name. */
export interface Parts {
  noop: NoopPart;
  controller: ControllerPart;
  rollout: RolloutPart;
  replicas: ReplicasPart;
  files: FilesPart;
  forge: ForgePart;
  sops: SopsPart;
  registry: RegistryPart;
  corpus: CorpusPart;
  hosts: HostsPart;
  swarm: SwarmPart;
}
export type PartName = keyof Parts;
export type Part = Parts[PartName];

/**
 * The benches `npm run bench` runs, in this order, and the order of their
 * sections in latest.md and latest.json: adding a bench is a line here, its
 * part above and its summary in report-markdown.ts.
 */
export const PARTS: readonly { name: PartName; script: string; what: string }[] = [
  { name: 'noop', script: 'run.js', what: 'no-op pass at N = 10/50/200 vs docker-compose, pure planner' },
  { name: 'controller', script: 'controller.js', what: 'berth run: push → converged, drift detection, idle RSS/CPU' },
  { name: 'rollout', script: 'rollout.js', what: 'start-first rollout duration and failed requests' },
  { name: 'replicas', script: 'replicas.js', what: 'rolling update of 3 replicas beside docker-compose' },
  { name: 'files', script: 'files-build.js', what: 'mounted files and build contexts beside docker-compose' },
  { name: 'forge', script: 'forge.js', what: 'plan previews and the dashboard\'s live feed' },
  { name: 'sops', script: 'sops.js', what: 'load of 20 SOPS files vs the same files in plaintext' },
  { name: 'registry', script: 'registry.js', what: '10-layer pull vs docker pull, plan --refresh over 50 services vs docker-compose pull' },
  { name: 'corpus', script: 'corpus.js', what: 'berth validate + lint over every real-world Compose case' },
  { name: 'hosts', script: 'hosts.js', what: 'no-op pass over 3 hosts × 50 services (private engines) vs one host' },
  { name: 'swarm', script: 'swarm.js', what: 'swarm rolling update of 3 replicas: berth apply vs docker service update' },
];

/** Each bench's part; null: it ran and failed; absent: a report from before the bench existed. */
export type Benches = { [K in PartName]?: Parts[K] | null };
