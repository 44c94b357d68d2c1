import { hostAgeIdentities } from '../adapters/secrets-host.js';
import { loadDesiredStateWithSecrets } from '../compose/load-secrets.js';
import { SopsKeyring } from '../secrets/keyring.js';
import type { Validators } from '../compose/schema.js';
import type { CliIO } from './io.js';
import { repoWhere } from './repo-line.js';
import { countLine, renderDiagnostic } from './render-diagnostics.js';

export interface ValidateOptions {
  repo: string;
  json?: boolean;
}

/**
 * `berth validate`: 0 valid, 1 invalid. Every problem of every stack at once,
 * and which SOPS files the available age identities could and could not
 * decrypt (names only), so a missing key shows before a deploy. It writes
 * nothing: mount paths are computed with a throwaway salt, never materialized.
 */
export async function runValidate(opts: ValidateOptions, io: CliIO, validators?: Validators): Promise<number> {
  const ids = hostAgeIdentities(io.env);
  const { state, diagnostics, secrets } = await loadDesiredStateWithSecrets(opts.repo, {
    env: io.env,
    validators,
    secrets: { keyring: new SopsKeyring(ids.keys), salt: 'validate', materialDir: '/run/berth/validate' },
  });
  const sops = { decrypted: [...secrets.decrypted].sort(), refused: [...secrets.refused.keys()].sort(), identitySources: ids.sources, identityProblems: ids.problems };
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const repo = repoWhere({ dir: opts.repo, origin: opts.repo }, false);
  if (opts.json) {
    io.out(
      JSON.stringify(
        {
          valid: state !== null,
          repo,
          sops,
          errors,
          warnings: diagnostics.filter((d) => d.severity === 'warning'),
          stacks: (state?.stacks ?? []).map((s) => ({
            name: s.name,
            file: s.file,
            services: s.services.map((x) => ({ name: x.name, container: x.containerName, image: x.image, tier: x.berth.tier, configHash: x.configHash })),
            networks: s.networks.map((n) => ({ key: n.key, name: n.name, external: n.external })),
            volumes: s.volumes.map((v) => ({ key: v.key, name: v.name, external: v.external })),
          })),
        },
        null,
        2,
      ),
    );
    return state ? 0 : 1;
  }
  for (const d of diagnostics) (d.severity === 'error' ? io.err : io.out)(renderDiagnostic(d));
  for (const p of ids.problems) io.err(`warning: ${p}`);
  if (sops.decrypted.length + sops.refused.length > 0) {
    const from = ids.sources.length > 0 ? ` with the age identities of ${ids.sources.join(', ')}` : ' (no age identity found)';
    io.out(`SOPS files${from}:`);
    for (const f of sops.decrypted) io.out(`  decrypted        ${f}`);
    for (const f of sops.refused) io.out(`  NOT decrypted    ${f}`);
  }
  if (state) {
    const services = state.stacks.reduce((n, s) => n + s.services.length, 0);
    io.out(
      `valid: ${state.stacks.length} ${plural(state.stacks.length, 'stack')}, ${services} ${plural(services, 'service')} in ${repo} (${countLine(diagnostics)})`,
    );
    return 0;
  }
  io.err(`invalid: ${countLine(diagnostics)}`);
  return errors.length > 0 ? 1 : 0;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
