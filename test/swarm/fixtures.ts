import { loadDesiredState } from '../../src/compose/load.js';
import { createValidators } from '../../src/compose/schema.js';
import type { DesiredState } from '../../src/model/desired.js';
import { tmpRepo } from '../support/tmp-repo.js';

const validators = createValidators();

/** A repository whose stacks all run on one `mode: swarm` host. */
export function loadSwarm(stacks: Record<string, string>, berthYaml = '', extra: Record<string, string> = {}) {
  const files: Record<string, string> = { ...extra, 'berth.yaml': `${berthYaml}hosts:\n  cluster:\n    docker: tcp://manager:2376\n    mode: swarm\n    stacks: ["*"]\n` };
  for (const [name, compose] of Object.entries(stacks)) files[`stacks/${name}/compose.yaml`] = compose;
  return loadDesiredState(tmpRepo(files), { env: {}, validators });
}

export function swarmDesired(stacks: Record<string, string>, berthYaml = ''): DesiredState {
  const r = loadSwarm(stacks, berthYaml);
  if (!r.state) throw new Error(r.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.message}`).join('\n'));
  return r.state;
}
