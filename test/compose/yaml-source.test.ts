import { describe, expect, it, vi } from 'vitest';
import { parseYaml } from '../../src/compose/yaml-source.js';

const errorsOf = (text: string) => parseYaml('compose.yaml', text).diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);

describe('parseYaml on broken YAML', () => {
  it('locates an alias whose anchor does not exist (or comes later)', () => {
    expect(errorsOf('services:\n  web:\n    image: x\n    logging: *logging\n')).toEqual([
      '4:14 yaml-syntax cannot resolve YAML aliases: Unresolved alias (the anchor must be set before the alias): logging',
    ]);
    expect(errorsOf('a: *late\nb: &late 1\n')[0]).toMatch(/^1:4 yaml-syntax .*Unresolved alias/);
  });

  it('locates a `<<` merge of something that is not a mapping', () => {
    expect(errorsOf('services:\n  web:\n    <<: 5\n    image: x\n')).toEqual(['3:9 yaml-syntax cannot resolve YAML aliases: Merge sources must be maps or map aliases']);
    expect(errorsOf('x-b: &b {restart: always}\nservices:\n  web:\n    <<: [*b, plain]\n    image: x\n')[0]).toMatch(/^4:14 /);
  });

  it('refuses an alias inside the node it names (a cyclic value every later step would recurse on)', () => {
    expect(errorsOf('x-a: &a\n  b: *a\nservices: {}\n')).toEqual([
      '2:6 yaml-syntax alias *a is inside the node it refers to: a recursive structure has no end and cannot be a Compose file',
    ]);
    expect(errorsOf('services:\n  web: &w\n    image: x\n    <<: *w\n')[0]).toMatch(/^4:9 .*alias \*w is inside/);
    expect(errorsOf('x-a: &a {b: 1}\nx-c: {d: *a, e: *a}\n')).toEqual([]); // reuse is not recursion
  });

  it('locates an alias bomb at its first alias', () => {
    const bomb = ['x-a: &a [1,1,1,1,1,1,1,1,1,1]', ...'bcdef'.split('').map((c, i) => `x-${c}: &${c} [${Array(10).fill(`*${'abcdef'[i]}`).join(',')}]`)].join('\n');
    expect(errorsOf(`${bomb}\n`)).toEqual([expect.stringMatching(/^2:10 yaml-syntax .*Excessive alias count/)]);
  });

  it('reports nesting too deep for the parser once, at a place that depends only on the file', () => {
    const text = `services:\n  web:\n    image: x\n    command: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const first = errorsOf(text);
    expect(first).toEqual(['4:114 yaml-syntax YAML nesting is too deep to read (more than 100 levels of [ ] or { } here); flatten the structure']);
    // Deeper in the stack when called again from a nested frame: the same answer.
    const nested = (n: number): string[] => (n === 0 ? errorsOf(text) : nested(n - 1));
    expect(nested(200)).toEqual(first);
  });

  it('finds duplicate keys in one pass, as the yaml library would', () => {
    expect(errorsOf('a: 1\nb: 2\na: 3\n')).toEqual(['3:1 yaml-duplicate-key duplicate key: map keys must be unique']);
    expect(errorsOf('m:\n  1: a\n  "1": b\n')).toEqual([]); // a number and a string are different keys
    expect(errorsOf('x: &x {a: 1}\ny:\n  <<: *x\n  <<: *x\n')).toEqual([]); // several `<<` merge keys are allowed
    const many = `services:\n${Array.from({ length: 5000 }, (_, i) => `  s${i}: {image: x}\n`).join('')}  s42: {image: y}\n`;
    expect(errorsOf(many)).toEqual(['5002:3 yaml-duplicate-key duplicate key: map keys must be unique']);
  });

  it('says nothing on stderr for a mapping used as a key (the schema reports the key)', () => {
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      expect(parseYaml('compose.yaml', 'services:\n  ? [a, b]\n  : image: x\n').source).not.toBeNull();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('resolves key paths through `<<` merge keys to the anchor that defines them', () => {
    const { source } = parseYaml('compose.yaml', 'x-b: &b\n  restart: always\nservices:\n  web:\n    <<: *b\n    image: x\n');
    expect(source!.locate(['services', 'web', 'restart'])).toEqual({ line: 2, col: 12 });
  });
});
