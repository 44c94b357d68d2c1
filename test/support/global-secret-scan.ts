import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { allPlantedSecrets, describeFindings, readCaptures, scanForSecrets } from './secrets.js';

/**
 * Vitest global setup (runs in the main process: no `vitest` imports here): one capture file per run, handed to the test workers;
 * at teardown every captured output is scanned for every planted secret, and
 * the run fails (teardown throws → non-zero exit) when one is found. The
 * message names the test file, the source and the secret's label, never the
 * value.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-captures-'));
  const file = join(dir, 'captures.jsonl');
  project.provide('secretCaptureFile', file);
  return () => {
    const captures = readCaptures(file);
    const secrets = allPlantedSecrets();
    const findings = scanForSecrets(captures, secrets);
    const bytes = captures.reduce((n, c) => n + c.text.length, 0);
    const files = new Set(captures.map((c) => c.file)).size;
    const summary = `[secret scan] ${captures.length} captures from ${files} test files (${(bytes / 1024).toFixed(0)} KiB) checked for ${secrets.length} planted secrets and the fixture-secret-* pattern: ${findings.length} found`;
    if (findings.length > 0) {
      // Keep the file for a look; it holds only test values.
      throw new Error(`${summary}\n${describeFindings(findings)}\n(captures kept in ${file})`);
    }
    console.log(summary);
    rmSync(dir, { recursive: true, force: true });
  };
}
