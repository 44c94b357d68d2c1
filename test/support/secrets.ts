import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTOR_SECRET_VALUES } from './sops-vectors.js';

/**
 * Every secret value the test suite plants, in one place, and the scanner that
 * looks for them in captured output. PRODUCT.md §4: secret values never appear
 * in output, logs, plans or chat — the global check (global-secret-scan.ts)
 * holds the whole suite to that.
 *
 * Three sources:
 *  - PLANTED: values tests put into environments, webhooks and notifier URLs;
 *  - PATTERNS: the fixture convention — every secret-like value in
 *    test/fixtures is spelled `fixture-secret-…`;
 *  - discovered: the values of secret-named keys (…PASSWORD, …SECRET, …TOKEN,
 *    …KEY) in the `.env` files of the fixtures and the example repo.
 */
export interface PlantedSecret {
  /** Where it is planted; printed instead of the value. */
  label: string;
  value: string;
}

export const PLANTED: readonly PlantedSecret[] = [
  { label: 'test/http/server.test.ts webhook secret', value: 'http-test-secret-3c9a41' },
  { label: 'test/http/webhook.test.ts webhook secret', value: 'hook-secret-7d3e' },
  { label: 'test/cli/run.e2e.test.ts webhook secret', value: 'webhook-secret-for-run-e2e-5b1f' },
  { label: 'test/cli/run.e2e.test.ts DB_PASSWORD', value: 'db-password-for-run-e2e-91ac' },
  { label: 'test/cli/notify-test.test.ts URL token', value: 'T0KEN-in-the-url-9f2c' },
  { label: 'test/cli/notify-test.test.ts HMAC secret', value: 's3cr3t-hmac' },
  { label: 'test/adapters/http-notifier.test.ts URL token', value: 'xoxT0KEN-b9f3e1c7d2a84e6f' },
  { label: 'test/adapters/http-notifier.test.ts HMAC secret', value: 'hmac-secret-5e8a1f77c3' },
  { label: 'test/controllers/database.test.ts POSTGRES_PASSWORD', value: 'pw-value-never-printed' },
  { label: 'test/security webhook secret', value: 'security-webhook-secret-0d6b2f' },
  { label: 'test/security env secret', value: 'security-env-secret-8e41c9' },
  { label: 'test/faults/git-unreachable.e2e.test.ts git URL password', value: 'git-password-for-faults-e2e-6c2d' },
  { label: 'scripts/test-registry.sh registry password', value: 'registry-password-for-e2e-4f7a' },
  // base64 of `berth-test:registry-password-for-e2e-4f7a`: the `auth` of a docker config.json.
  { label: 'test registry docker config auth (base64)', value: 'YmVydGgtdGVzdDpyZWdpc3RyeS1wYXNzd29yZC1mb3ItZTJlLTRmN2E=' },
  { label: 'test/registry wrong registry password', value: 'wrong-registry-password-3b8e' },
  { label: 'test/support/real-postgres.ts POSTGRES_PASSWORD', value: 'pg-soak-secret-5521' },
];

/** Fixture convention: secret values in test/fixtures start with `fixture-secret-`. */
export const PATTERNS: readonly { label: string; re: RegExp }[] = [{ label: 'fixture-secret-* value', re: /fixture-secret-[A-Za-z0-9._-]*/g }];

const SECRET_KEY = /(PASSWORD|PASSWD|PASS|SECRET|TOKEN|KEY|KEY_ID)$/i;
/** Shorter values are too likely to occur by chance ("info", "true"). */
const MIN_DISCOVERED_LENGTH = 8;

/** Values of secret-named keys in every `.env`/`*.env` file below `dirs`. */
export function discoverEnvSecrets(dirs: string[]): PlantedSecret[] {
  const found = new Map<string, PlantedSecret>();
  const walk = (dir: string, shown: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path, `${shown}/${e.name}`);
      else if (e.isFile() && (e.name === '.env' || e.name.endsWith('.env'))) {
        for (const line of readFileSync(path, 'utf8').split('\n')) {
          const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
          if (!m || !SECRET_KEY.test(m[1]!)) continue;
          const value = m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
          if (value.length >= MIN_DISCOVERED_LENGTH && !value.includes('${')) found.set(value, { label: `${shown}/${e.name} ${m[1]}`, value });
        }
      }
    }
  };
  for (const d of dirs) walk(d, d.split('/').slice(-2).join('/'));
  return [...found.values()];
}

const ROOT = join(import.meta.dirname, '..', '..');

/** PLANTED plus what the fixtures and the example repo hold. */
export function allPlantedSecrets(): PlantedSecret[] {
  const byValue = new Map<string, PlantedSecret>();
  // The plaintext of the SOPS test vectors (../shared/sops-vectors): decrypted for containers only, never printed.
  const sops = VECTOR_SECRET_VALUES.map((value) => ({ label: 'sops-vectors plaintext (EXPECTED.md)', value }));
  for (const s of [...PLANTED, ...sops, ...discoverEnvSecrets([join(ROOT, 'test', 'fixtures'), join(ROOT, 'desired-state')])]) {
    if (!byValue.has(s.value)) byValue.set(s.value, s);
  }
  return [...byValue.values()];
}

export interface Capture {
  /** The test file that produced the output. */
  file: string;
  /** What produced it: `runCli validate --repo …`, `chat body`, `berth run log`. */
  source: string;
  text: string;
}

export interface Finding {
  file: string;
  source: string;
  /** Which planted secret (its label, never its value). */
  secret: string;
  /** Up to 80 characters around the hit, with every secret in it masked. */
  context: string;
}

function mask(text: string, secrets: readonly PlantedSecret[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s.value).join(`<${s.label}>`);
  for (const p of PATTERNS) out = out.replace(new RegExp(p.re.source, 'g'), `<${p.label}>`);
  return out;
}

/**
 * Every occurrence of a planted secret (or a pattern) in the captures. The
 * findings carry labels and masked context only, so printing them leaks nothing.
 */
export function scanForSecrets(captures: Iterable<Capture>, secrets: readonly PlantedSecret[]): Finding[] {
  const findings: Finding[] = [];
  const hits = (text: string): { at: number; len: number; label: string }[] => {
    const out: { at: number; len: number; label: string }[] = [];
    for (const s of secrets) {
      for (let i = text.indexOf(s.value); i >= 0; i = text.indexOf(s.value, i + 1)) out.push({ at: i, len: s.value.length, label: s.label });
    }
    for (const p of PATTERNS) {
      for (const m of text.matchAll(new RegExp(p.re.source, 'g'))) out.push({ at: m.index, len: m[0].length, label: p.label });
    }
    return out;
  };
  for (const c of captures) {
    for (const h of hits(c.text)) {
      const from = Math.max(0, h.at - 40);
      const around = c.text.slice(from, h.at + h.len + 40);
      findings.push({ file: c.file, source: c.source, secret: h.label, context: mask(around, secrets).replace(/\s+/g, ' ').slice(0, 160) });
    }
  }
  return findings;
}

/** The JSON lines recordCapture (capture.ts) appended; none when nothing was captured. */
export function readCaptures(file: string): Capture[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Capture);
}

export function describeFindings(findings: Finding[]): string {
  return findings.map((f) => `  ${f.file} · ${f.source} · ${f.secret}\n      …${f.context}…`).join('\n');
}
