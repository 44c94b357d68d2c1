/**
 * How every bench script runs: `main`, then `cleanup` — also when it is
 * stopped (SIGINT/SIGTERM/SIGHUP: cleanup, then exit 128+n, so no private
 * engine, container or scratch directory outlives a Ctrl-C). A failure is
 * logged with its stack and makes the exit code 1.
 */
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

export async function runBench(main: () => Promise<void>, cleanup: () => Promise<void> | void, log: (msg: string) => void): Promise<void> {
  for (const sig of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void Promise.resolve()
        .then(cleanup)
        .finally(() => process.exit(128 + SIGNALS[sig]));
    });
  }
  try {
    await main();
  } catch (e) {
    log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
