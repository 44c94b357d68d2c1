import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one Docker engine; run files one at a time so
    // they never race on names, and give real engine work room to finish.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    // Scans everything the suite captured for planted secrets once all files ran.
    globalSetup: ['test/support/global-secret-scan.ts'],
  },
});
