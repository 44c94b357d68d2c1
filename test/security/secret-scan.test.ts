import { describe, expect, it } from 'vitest';
import { allPlantedSecrets, describeFindings, discoverEnvSecrets, scanForSecrets, type Capture } from '../support/secrets.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * The scanner behind the global secret check (test/support/global-secret-scan.ts).
 * These tests plant secrets in captures handed to the scanner directly, never
 * through recordCapture: the run-wide check must stay clean.
 */
const cap = (text: string, source = 'runCli plan'): Capture => ({ file: 'test/x.test.ts', source, text });

describe('secret scanner', () => {
  const secrets = allPlantedSecrets();

  it('knows the planted values of the tests, the fixtures and the example repo', () => {
    const values = secrets.map((s) => s.value);
    expect(values).toEqual(expect.arrayContaining(['webhook-secret-for-run-e2e-5b1f', 'db-password-for-run-e2e-91ac', 'example-not-a-secret', 'fixture-r2-access-key-id']));
    // Discovered from test/fixtures/**/.env: far more than the hand-written list.
    expect(values.filter((v) => v.startsWith('fixture-secret-')).length).toBeGreaterThan(20);
  });

  it('finds a planted value and names the file, the source and the secret, with the value masked', () => {
    const text = `Wave 4 · apps\n  ~ web/web  recreate: env DB_PASSWORD changed to db-password-for-run-e2e-91ac (oops)\n`;
    const findings = scanForSecrets([cap('nothing here'), cap(text)], secrets);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ file: 'test/x.test.ts', source: 'runCli plan', secret: 'test/cli/run.e2e.test.ts DB_PASSWORD' });
    expect(findings[0]!.context).toContain('changed to <test/cli/run.e2e.test.ts DB_PASSWORD> (oops)');
    expect(describeFindings(findings)).not.toContain('db-password-for-run-e2e-91ac');
  });

  it('finds any fixture-secret-* value, even one no list names', () => {
    const findings = scanForSecrets([cap('{"msg":"x","value":"fixture-secret-not-in-any-file-42"}', 'chat body')], []);
    expect(findings.map((f) => f.secret)).toEqual(['fixture-secret-* value']);
    expect(findings[0]!.context).not.toContain('not-in-any-file');
  });

  it('counts every occurrence, and finds nothing in clean output', () => {
    expect(scanForSecrets([cap('s3cr3t-hmac and again s3cr3t-hmac')], secrets)).toHaveLength(2);
    expect(scanForSecrets([cap('env POSTGRES_PASSWORD changed (value hidden)\nPlan: 0 to create, 1 to recreate')], secrets)).toEqual([]);
  });

  it('discovers values of secret-named keys only, and not short or interpolated ones', () => {
    const dir = tmpRepo({
      'stacks/a/.env': 'API_TOKEN=tok-1234567890\nLOG_LEVEL=debug-verbose-mode\nDB_PASS="quoted-pass-value"\nSHORT_KEY=abc\nREF_SECRET=${OTHER}\n',
      'stacks/a/app.env': 'export SIGNING_KEY=signing-key-value\n',
    });
    expect(discoverEnvSecrets([dir]).map((s) => s.value).sort()).toEqual(['quoted-pass-value', 'signing-key-value', 'tok-1234567890']);
  });
});
