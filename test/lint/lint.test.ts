import { describe, expect, it } from 'vitest';
import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import { lint, lintExitCode } from '../../src/lint/lint.js';
import { LINT_RULES, lintRule } from '../../src/lint/registry.js';
import { LINT_RULE_IDS } from '../../src/lint/rule-ids.js';
import { desiredFrom, stackRepo } from '../support/plan-fixtures.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();
const load = (files: Record<string, string>) => loadDesiredState(tmpRepo(files), { env: {}, validators });
const HARDENED = 'security_opt: [no-new-privileges:true], cap_drop: [ALL], mem_limit: 64m';

describe('the rule registry', () => {
  it('has every documented id once, in order, each with a one-line why and warning as default (an unpinned swarm database: error)', () => {
    expect(LINT_RULES.map((r) => r.id)).toEqual([...LINT_RULE_IDS]);
    for (const r of LINT_RULES) {
      expect(lintRule(r.id)).toBe(r);
      expect(r.defaultSeverity).toBe(r.id === 'swarm-database-unpinned' ? 'error' : 'warning');
      expect(r.why).not.toContain('\n');
      expect(r.why.length).toBeGreaterThan(20);
    }
  });
});

describe('lint', () => {
  it('is clean for a hardened service', () => {
    const d = desiredFrom(stackRepo({ s: `services:\n  app: {image: "acme/app:1", ${HARDENED}}\n` }));
    expect(lint(d)).toEqual([]);
  });

  it('x-berth.lint.ignore silences the listed rules for that service only', () => {
    const d = desiredFrom(
      stackRepo({
        s: `services:
  quiet: {image: "acme/app:1", x-berth: {lint: {ignore: [no-new-privileges, cap-drop-all, memory-limit-missing]}}}
  loud: {image: "acme/app:1"}
  half: {image: "acme/app:1", x-berth: {lint: {ignore: [cap-drop-all]}}}
`,
      }),
    );
    expect(lint(d).map((f) => `${f.object} ${f.rule}`)).toEqual([
      's/half no-new-privileges',
      's/half memory-limit-missing',
      's/loud no-new-privileges',
      's/loud cap-drop-all',
      's/loud memory-limit-missing',
    ]);
  });

  it('a network finding is silenced by the ignore of any service on that network', () => {
    const repo = (ignore: string) =>
      stackRepo({ s: `services:\n  pg: {image: "postgres:18.1", ${HARDENED}${ignore}}\n  redis: {image: "redis:7.4", ${HARDENED}}\n` });
    expect(lint(desiredFrom(repo(''))).map((f) => f.rule)).toEqual(['backing-network-not-internal']);
    expect(lint(desiredFrom(repo(', x-berth: {lint: {ignore: [backing-network-not-internal]}}')))).toEqual([]);
  });

  it('lint.errors in berth.yaml makes those rules errors; the others stay warnings', () => {
    const d = desiredFrom(stackRepo({ s: 'services:\n  app: {image: "acme/app"}\n' }, 'lint:\n  errors: [image-latest, cap-drop-all]\n'));
    const fs = lint(d);
    expect(fs.map((f) => `${f.rule}=${f.severity}`)).toEqual(['no-new-privileges=warning', 'cap-drop-all=error', 'image-latest=error', 'memory-limit-missing=warning']);
    expect(lintExitCode(fs)).toBe(1);
    expect(lintExitCode(fs.filter((f) => f.severity === 'warning'))).toBe(2);
    expect(lintExitCode([])).toBe(0);
  });

  it('locates findings in the Compose file: at the key when present, at the service name when missing', () => {
    const r = load(
      stackRepo({
        s: `services:
  app:
    image: acme/app:latest
    cap_drop: [NET_RAW]
    security_opt: [no-new-privileges:true]
    mem_limit: 64m
`,
      }),
    );
    const fs = lint(r.state!, { positions: r.sources });
    expect(fs.map((f) => [f.rule, f.file, f.line, f.col])).toEqual([
      ['image-latest', 'stacks/s/compose.yaml', 3, 5],
      ['cap-drop-all', 'stacks/s/compose.yaml', 4, 5],
    ]);
    const bare = load(stackRepo({ s: 'services:\n  app:\n    image: acme/app:1\n' }));
    expect(new Set(lint(bare.state!, { positions: bare.sources }).map((f) => `${f.line}:${f.col}`))).toEqual(new Set(['2:3']));
  });

  it('locates keys that came in through a `<<` merge at their anchor', () => {
    const r = load(
      stackRepo({
        s: `x-base: &base
  cap_drop: [NET_RAW]
  mem_limit: 64m
services:
  app:
    <<: *base
    image: acme/app:1
    security_opt: [no-new-privileges:true]
`,
      }),
    );
    expect(lint(r.state!, { positions: r.sources }).map((f) => [f.rule, f.line, f.col])).toEqual([['cap-drop-all', 2, 3]]);
  });

  it('without positions names the file but no line', () => {
    const d = desiredFrom(stackRepo({ s: 'services:\n  app: {image: "acme/app:1"}\n' }));
    const f = lint(d)[0]!;
    expect(f.file).toBe('stacks/s/compose.yaml');
    expect(f.line).toBeUndefined();
  });

  it('never puts an environment value in a message', () => {
    const secret = 'lint-secret-value-4711';
    const d = desiredFrom(
      stackRepo({
        s: `services:\n  traefik: {image: "traefik:v3.6", environment: {TRAEFIK_PROVIDERS_DOCKER: "true", TRAEFIK_PROVIDERS_DOCKER_EXPOSEDBYDEFAULT: "${secret}", TOKEN: "${secret}"}}\n`,
      }),
    );
    const fs = lint(d);
    expect(fs.map((f) => f.rule)).toContain('traefik-exposed-by-default');
    expect(JSON.stringify(fs)).not.toContain(secret);
  });
});

describe('unknown rule ids are validation errors, located', () => {
  it('in x-berth.lint.ignore and in lint.errors', () => {
    const r = load(
      stackRepo({ s: 'services:\n  app:\n    image: acme/app:1\n    x-berth:\n      lint:\n        ignore: [cap-drop-all, latest-tag]\n' }, 'lint:\n  errors: [no-new-privilege]\n'),
    );
    expect(r.state).toBeNull();
    const errs = r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}:${d.col} ${d.path}`);
    expect(errs).toEqual(['berth.yaml:2:12 lint.errors[0]', 'stacks/s/compose.yaml:6:32 services.app.x-berth.lint.ignore[1]']);
    expect(r.diagnostics[0]!.message).toContain('must be one of: "db-port-published"');
  });
});
