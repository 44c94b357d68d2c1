import { hostAgeIdentities } from '../adapters/secrets-host.js';
import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import { SopsKeyring } from '../secrets/keyring.js';
import { counts, lint, lintExitCode } from '../lint/lint.js';
import type { Finding } from '../lint/finding.js';
import { lintJson, renderFindingLine, renderLintText } from '../lint/render.js';
import { isRemoteRepo } from '../ports/git.js';
import type { CliContext } from './context.js';
import type { CliIO } from './io.js';
import { countLine, renderDiagnostic } from './render-diagnostics.js';

export interface LintCliOptions {
  repo: string;
  branch: string;
  json?: boolean;
}

/**
 * `berth lint`: 0 clean · 2 warnings · 1 errors (a rule berth.yaml lists
 * under `lint.errors` fired, or the repo is invalid). Needs no Docker; a
 * local repo needs no git either, so the context is only built for a URL.
 */
export async function runLint(io: CliIO, opts: LintCliOptions, context: () => Promise<CliContext>): Promise<number> {
  const dir = isRemoteRepo(opts.repo) ? (await (await context()).git.fetch(opts.repo, opts.branch)).dir : opts.repo;
  const keyring = new SopsKeyring(hostAgeIdentities(io.env).keys);
  const loaded = await loadDesiredStateWithSecrets(dir, { env: io.env, secrets: { keyring, salt: 'lint', materialDir: '/run/berth/lint' } });
  if (!loaded.state) {
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (opts.json) io.out(JSON.stringify({ valid: false, errors }, null, 2));
    else for (const d of loaded.diagnostics) (d.severity === 'error' ? io.err : io.out)(renderDiagnostic(d));
    io.err(`invalid: ${countLine(loaded.diagnostics)}; nothing was linted`);
    return 1;
  }
  if (!opts.json) for (const d of loaded.diagnostics) io.err(renderDiagnostic(d));
  const findings = lint(loaded.state, { positions: loaded.sources });
  if (opts.json) io.out(JSON.stringify(lintJson(findings, loaded.state.settings), null, 2));
  else io.out(renderLintText(findings).replace(/\n$/, ''));
  return lintExitCode(findings);
}

/**
 * For `berth plan` and `berth apply`: when a rule berth.yaml lists under
 * `lint.errors` fired, print those findings and return true — the caller
 * exits 1 before it talks to Docker, so nothing is changed.
 */
export function refuseOnLintErrors(io: CliIO, findings: readonly Finding[], json: boolean | undefined): boolean {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length === 0) return false;
  if (json) io.out(JSON.stringify({ result: 'refused', lint: { ...counts(findings), findings } }, null, 2));
  else for (const f of errors) io.err(renderFindingLine(f));
  io.err(`lint: ${errors.length} ${errors.length === 1 ? 'error' : 'errors'} (rules listed under lint.errors in berth.yaml); nothing was changed`);
  return true;
}
