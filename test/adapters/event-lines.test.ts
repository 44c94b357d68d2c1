import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readEventLines } from '../../src/adapters/event-lines.js';

describe('the Engine event stream, one JSON object per line', () => {
  it('hands each line to onValue across chunk boundaries, skips blank lines', () => {
    const s = new PassThrough();
    const values: unknown[] = [];
    const errors: string[] = [];
    readEventLines(s, 'docker events (test)', (v) => values.push(v), (e) => errors.push(e.message));
    s.write('{"Type":"container","Act');
    s.write('ion":"die"}\n\n  \n{"Type":"node"}\n{"Ty');
    expect(values).toEqual([{ Type: 'container', Action: 'die' }, { Type: 'node' }]);
    s.write('pe":"service"}\n');
    expect(values).toHaveLength(3);
    expect(errors).toEqual([]);
  });

  it('an unparsable line, a stream error and the end each fail, named; the error mapper decides the type', () => {
    const s = new PassThrough();
    const errors: Error[] = [];
    class Mapped extends Error {}
    readEventLines(s, 'docker events (test)', () => undefined, (e) => errors.push(e), (e) => new Mapped(`mapped: ${e.message}`));
    s.write('not json\n');
    s.emit('error', new Error('socket hang up'));
    expect(errors.map((e) => e.message)).toEqual(['docker events (test): unparsable line: not json', 'mapped: socket hang up']);
    expect(errors[1]).toBeInstanceOf(Mapped);
    s.emit('end');
    expect(errors[2]!.message).toBe('docker events (test): the engine closed the event stream');
  });
});
