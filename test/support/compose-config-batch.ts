import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ConfigJob {
  project: string;
  file: string;
  cwd: string;
  env: Record<string, string>;
}
export interface ConfigResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `docker-compose config` (Debian's 1.29, its own code) for many projects
 * through one long-lived Python process; answers come back in job order.
 * Asynchronous, so the vitest worker is never blocked. Call close() when done.
 */
export function composeConfigBatch(): { config: (job: ConfigJob) => Promise<ConfigResult>; close: () => void } {
  const child = spawn('/usr/bin/python3', [join(import.meta.dirname, 'compose-config-batch.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((r: ConfigResult) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as ConfigResult));
  child.on('exit', () => {
    for (const w of waiting.splice(0)) w({ code: 1, stdout: '', stderr: 'the docker-compose batch process exited' });
  });
  return {
    config: (job) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${JSON.stringify(job)}\n`);
      }),
    close: () => child.stdin.end(),
  };
}
