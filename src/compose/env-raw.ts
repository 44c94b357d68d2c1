import type { DotenvResult } from './dotenv.js';

/**
 * `env_file` with `format: raw`, as `docker compose` reads it: every
 * non-blank line that is not a `#` comment is `KEY=VALUE`, split at the first
 * `=`, and the value is taken byte for byte — no quote removal, no escapes,
 * no `${VAR}` interpolation, no trimming. That is the point of the format:
 * `J='{"key": "value"}'` keeps its quotes.
 */
export function parseRawEnv(text: string): DotenvResult {
  const result: DotenvResult = { entries: [], values: {}, errors: [] };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      result.errors.push({ line: i + 1, col: 1, message: 'a raw env_file line must be KEY=VALUE' });
      return;
    }
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    result.entries.push({ key, value, line: i + 1 });
    result.values[key] = value;
  });
  return result;
}
