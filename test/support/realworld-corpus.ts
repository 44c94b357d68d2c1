import { readdirSync } from 'node:fs';
import { sharedPath } from './shared-dir.js';

/**
 * The real-world Compose corpus (../shared/realworld-compose: 79 projects
 * nobody on this project wrote, each a desired-state repository), read in
 * place, never copied into the project. null when it is not there. The
 * corpus test, the parity test and `npm run bench` (bench/corpus.ts) read it
 * through here.
 */
export const CORPUS = sharedPath('realworld-compose');

/** The corpus's cases (one directory each), sorted; none without the corpus. */
export function corpusCases(): string[] {
  if (CORPUS === null) return [];
  return readdirSync(CORPUS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * Variables a case needs, as docker/compose's own e2e tests set them
 * (a secret or config from `environment:` whose variable is unset is an
 * error for Compose too, when it creates the container).
 */
export const CASE_ENV: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'docker-compose-config-from-env': { CONFIG: 'config' },
  'docker-compose-secret-from-env': { SECRET: 'BAR' },
};

/** The variables for one case ({} for most). */
export const caseEnv = (name: string): Record<string, string> => ({ ...(CASE_ENV[name] ?? {}) });
