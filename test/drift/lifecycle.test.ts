import { describe, expect, it } from 'vitest';
import type { DriftItem } from '../../src/drift/detect.js';
import { describeResolved, EMPTY_LEDGER, noticeAppeared, transition } from '../../src/drift/lifecycle.js';

const item = (object: string, aspect: DriftItem['aspect'] = 'stopped'): DriftItem => ({
  id: `web/container/${object}/${aspect}`,
  stack: 'web',
  kind: 'container',
  object,
  service: 'web',
  aspect,
  expected: 'running',
  found: 'exited (Exited (0) 1 second ago)',
});

describe('drift lifecycle', () => {
  const t0 = new Date('2026-01-01T10:42:00Z');
  const t1 = new Date('2026-01-01T10:43:00Z');

  it('announces an item once, stays quiet while it persists, and announces its end once', () => {
    const a = transition(EMPTY_LEDGER, [item('web-web-1')], t0);
    expect(a.appeared.map((x) => x.item.id)).toEqual(['web/container/web-web-1/stopped']);
    let ledger = a.ledger;
    for (let i = 0; i < 3; i++) {
      const again = transition(ledger, [item('web-web-1')], t1);
      expect(again.appeared).toEqual([]);
      expect(again.resolved).toEqual([]);
      ledger = again.ledger;
    }
    expect(ledger.open['web/container/web-web-1/stopped']!.since).toBe(t0.toISOString());
    const gone = transition(ledger, [], t1);
    expect(gone.resolved).toHaveLength(1);
    expect(gone.resolved[0]).toMatchObject({ resolution: 'fixed', since: t0.toISOString() });
    expect(gone.ledger).toEqual(EMPTY_LEDGER);
  });

  it('says how it ended: undone by berth, or made desired by a commit', () => {
    const { ledger } = transition(EMPTY_LEDGER, [item('a-1'), item('b-1')], t0);
    const end = transition(ledger, [], t1, new Set(['web/a-1']), new Set(['web/b-1']));
    expect(end.resolved.map((r) => r.resolution)).toEqual(['healed', 'committed']);
    expect(describeResolved(end.resolved[0]!)).toBe('web/a-1: container stopped (since 2026-01-01T10:42:00.000Z) — undone by berth');
  });

  it('treats a new aspect of the same object as new drift', () => {
    const { ledger } = transition(EMPTY_LEDGER, [item('w-1', 'stopped')], t0);
    const next = transition(ledger, [item('w-1', 'modified')], t1);
    expect(next.appeared.map((x) => x.item.aspect)).toEqual(['modified']);
    expect(next.resolved.map((x) => x.item.aspect)).toEqual(['stopped']);
  });

  it('noticeAppeared opens new items before the repair; the transition after the pass only resolves them', () => {
    const { ledger } = transition(EMPTY_LEDGER, [item('old-1')], t0);
    const early = noticeAppeared(ledger, [item('a-1'), item('old-1')], t1);
    expect(early.appeared.map((x) => x.item.object)).toEqual(['a-1']);
    // Nothing resolves before the repair, not even what this observation no longer sees.
    expect(noticeAppeared(ledger, [], t1)).toEqual({ ledger, appeared: [] });
    const end = transition(early.ledger, [item('a-1'), item('old-1')], t1);
    expect(end.appeared).toEqual([]);
    const healed = transition(end.ledger, [], t1, new Set(['web/a-1', 'web/old-1']));
    expect(healed.resolved.map((r) => [r.item.object, r.resolution, r.since])).toEqual([
      ['a-1', 'healed', t1.toISOString()],
      ['old-1', 'healed', t0.toISOString()],
    ]);
  });
});
