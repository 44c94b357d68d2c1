import { describe, expect, it } from 'vitest';
import { buildAppliedRecord, hashEnvValue, mergeAppliedRecord } from '../../src/apply/applied-record.js';
import { loadDesiredState } from '../../src/compose/load.js';
import { tmpRepo } from '../support/tmp-repo.js';

const SECRET = 'fixture-secret-record-7f3a';

describe('applied record', () => {
  const desired = (tag: string) =>
    loadDesiredState(tmpRepo({ 'stacks/s/compose.yaml': `services:\n  a: {image: "app:${tag}", environment: {TOKEN: "${SECRET}"}}\n  b: {image: "app:${tag}"}\n` }), { env: {} }).state!;

  it('keeps environment values only as salted hashes', () => {
    const r = buildAppliedRecord(desired('v1'), 'rev1', 'repo', 'salt-1', new Date(0));
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(r.stacks[0]!.services[0]!.environment.TOKEN).toBe(hashEnvValue('salt-1', SECRET));
    expect(hashEnvValue('salt-2', SECRET)).not.toBe(hashEnvValue('salt-1', SECRET));
  });

  it('after a partial failure keeps the old spec of the services that were not applied', () => {
    const prev = buildAppliedRecord(desired('v1'), 'rev1', 'repo', 's', new Date(0));
    const next = buildAppliedRecord(desired('v2'), 'rev2', 'repo', 's', new Date(1));
    const merged = mergeAppliedRecord(prev, next, new Set(['s/a']));
    expect(merged.stacks[0]!.services.map((x) => [x.name, x.image])).toEqual([
      ['a', 'app:v1'],
      ['b', 'app:v2'],
    ]);
  });
});
