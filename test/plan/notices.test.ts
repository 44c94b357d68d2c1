import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { notInInventory } from '../../controllers/context.js';
import { summarizeNotices } from '../../src/plan/notices.js';
import { expectGolden } from '../support/golden.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');

describe('plan notices', () => {
  it('golden: one line per stack of another state dir, other warnings kept in place', () => {
    const warnings = [
      'bind mount ./data of shop/web: the host path does not exist yet',
      ...Array.from({ length: 50 }, (_, i) => notInInventory('container', `b-svc${i + 1}-1`, 'b')),
      notInInventory('network', 'b_default', 'b'),
      notInInventory('container', 'c-web-1', 'c'),
      'another warning',
    ];
    const lines = summarizeNotices(warnings);
    expectGolden(GOLDEN, 'notices.txt', `${lines.join('\n')}\n`);
    expect(lines).toHaveLength(4);
  });

  it('a warning that is not a notice passes through unchanged', () => {
    expect(summarizeNotices(['x', 'y'])).toEqual(['x', 'y']);
  });
});
