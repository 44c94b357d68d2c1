import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/compose/dotenv.js';

describe('parseDotenv', () => {
  it('reads the forms docker compose reads', () => {
    const text = [
      '# comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      '  SPACED = padded  ',
      'INLINE=abc # a comment',
      'HASH=abc#not-a-comment',
      'SINGLE=\'literal $PLAIN \\n\'',
      'DOUBLE="line1\\nline2 ${PLAIN}"',
      'MULTI="a',
      'b"',
      'REF=${PLAIN}-x',
      'ESCAPED="\\$PLAIN"',
      'EMPTY=',
      'COLON: yaml-style',
    ].join('\n');
    const r = parseDotenv(text);
    expect(r.errors).toEqual([]);
    expect(r.values).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'padded',
      INLINE: 'abc',
      HASH: 'abc#not-a-comment',
      SINGLE: 'literal $PLAIN \\n',
      DOUBLE: 'line1\nline2 value',
      MULTI: 'a\nb',
      REF: 'value-x',
      ESCAPED: '$PLAIN',
      EMPTY: '',
      COLON: 'yaml-style',
    });
    expect(r.entries.find((e) => e.key === 'REF')?.line).toBe(12);
  });

  it('inherits a bare KEY from the environment', () => {
    const r = parseDotenv('FROM_ENV\nMISSING\n', (n) => (n === 'FROM_ENV' ? 'inherited' : undefined));
    expect(r.values).toEqual({ FROM_ENV: 'inherited' });
  });

  it('interpolates from the environment after the file', () => {
    expect(parseDotenv('A=${OUTER:-d}', (n) => (n === 'OUTER' ? 'o' : undefined)).values.A).toBe('o');
  });

  it('accepts CRLF line endings and a BOM', () => {
    expect(parseDotenv('\uFEFFA=1\r\nB=2\r\n').values).toEqual({ A: '1', B: '2' });
  });

  it('reports bad lines with their line number and never the value', () => {
    const r = parseDotenv('OK=1\n=nokey\nBAD KEY=x\nQ="unterminated secret-value\n');
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4]);
    expect(JSON.stringify(r.errors)).not.toContain('secret-value');
  });
});
