import type { AppliedRecord } from '../model/applied.js';

/** Where berth keeps what it applied (BERTH_STATE_DIR). */
export interface StateStore {
  readonly dir: string;
  readApplied(): Promise<AppliedRecord | null>;
  writeApplied(record: AppliedRecord): Promise<void>;
  appendHistory(entry: HistoryEntry): Promise<void>;
  readHistory(limit: number): Promise<HistoryEntry[]>;
  /** A random salt for hashing environment values, created once per state dir. */
  salt(): Promise<string>;
  /** Exclusive lock for applying; resolves with a release function, rejects when another live process holds it. */
  lock(): Promise<() => Promise<void>>;
  readJson<T>(name: string): Promise<T | null>;
  writeJson(name: string, value: unknown): Promise<void>;
}

/**
 * One apply, as `berth history` shows it. The fields after `durationMs` came
 * later: entries written before them lack them, and readers must cope.
 */
export interface HistoryEntry {
  at: string;
  revision: string | null;
  result: 'converged' | 'failed' | 'in-sync';
  summary: { create: number; recreate: number; update: number; remove: number };
  failed: string[];
  durationMs: number;
  /** Commit subject and author, when the source is a git commit. */
  subject?: string;
  author?: string;
  /** Op count per op kind (`service.recreate: 2`). */
  opsByKind?: Record<string, number>;
  /** Rollouts that did not promote the new container, with the gate that stopped them. */
  rollbacks?: { object: string; gate: string; result: string }[];
  /** The plan that ran, each op with its outcome. Reasons are the plan's, never a value. */
  ops?: HistoryOp[];
}

export interface HistoryOp {
  id: string;
  wave: string;
  kind: string;
  action: string;
  object: string;
  reasons: string[];
  status: 'ok' | 'failed' | 'skipped';
  durationMs: number;
  error?: string;
  rollout?: { strategy: string; result: string; gate?: string };
}
