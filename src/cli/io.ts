/** The CLI's window on the world, so commands can be run and checked in-process by tests. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
  /** Output goes to a terminal (progress lines are worth printing). */
  isTTY?: boolean;
}

export function processIO(): CliIO {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
  };
}
