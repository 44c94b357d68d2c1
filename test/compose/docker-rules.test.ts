import { describe, expect, it } from 'vitest';
import { isValidContainerName, isValidImageReference, isValidLocalVolumeName, isValidRestartPolicy } from '../../src/compose/docker-rules.js';

describe('rules the Docker Engine enforces at create time', () => {
  it('accepts image references docker pull accepts', () => {
    for (const ref of [
      'nginx',
      'postgres:18.1',
      'berth-test/web:v1',
      'ghcr.io/org/app:1.2-alpine',
      'localhost:5000/a/b:c',
      '[::1]:5000/x',
      'registry.example.com/Team/app'.replace('Team', 'team'),
      'a__b/c.d-e',
      `nginx@sha256:${'a'.repeat(64)}`,
      `nginx:1.27@sha256:${'0'.repeat(64)}`,
    ]) {
      expect(isValidImageReference(ref), ref).toBe(true);
    }
  });

  it('refuses the ones it refuses', () => {
    for (const ref of ['Berth-Test/Web:V1', 'ghcr.io/Org/x', 'web:v1 ', ' web', 'web::1', 'web:', 'a___b', 'a/', '/a', `web:${'x'.repeat(129)}`, 'web@sha256:abc', 'we b', 'x\0y']) {
      expect(isValidImageReference(ref), JSON.stringify(ref)).toBe(false);
    }
  });

  it('stays fast on long hostile references (no catastrophic backtracking)', () => {
    // No timing assertion: a backtracking regex would not finish at all at this length.
    expect(isValidImageReference(`${'a-'.repeat(100_000)}!`)).toBe(false);
    expect(isValidImageReference(`${'a.a/'.repeat(50_000)}!`)).toBe(false);
  });

  it('container and local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+', () => {
    for (const ok of ['web', 'shop-web-1', 'A.b_c-d', '0x']) {
      expect(isValidContainerName(ok)).toBe(true);
      expect(isValidLocalVolumeName(ok)).toBe(true);
    }
    for (const bad of ['w', '-web', '.web', 'shop web', 'pg/data', 'café', '']) {
      expect(isValidContainerName(bad), bad).toBe(false);
      expect(isValidLocalVolumeName(bad), bad).toBe(false);
    }
  });

  it('restart policies', () => {
    for (const ok of ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:3']) expect(isValidRestartPolicy(ok)).toBe(true);
    for (const bad of ['sometimes', 'on-failure:often', 'Always', 'no ', 'on-failure:']) expect(isValidRestartPolicy(bad), bad).toBe(false);
  });
});
