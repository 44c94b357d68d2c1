import { describe, expect, it } from 'vitest';
import { countRequests, dockerTimeMs, median, parsePollerLog, timeToHealthy } from '../../bench/rollout-figures.js';

describe('parsePollerLog', () => {
  it('pairs a retry with the failed try before it and converts uptime to realtime', () => {
    const log = ['100.00 100.02 ok web v1 on 3f2a', '100.07 103.07 FAIL', '103.07 103.09 RETRY ok web v2 on 9c1d', '103.15 103.17 ok web v2 on 9c1d', '103.2'].join('\n');
    const rs = parsePollerLog(log, 1_000_000);
    expect(rs).toHaveLength(3);
    expect(rs[0]).toMatchObject({ startMs: 1_100_000, endMs: 1_100_020, ok: true, body: 'web v1', retry: null });
    expect(rs[1]).toMatchObject({ ok: false, body: null, retry: { ok: true, body: 'web v2' } });
    expect(rs[1]!.endMs - rs[1]!.startMs).toBeCloseTo(3000, 6);
  });

  it('drops a retry line that has no failed try before it (log read from its middle)', () => {
    expect(parsePollerLog('5.00 5.01 RETRY FAIL\n5.10 5.12 ok web v1 on a', 0)).toEqual([{ startMs: 5100, endMs: 5120, ok: true, body: 'web v1', retry: null }]);
  });
});

describe('countRequests', () => {
  const req = (startMs: number, endMs: number, ok: boolean, retryOk?: boolean) => ({
    startMs,
    endMs,
    ok,
    body: ok ? 'web v1' : null,
    retry: retryOk === undefined ? null : { startMs: endMs, endMs: endMs + 5, ok: retryOk, body: retryOk ? 'web v2' : null },
  });

  it('counts only tries started during the rollout; bare failures, those in the disconnect, and those a retry does not save', () => {
    const rs = [
      req(900, 910, false, false), // before the rollout: not counted
      req(1000, 1010, true),
      req(1500, 4500, false, true), // in flight across the disconnect at 2000–2200, saved by the retry
      req(3000, 3020, false, false), // failed outside the disconnect, retry failed too
      req(5000, 5010, true), // after: not counted
    ];
    const c = countRequests(rs, { fromMs: 1000, toMs: 4000 }, { fromMs: 2000, toMs: 2200 });
    expect(c).toEqual({
      total: 3,
      failedBare: 2,
      failedBareInDisconnect: 1,
      failedWithOneRetry: 1,
      answers: { 'web v1': 1, 'web v2': 1 },
      failures: [
        { sinceDisconnectMs: -500, durationMs: 3000, retryOk: true },
        { sinceDisconnectMs: 1000, durationMs: 20, retryOk: false },
      ],
    });
  });

  it('widens the disconnect window by the poller clock resolution only', () => {
    const rs = [req(2205, 2300, false, true), req(2215, 2300, false, true)];
    expect(countRequests(rs, { fromMs: 0, toMs: 9999 }, { fromMs: 2000, toMs: 2200 }, 10).failedBareInDisconnect).toBe(1);
    expect(countRequests(rs, { fromMs: 0, toMs: 9999 }, null).failedBareInDisconnect).toBe(0);
  });
});

describe('dockerTimeMs', () => {
  it('keeps the sub-millisecond part of Docker nanosecond timestamps', () => {
    expect(dockerTimeMs('2026-11-23T10:00:01.123456789Z') - Date.parse('2026-11-23T10:00:01Z')).toBeCloseTo(123.457, 2);
    expect(dockerTimeMs('2026-11-23T12:00:00+02:00')).toBe(Date.parse('2026-11-23T10:00:00Z'));
    expect(() => dockerTimeMs('yesterday')).toThrow(/not a Docker timestamp/);
  });
});

describe('timeToHealthy', () => {
  const started = '2026-11-23T10:00:00.000000000Z';
  const probe = (startS: number, exit: number) => ({ Start: `2026-11-23T10:00:0${startS.toFixed(3)}Z`, End: `2026-11-23T10:00:0${(startS + 0.05).toFixed(3)}Z`, ExitCode: exit });

  it('is StartedAt to the end of the first successful probe', () => {
    const t = timeToHealthy(started, [probe(3.0, 0), probe(1.0, 1), probe(2.0, 0)], 1000);
    expect(t.ms).toBeCloseTo(2050, 6);
    expect(t.complete).toBe(true);
  });

  it('says when Docker dropped the first probes, and null without any success', () => {
    expect(timeToHealthy(started, [probe(3.0, 0), probe(4.0, 0)], 1000).complete).toBe(false);
    expect(timeToHealthy(started, [probe(1.0, 1)], 1000).ms).toBeNull();
  });
});

describe('median', () => {
  it('takes the middle, or the mean of the two middles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
