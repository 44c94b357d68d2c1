import { describe, expect, it } from 'vitest';
import { parseBytes, parseDurationMs, parseDurationNs, parseNanoCpus } from '../../src/compose/units.js';
import { shellSplit } from '../../src/compose/shell-split.js';

describe('units', () => {
  it('parses durations', () => {
    expect(parseDurationNs('30s')).toBe(30e9);
    expect(parseDurationNs('1m30s')).toBe(90e9);
    expect(parseDurationNs('90s')).toBe(parseDurationNs('1m30s'));
    expect(parseDurationNs('1.5s')).toBe(1.5e9);
    expect(parseDurationNs('500ms')).toBe(500e6);
    expect(parseDurationNs('1h')).toBe(3600e9);
    expect(parseDurationNs(10)).toBe(10e9);
    expect(parseDurationMs('500ms')).toBe(500);
    for (const bad of ['', 's', '10x', '1m 30s', '-5s']) expect(parseDurationNs(bad)).toBeNull();
  });

  it('parses sizes', () => {
    expect(parseBytes('512m')).toBe(512 * 1024 ** 2);
    expect(parseBytes('1g')).toBe(parseBytes('1024M'));
    expect(parseBytes('1GB')).toBe(1024 ** 3);
    expect(parseBytes('64k')).toBe(65536);
    expect(parseBytes(1024)).toBe(1024);
    expect(parseBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    for (const bad of ['', 'lots', '1x', '-1m']) expect(parseBytes(bad)).toBeNull();
  });

  it('parses cpus', () => {
    expect(parseNanoCpus('0.5')).toBe(5e8);
    expect(parseNanoCpus(2)).toBe(2e9);
    expect(parseNanoCpus('x')).toBeNull();
  });

  it('splits commands like a POSIX shell', () => {
    expect(shellSplit('echo hello world')).toEqual(['echo', 'hello', 'world']);
    expect(shellSplit(`sh -c 'echo "$HOME"'`)).toEqual(['sh', '-c', 'echo "$HOME"']);
    expect(shellSplit('a "b c" d\\ e')).toEqual(['a', 'b c', 'd e']);
    expect(shellSplit('"a\\"b"')).toEqual(['a"b']);
    expect(shellSplit('""')).toEqual(['']);
    expect(shellSplit('"open')).toBeNull();
  });
});
