import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (every `*.test.ts` that is not `*.e2e.test.ts`; some of
 * them use the engine too, always under names of their own) and `e2e` (the
 * `*.e2e.test.ts` files: Docker, git, a registry, a browser). `npm test`
 * (scripts/test-lanes.mjs) runs them in four vitest processes at once — unit in
 * one, the e2e files dealt over three by their durations in test/lane-times.json.
 *
 * Every Docker object a test makes carries a name from `uniqueName`, and
 * "nothing on the engine changed" checks ignore other runs' objects
 * (test/support/berth-objects.ts `fullListing`), so lanes never race on names.
 * Each lane has its own secret scan (test/support/global-secret-scan.ts).
 * `npx vitest run FILE` still runs any file on its own.
 */
const E2E = 'test/**/*.e2e.test.ts';

const shared = {
  // Real engine work needs room to finish, more so with lanes side by side.
  testTimeout: 180_000,
  hookTimeout: 240_000,
  // Scans everything the lane captured for planted secrets once its files ran.
  globalSetup: ['test/support/global-secret-scan.ts'],
};

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      // Unit files share one module graph (isolate: false): re-importing src/ and its
      // dependencies for each of ~90 files was half the lane's CPU (measured: 101 s → 54 s
      // of CPU for test/compose+plan+lint), and the lane is CPU-bound beside three e2e lanes.
      { test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: [E2E], isolate: false } },
      { test: { ...shared, name: 'e2e', include: [E2E] } },
    ],
  },
});
