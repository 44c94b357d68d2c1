import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, type CliOverrides } from '../../src/cli/main.js';
import { recordCapture } from './capture.js';

export interface CliRun {
  code: number;
  /** stdout and stderr interleaved in the order written. */
  output: string;
  stdout: string;
  stderr: string;
}

/** How much of each state dir's history.jsonl was already recorded (it only grows). */
const historyRecorded = new Map<string, number>();

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
  const output = all.join('\n') + '\n';
  // For the end-of-run secret scan: the output, and the history berth keeps in its state dir.
  recordCapture(`runCli ${args.slice(0, 2).join(' ')}`, output);
  const history = env.BERTH_STATE_DIR ? join(env.BERTH_STATE_DIR, 'history.jsonl') : null;
  if (history && existsSync(history)) {
    const text = readFileSync(history, 'utf8');
    recordCapture('state dir history.jsonl', text.slice(historyRecorded.get(history) ?? 0));
    historyRecorded.set(history, text.length);
  }
  return { code, output, stdout: out.join('\n'), stderr: err.join('\n') };
}
