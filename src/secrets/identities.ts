import { join } from 'node:path';

/** Where the age identities came from, for messages (paths and variable names only). */
export interface AgeIdentities {
  keys: string[];
  sources: string[];
  /** Problems with a source (a key file named but unreadable, a line that is not an identity). */
  problems: string[];
}

/** An age identity file: `AGE-SECRET-KEY-1…` lines, `#` comments and blank lines. */
export function parseIdentityText(text: string, source: string, out: AgeIdentities): void {
  let found = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (/^AGE-SECRET-KEY-1[0-9A-Z]+$/.test(line)) {
      if (!out.keys.includes(line)) out.keys.push(line);
      found++;
    } else {
      out.problems.push(`${source} line ${i + 1} is not an age X25519 identity (AGE-SECRET-KEY-1…); it is ignored`);
    }
  });
  if (found > 0) out.sources.push(source);
}

/**
 * The identities `sops` itself would use: SOPS_AGE_KEY (the keys inline),
 * SOPS_AGE_KEY_FILE, and the default key file
 * ($XDG_CONFIG_HOME or ~/.config, then sops/age/keys.txt); all that exist are combined.
 */
export function loadAgeIdentities(env: Record<string, string | undefined>, readText: (path: string) => string | null): AgeIdentities {
  const out: AgeIdentities = { keys: [], sources: [], problems: [] };
  if (env.SOPS_AGE_KEY) parseIdentityText(env.SOPS_AGE_KEY, 'SOPS_AGE_KEY', out);
  if (env.SOPS_AGE_KEY_FILE) {
    const text = readText(env.SOPS_AGE_KEY_FILE);
    if (text === null) out.problems.push(`SOPS_AGE_KEY_FILE ${env.SOPS_AGE_KEY_FILE} cannot be read`);
    else parseIdentityText(text, env.SOPS_AGE_KEY_FILE, out);
  }
  const configHome = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : null);
  if (configHome) {
    const p = join(configHome, 'sops', 'age', 'keys.txt');
    if (p !== env.SOPS_AGE_KEY_FILE) {
      const text = readText(p);
      if (text !== null) parseIdentityText(text, p, out);
    }
  }
  return out;
}
