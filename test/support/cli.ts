import { main, type CliOverrides } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  /** stdout and stderr interleaved in the order written. */
  output: string;
  stdout: string;
  stderr: string;
}

/** Run the berth CLI in-process with captured output and a controlled environment. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}, overrides: CliOverrides = {}): Promise<CliRun> {
  const all: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (l) => {
      all.push(l);
      out.push(l);
    },
    err: (l) => {
      all.push(l);
      err.push(l);
    },
    env,
  }, overrides);
  return { code, output: all.join('\n') + '\n', stdout: out.join('\n'), stderr: err.join('\n') };
}
