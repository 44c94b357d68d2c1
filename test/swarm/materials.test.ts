import { describe, expect, it } from 'vitest';
import { loadDesiredStateWithSecrets } from '../../src/compose/load-secrets.js';
import { createValidators } from '../../src/compose/schema.js';
import { FsWorkingTreeHasher } from '../../src/adapters/working-tree-hasher.js';
import { identifiedDesired } from '../../src/files/identify.js';
import { SopsKeyring } from '../../src/secrets/keyring.js';
import { applySwarm, materialContent } from '../../src/swarm/apply.js';
import { planSwarm, type SwarmOp } from '../../src/swarm/plan.js';
import { renderSwarmPlan } from '../../src/swarm/render.js';
import { desiredShape } from '../../src/swarm/shape.js';
import type { SwarmPort } from '../../src/ports/swarm.js';
import { BINARY_PLAINTEXT, identitiesOf, vectorBytes } from '../support/sops-vectors.js';
import { tmpRepo } from '../support/tmp-repo.js';

/**
 * Secrets berth holds in memory on a swarm host: a SOPS file decrypted at load and an
 * `environment:` secret become swarm secrets named by a salted digest of the plaintext,
 * made from the plaintext held in memory; the plan never shows it.
 */
const validators = createValidators();
const SWARM = 'hosts:\n  cluster:\n    docker: tcp://manager:2376\n    mode: swarm\n    stacks: ["*"]\n';
const COMPOSE = `services:
  app:
    image: acme/app:1
    secrets: [blob, token]
    volumes: ["./conf.enc.yaml:/etc/app.yaml:ro"]
secrets:
  blob: {file: ./blob.txt}
  token: {environment: APP_TOKEN}
`;

async function load(token: string, salt = 'salt-1', compose = COMPOSE) {
  const repo = tmpRepo({ 'berth.yaml': SWARM, 'stacks/shop/compose.yaml': compose, 'stacks/shop/blob.txt': vectorBytes('binary.enc.txt'), 'stacks/shop/conf.enc.yaml': vectorBytes('secrets.enc.yaml') });
  const r = await loadDesiredStateWithSecrets(repo, { env: { APP_TOKEN: token }, validators, secrets: { keyring: new SopsKeyring(identitiesOf('keys.txt')), salt, materialDir: '/run/berth/swarm-test' } });
  if (!r.state) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const out = await identifiedDesired(r.state, { dir: repo, revision: null, origin: repo }, null, new FsWorkingTreeHasher());
  return out.desired!;
}

const withoutBind = COMPOSE.replace('    volumes: ["./conf.enc.yaml:/etc/app.yaml:ro"]\n', '');

describe('SOPS and environment secrets on a swarm host', () => {
  it('a bind mount of a SOPS file is refused: a swarm task runs on any node', async () => {
    const d = await load('fixture-secret-swarm-token');
    expect(desiredShape(d.stacks[0]!.services[0]!).unsupported).toEqual(['a bind mount of a SOPS-encrypted file (use `secrets:`/`configs:`)']);
  });

  it('are created from the plaintext held in memory, named by a salted digest; a new value is a new name', async () => {
    const d = await load('fixture-secret-swarm-token', 'salt-1', withoutBind);
    const { unsupported, files } = desiredShape(d.stacks[0]!.services[0]!);
    expect(unsupported).toEqual([]);
    expect(files.map((f) => [f.kind, f.key, f.material])).toEqual([
      ['secret', 'blob', true],
      ['secret', 'token', true],
    ]);
    const plan = planSwarm(d, { services: [], networks: [], files: [] });
    const creates = plan.ops.filter((o): o is Extract<SwarmOp, { kind: 'file.create' }> => o.kind === 'file.create');
    expect(creates.map((o) => o.object)).toEqual([expect.stringMatching(/^shop_blob-[0-9a-f]{12}$/), expect.stringMatching(/^shop_token-[0-9a-f]{12}$/)]);
    const shown = `${renderSwarmPlan(plan)}${JSON.stringify(plan)}`;
    expect(shown).not.toContain('fixture-secret-swarm-token');
    expect(shown).not.toContain(BINARY_PLAINTEXT.trim().split('\n')[0]);

    // What reaches the manager: the plaintext, from memory (nothing is read from disk).
    const made: Record<string, string> = {};
    const swarm = {
      createNetwork: async () => undefined,
      createSwarmFile: async (_kind: string, name: string, _labels: Record<string, string>, data: Buffer) => void (made[name] = data.toString('utf8')),
      listNetworks: async () => [],
      listSwarmFiles: async () => [],
    } as unknown as SwarmPort;
    const onlyFiles = { ...plan, ops: plan.ops.filter((o) => o.kind === 'file.create') };
    const r = await applySwarm(onlyFiles, { swarm, clock: { now: () => 0, sleep: async () => undefined }, readFile: async (p) => { throw new Error(`read ${p} from disk`); }, material: materialContent(d), revision: null, timeoutMs: 1000 });
    expect(r.ok).toBe(true);
    expect(made[creates[0]!.object]).toBe(BINARY_PLAINTEXT);
    expect(made[creates[1]!.object]).toBe('fixture-secret-swarm-token');

    const again = planSwarm(await load('fixture-secret-swarm-token', 'salt-1', withoutBind), { services: [], networks: [], files: [] });
    expect(again.ops.filter((o) => o.kind === 'file.create').map((o) => o.object)).toEqual(creates.map((o) => o.object));
    const rotated = planSwarm(await load('fixture-secret-swarm-other', 'salt-1', withoutBind), { services: [], networks: [], files: [] });
    const names = rotated.ops.filter((o) => o.kind === 'file.create').map((o) => o.object);
    expect(names[0]).toBe(creates[0]!.object);
    expect(names[1]).not.toBe(creates[1]!.object);
  });
});
