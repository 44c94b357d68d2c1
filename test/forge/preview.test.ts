import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../src/adapters/state-dir.js';
import { createValidators } from '../../src/compose/schema.js';
import { codeBlock, PREVIEW_MARKER, previewStatus, renderPreviewComment } from '../../src/forge/preview-comment.js';
import { planPreview, previewEnv, type PreviewResult } from '../../src/forge/preview.js';
import { DEFAULT_SETTINGS, type ForgeSpec } from '../../src/model/desired.js';
import { systemClock } from '../../src/ports/clock.js';
import { fakeEngine } from '../support/fake-docker.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Previews as data: a request's head is loaded with host values as `${NAME}`,
 * host files refused, the deployed forge kept; the comment keeps whatever the
 * head holds inside a code block it cannot close, and is bounded.
 */
const SECRET = 'preview-unit-host-secret-5a0e';
const deployedForge: ForgeSpec = { type: 'github', url: 'https://api.github.com', repo: 'acme/infra', token: 'deployed-token-never-shown-1c7b' };
const validators = createValidators();
const deps = () => ({ validators, docker: fakeEngine().docker, state: new StateDir(mkdtempSync(join(tmpdir(), 'berth-preview-state-'))), clock: systemClock, env: { DB_PASSWORD: SECRET, TAG: 'v1' } });
const source = (dir: string) => ({ dir, revision: 'c'.repeat(40), origin: 'https://git.example.org/infra.git' });

describe('planPreview', () => {
  it('interpolates every host variable as its own name, and keeps defaults for unset ones', () => {
    expect(previewEnv({ A: 'x', B: undefined, C: '' })).toEqual({ A: '${A}', C: '${C}' });
  });

  it('quotes ${NAME} where a message would quote a host value', async () => {
    const dir = tmpRepo({ 'stacks/app/compose.yaml': 'services:\n  web:\n    image: berth-test/web:v1\n    ports:\n      - "${DB_PASSWORD}:80"\n' });
    const r = await planPreview(source(dir), null, deps());
    expect(r.kind).toBe('invalid');
    const text = JSON.stringify(r);
    expect(text).toContain('${DB_PASSWORD}');
    expect(text).not.toContain(SECRET);
  });

  it('plans a valid head with defaults for unset variables; the plan never holds a host value', async () => {
    const dir = tmpRepo({ 'stacks/app/compose.yaml': 'services:\n  web:\n    image: berth-test/web:${UNSET:-v2}\n    environment:\n      PASSWORD: ${DB_PASSWORD}\n' });
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge: deployedForge }, deps());
    expect(r.kind).toBe('planned');
    if (r.kind !== 'planned') return;
    expect(r.plan.summary.create).toBeGreaterThan(0);
    expect(JSON.stringify(r.plan)).not.toContain(SECRET);
    const web = r.plan.ops.find((op) => op.kind === 'service.create');
    expect(web?.kind === 'service.create' && web.service.image).toBe('berth-test/web:v2');
    expect(web?.kind === 'service.create' && web.service.environment).toEqual({ PASSWORD: '${DB_PASSWORD}' });
  });

  it('refuses an env_file outside the head (a host file) instead of reading it', async () => {
    const host = mkdtempSync(join(tmpdir(), 'berth-host-file-'));
    writeFileSync(join(host, 'secrets.env'), `PASSWORD=${SECRET}\n`);
    const dir = tmpRepo({ 'stacks/app/compose.yaml': `services:\n  web:\n    image: berth-test/web:v1\n    env_file: ${join(host, 'secrets.env')}\n` });
    const r = await planPreview(source(dir), null, deps());
    expect(r.kind).toBe('invalid');
    expect(r.diagnostics.find((d) => d.code === 'path-outside-repo')).toMatchObject({ severity: 'error', file: 'stacks/app/compose.yaml', line: 4 });
    expect(previewStatus(r, null).description).toMatch(/^invalid: stacks\/app\/compose\.yaml:4:\d+: env_file .* outside the repository/);
  });

  it('plans with the deployed notify and forge, whatever the head\'s berth.yaml says', async () => {
    const dir = tmpRepo({
      'berth.yaml': 'forge:\n  type: gitea\n  url: https://attacker.invalid\n  repo: x/y\n  token: ${DB_PASSWORD}\nnotify:\n  - type: webhook\n    url: https://attacker.invalid/hook\n',
      'stacks/app/compose.yaml': 'services:\n  web:\n    image: berth-test/web:v1\n',
    });
    const r = await planPreview(source(dir), { ...DEFAULT_SETTINGS, forge: deployedForge }, deps());
    expect(r.kind).toBe('planned');
    if (r.kind !== 'planned') return;
    expect(r.settings.forge).toEqual(deployedForge);
    expect(r.settings.notify).toEqual([]);
    expect(JSON.stringify(r)).not.toContain('attacker.invalid');
  });
});

describe('the preview comment', () => {
  const invalid = (message: string, n = 1): PreviewResult => ({
    kind: 'invalid',
    source: source('/x'),
    diagnostics: Array.from({ length: n }, (_, i) => ({ severity: 'error' as const, code: 'schema', file: 'stacks/a/compose.yaml', line: i + 1, col: 3, path: 'services.web', message })),
  });

  it('keeps markup of the head inside a block it cannot close: a longer fence, no control or bidi characters', () => {
    const hostile = 'x ```` </code><img src=x onerror=alert(1)> @everyone \u202eevil\u0007 [a](javascript:alert(1))';
    const body = renderPreviewComment(invalid(hostile), { host: 'h`ost', deployed: null });
    expect(body.startsWith(PREVIEW_MARKER)).toBe(true);
    const block = /^(`{5,})text\n([\s\S]*?)\n\1$/m.exec(body);
    expect(block, body).not.toBeNull();
    expect(block![2]).toContain('<img src=x onerror=alert(1)>');
    // Outside the block, nothing of the head: only berth's own words.
    const outside = body.replace(block![0], '');
    expect(outside).not.toContain('<img');
    expect(outside).not.toContain('@everyone');
    expect(body).not.toMatch(/[\u202e\u0007]/);
    expect(body).toContain('`host`');
  });

  it('fences at least three backticks, one more than the longest run inside', () => {
    expect(codeBlock('plain')).toBe('```text\nplain\n```');
    expect(codeBlock('a `` b ````` c').split('\n')[0]).toBe('``````text');
  });

  it('is bounded: thousands of errors are cut, with what was left out named', () => {
    const body = renderPreviewComment(invalid('e'.repeat(500), 5_000), { host: 'h', deployed: null });
    expect(body.length).toBeLessThan(65_536);
    expect(body).toMatch(/… and 4950 more \(run berth validate\)/);
    const huge = codeBlock(Array.from({ length: 10_000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n'));
    expect(huge.length).toBeLessThan(45_000);
    expect(huge).toMatch(/… \d+ more lines \(run berth plan for all of them\)\n```$/);
  });

  it('statuses: failure names the first error FILE:LINE:COL; one line, bounded', () => {
    const s = previewStatus(invalid('bad\nvalue'), 'https://berth.example.org/');
    expect(s).toEqual({ sha: 'c'.repeat(40), context: 'berth/plan', state: 'failure', description: 'invalid: stacks/a/compose.yaml:1:3: bad value', targetUrl: 'https://berth.example.org/' });
    expect(previewStatus(invalid('y'.repeat(1000)), null).description.length).toBeLessThanOrEqual(250);
  });
});
