import { appendFileSync } from 'node:fs';
import { expect, inject } from 'vitest';
import type { Capture } from './secrets.js';

/**
 * Output the suite captured (CLI output, logs of spawned berth processes,
 * chat bodies), appended as JSON lines to one file per `vitest run`. Test
 * files run in workers; the file's path comes from the global setup
 * (global-secret-scan.ts), which scans it for planted secrets at the end.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    secretCaptureFile: string;
  }
}

function captureFile(): string | null {
  try {
    return inject('secretCaptureFile') || null;
  } catch {
    return null; // not under the suite's config (e.g. imported by a script): nothing to record
  }
}

function currentTestFile(): string {
  const path = expect.getState().testPath ?? 'unknown';
  const at = path.lastIndexOf('/test/');
  return at >= 0 ? path.slice(at + 1) : path;
}

/** Record output for the end-of-run secret scan. */
export function recordCapture(source: string, text: string): void {
  if (text === '') return;
  const file = captureFile();
  if (!file) return;
  const c: Capture = { file: currentTestFile(), source, text };
  appendFileSync(file, JSON.stringify(c) + '\n');
}
