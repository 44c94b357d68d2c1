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

export interface HistoryEntry {
  at: string;
  revision: string | null;
  result: 'converged' | 'failed' | 'in-sync';
  summary: { create: number; recreate: number; update: number; remove: number };
  failed: string[];
  durationMs: number;
}
