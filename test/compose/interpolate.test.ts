import { describe, expect, it } from 'vitest';
import { interpolate } from '../../src/compose/interpolate.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '', NUM: '42' };
const lookup = (n: string) => env[n];
const run = (s: string) => interpolate(s, lookup);

describe('interpolate', () => {
  it.each([
    ['plain text', 'plain text'],
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['a${SET}b$NUM-c', 'avalueb42-c'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['cost: $$5', 'cost: $5'],
    ['${SET:-d}', 'value'],
    ['${EMPTY:-d}', 'd'],
    ['${UNSET:-d}', 'd'],
    ['${SET-d}', 'value'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${UNSET:+alt}', ''],
    ['${SET+alt}', 'alt'],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${SET:?msg}', 'value'],
    ['${EMPTY?msg}', ''],
    ['${UNSET:-${SET}}', 'value'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-a:b-c}', 'a:b-c'],
    ['${SET:-${UNSET:?never evaluated}}', 'value'],
  ])('%s → %s', (input, expected) => {
    const r = run(input);
    expect(r.errors).toEqual([]);
    expect(r.value).toBe(expected);
  });

  it('defaults an unset variable to blank and reports it', () => {
    const r = run('x${UNSET}y$UNSET2');
    expect(r.value).toBe('xy');
    expect(r.unset).toEqual(['UNSET', 'UNSET2']);
  });

  it('fails on a required variable with the author\'s message', () => {
    expect(run('${UNSET:?set it in .env}').errors).toEqual(['required variable UNSET is missing a value: set it in .env']);
    expect(run('${EMPTY:?must not be empty}').errors).toEqual(['required variable EMPTY is missing a value: must not be empty']);
    expect(run('${UNSET?}').errors).toEqual(['required variable UNSET is not set']);
    expect(run('${EMPTY?}').errors).toEqual([]);
  });

  it.each(['${}', '${1X}', 'echo $1', 'trailing $', '${SET', '${SET:x}', '${SET:-unclosed'])('rejects %s', (input) => {
    expect(run(input).errors.length).toBeGreaterThan(0);
  });

  it('never puts a value into an error message', () => {
    const secret = 'p4ssw0rd-not-in-errors';
    const r = interpolate('${SECRET:?x} ${SECRET:-} $ ${', (n) => (n === 'SECRET' ? secret : undefined));
    expect(r.errors.join('\n')).not.toContain(secret);
  });

  it('says whether anything was substituted', () => {
    expect(run('no vars').substituted).toBe(false);
    expect(run('$$escaped').substituted).toBe(false);
    expect(run('${SET}').substituted).toBe(true);
  });
});
