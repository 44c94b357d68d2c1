import { describe, expect, it } from 'vitest';
import { normalizeExtraHosts, stringMap } from '../../src/compose/value-forms.js';

describe('Compose list-or-map value forms', () => {
  it('stringMap: a list of K=V (a bare K is empty) and a map give the same sorted map', () => {
    expect(stringMap(['b=2', 'a=x=y', 'c'])).toEqual({ a: 'x=y', b: '2', c: '' });
    expect(Object.keys(stringMap({ z: 1, a: null, m: true }))).toEqual(['a', 'm', 'z']);
    expect(stringMap({ z: 1, a: null, m: true })).toEqual({ a: '', m: 'true', z: '1' });
    expect(stringMap('not a list')).toEqual({});
  });

  it('normalizeExtraHosts: HOST=IP and HOST:IP, map values and lists of IPs, one sorted set in Docker form', () => {
    expect(normalizeExtraHosts(['db=10.0.0.2', 'db:10.0.0.2', 'api:::1'])).toEqual(['api:::1', 'db:10.0.0.2']);
    expect(normalizeExtraHosts({ web: ['10.0.0.3', '::1'], db: '10.0.0.2' })).toEqual(['db:10.0.0.2', 'web:10.0.0.3', 'web:::1']);
  });
});
