import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile, appendFile } from 'node:fs/promises';
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

/**
 * The state dir on the local file system. Files are written atomically
 * (temp file + rename) with mode 0600: a crash never leaves half a record,
 * and the record's hashes stay readable by root only.
 */
export class StateDir implements StateStore {
  constructor(readonly dir: string) {}

  private async ensure(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async readJson<T>(name: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(join(this.dir, name), 'utf8')) as T;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`state file ${join(this.dir, name)} is unreadable: ${(e as Error).message}`);
    }
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await this.ensure();
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, path);
  }

  readApplied(): Promise<AppliedRecord | null> {
    return this.readJson<AppliedRecord>('applied.json');
  }

  writeApplied(record: AppliedRecord): Promise<void> {
    return this.writeJson('applied.json', record);
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    await this.ensure();
    await appendFile(join(this.dir, 'history.jsonl'), JSON.stringify(entry) + '\n', { mode: 0o600 });
  }

  async readHistory(limit: number): Promise<HistoryEntry[]> {
    try {
      const lines = (await readFile(join(this.dir, 'history.jsonl'), 'utf8')).trim().split('\n').filter(Boolean);
      return lines.slice(-limit).map((l) => JSON.parse(l) as HistoryEntry);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
