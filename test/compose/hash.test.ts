import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/compose/hash.js';

/**
 * configHash is stored in every container berth creates: canonicalJson must
 * write exactly the bytes it always wrote, or every service would be
 * recreated after an upgrade. This is the original, obviously-correct form,
 * kept here as the reference for the faster one in src/.
 */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('writes the same bytes as the reference form for any JSON-like value', () => {
    const leaf = fc.oneof(fc.constant(undefined), fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.string(), fc.constant(Number.POSITIVE_INFINITY));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('map')),
      list: fc.array(tie('node'), { maxLength: 5 }),
      map: fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 5 }),
    }));
    fc.assert(fc.property(value.node, (v) => canonicalJson(v) === reference(v)), { seed: 15_2028, numRuns: 1000 });
  });

  it('sorts keys, drops undefined members and writes holes and undefined items as the reference does', () => {
    // eslint-disable-next-line no-sparse-arrays
    const v = { b: [1, undefined, , 3], a: { y: undefined, x: 'é"' }, c: Number.NaN };
    expect(canonicalJson(v)).toBe(reference(v));
    expect(canonicalJson(v)).toBe('{"a":{"x":"é\\""},"b":[1,null,,3],"c":null}');
  });
});
