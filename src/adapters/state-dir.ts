import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AppliedRecord } from '../model/applied.js';
import type { HistoryEntry, StateStore } from '../ports/state.js';

/** `BERTH_STATE_DIR`, else `$XDG_STATE_HOME/berth`, else `~/.local/state/berth`. */
export function defaultStateDir(env: Record<string, string | undefined>): string {
  if (env.BERTH_STATE_DIR) return env.BERTH_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'berth');
  return join(homedir(), '.local', 'state', 'berth');
}

/** Told once per damaged state file: where it was, where it was moved, why it could not be read. */
export type DamagedStateReport = (d: { file: string; movedTo: string | null; reason: string }) => void;

/**
 * The state dir on the local file system. Files are written atomically
 * (temp file + rename) with mode 0600: a crash never leaves half a record,
 * and the record's hashes stay readable by root only.
 *
 * Every state file can be rebuilt (the applied record and the drift ledger
 * from the host's labels and git, the hold and the history start empty), so
 * a file that does not parse — a disk that lied, a hand edit, a truncation —
 * is moved aside as `<name>.damaged-<time>` and read as absent: reported
 * once, not an error on every pass (a crash loop under `berth run`).
 */
/** history.jsonl past this size is cut to its newest half (a few thousand deploys stay). */
export const HISTORY_MAX_BYTES = 4 * 1024 * 1024;

export class StateDir implements StateStore {
  /**
   * applied.json as last read or written, with the file's identity then: a no-op pass of
   * `berth run` reads the record every few seconds, and for a thousand services parsing it
   * cost more than the rest of the pass. Another process writing the file changes its identity.
   */
  private applied: { stamp: string; record: AppliedRecord | null } | null = null;

  constructor(
    readonly dir: string,
    private readonly onDamaged: DamagedStateReport = () => {},
    private readonly historyMaxBytes = HISTORY_MAX_BYTES,
  ) {}

  /** Move a damaged file aside (kept for a post-mortem) and report it. */
  private async quarantine(name: string, reason: string): Promise<void> {
    const file = join(this.dir, name);
    const dest = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const movedTo = await rename(file, dest).then(
      () => dest,
      () => rm(file, { force: true }).then(() => null),
    );
    this.onDamaged({ file, movedTo, reason });
  }

  private async ensure(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async readJson<T>(name: string): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(join(this.dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`state file ${join(this.dir, name)} is unreadable: ${(e as Error).message}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      await this.quarantine(name, text.trim() === '' ? 'empty file' : (e as Error).message);
      return null;
    }
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await this.writeAtomic(name, JSON.stringify(value, null, 2) + '\n');
  }

  /** Temp file + rename, mode 0600. */
  private async writeAtomic(name: string, text: string): Promise<void> {
    await this.ensure();
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, path);
    } catch (e) {
      // ENOSPC and friends: the previous file is untouched; do not leave half a temp file behind
      // (on a full disk it would hold the space the next write needs).
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  }

  async readApplied(): Promise<AppliedRecord | null> {
    const stamp = await this.stamp('applied.json');
    if (this.applied?.stamp === stamp) return this.applied.record;
    let record = await this.readJson<AppliedRecord>('applied.json');
    if (record !== null && !(typeof record === 'object' && Array.isArray((record as { stacks?: unknown }).stacks))) {
      await this.quarantine('applied.json', 'not an applied record (no stacks list)');
      record = null;
    }
    // Quarantine moved the file: its identity is new (or gone) on the next read.
    this.applied = { stamp: await this.stamp('applied.json'), record };
    return record;
  }

  async writeApplied(record: AppliedRecord): Promise<void> {
    this.applied = null;
    await this.writeJson('applied.json', record);
    // What a read would give (JSON drops undefined fields), not the caller's object.
    this.applied = { stamp: await this.stamp('applied.json'), record: JSON.parse(JSON.stringify(record)) as AppliedRecord };
  }

  /** inode, size and mtime in ns: changes whenever the file is replaced (writes are renames) or rewritten. */
  private async stamp(name: string): Promise<string> {
    try {
      const st = await stat(join(this.dir, name), { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return 'missing';
    }
  }

  /**
   * Append one line; when the file has grown past its bound, rewrite it
   * (atomically) with the newest entries that fit in half of it, so the
   * file stays bounded and a rewrite happens once per many appends.
   */
  async appendHistory(entry: HistoryEntry): Promise<void> {
    await this.ensure();
    const path = join(this.dir, 'history.jsonl');
    // After a crash mid-append the file ends in a torn line: start on a fresh one, or this entry is glued to it.
    const lead = (await endsMidLine(path)) ? '\n' : '';
    await appendFile(path, lead + JSON.stringify(entry) + '\n', { mode: 0o600 });
    if ((await stat(path)).size <= this.historyMaxBytes) return;
    const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
    const kept: string[] = [];
    let bytes = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      bytes += Buffer.byteLength(lines[i]!) + 1;
      if (bytes > this.historyMaxBytes / 2 && kept.length > 0) break;
      kept.push(lines[i]!);
    }
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, kept.reverse().join('\n') + '\n', { mode: 0o600 });
    await rename(tmp, path);
  }

  async readHistory(limit: number): Promise<HistoryEntry[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'history.jsonl'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const entries: HistoryEntry[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const entry = JSON.parse(line) as HistoryEntry;
        if (entry && typeof entry === 'object' && typeof entry.at === 'string') entries.push(entry);
        else bad++;
      } catch {
        bad++;
      }
    }
    if (bad > 0) {
      // Keep the good entries, set the damaged file aside, report once.
      await this.quarantine('history.jsonl', `${bad} unreadable line(s) dropped, ${entries.length} kept`);
      await this.writeAtomic('history.jsonl', entries.map((e) => JSON.stringify(e) + '\n').join(''));
    }
    return entries.slice(-limit);
  }

  async salt(): Promise<string> {
    const existing = await this.readJson<{ salt: string }>('salt.json');
    if (existing?.salt) return existing.salt;
    const salt = randomBytes(16).toString('hex');
    await this.writeJson('salt.json', { salt });
    return salt;
  }

  async lock(): Promise<() => Promise<void>> {
    await this.ensure();
    const path = join(this.dir, 'apply.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return async () => {
          await rm(path, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (pid && pid !== process.pid && isAlive(pid)) {
          throw new Error(`another berth process (pid ${pid}) is applying to this host (lock ${path})`);
        }
        // The holder died (e.g. SIGKILL mid-apply): the lock is stale.
        await rm(path, { force: true });
      }
    }
    throw new Error(`cannot take the apply lock ${path}`);
  }
}

/** Whether the file exists, is not empty and its last byte is not a newline. */
async function endsMidLine(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return false;
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
