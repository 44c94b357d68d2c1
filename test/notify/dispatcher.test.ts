import { describe, expect, it } from 'vitest';
import { NotifyDispatcher, type DispatcherLogger } from '../../src/notify/dispatcher.js';
import { NotifyError, type ChatMessage, type Notifier } from '../../src/ports/notifier.js';
import { FakeClock, settle } from './fake-clock.js';

/**
 * The dispatcher against in-memory notifiers and a fake clock: every wait is
 * recorded instead of spent. test/adapters/http-notifier.test.ts runs the same
 * paths against a real HTTP server.
 */
function msg(n: number, over: Partial<ChatMessage> = {}): ChatMessage {
  return { kind: 'drift-appeared', host: 'prod-1', title: `message ${n}`, lines: [`item ${n}`], severity: 'warning', at: '2025-03-14T10:42:07.000Z', ...over };
}

function logs() {
  const lines: { level: string; msg: string; [k: string]: unknown }[] = [];
  const cap = (level: string) => (obj: object, m?: string) => void lines.push({ level, msg: m ?? '', ...obj });
  const log: DispatcherLogger = { info: cap('info'), warn: cap('warn'), error: cap('error') };
  return { log, lines };
}

type Outcome = 'ok' | NotifyError | 'hang';

/** A notifier whose answers are scripted; records the clock time of each attempt. */
function scripted(name: string, clock: FakeClock, script: Outcome[] = [], then: Outcome = 'ok') {
  const calls: { title: string; at: number }[] = [];
  const hung: (() => void)[] = [];
  const notifier: Notifier = {
    name,
    send(m) {
      calls.push({ title: m.title, at: clock.now() });
      const next = script.length > 0 ? script.shift()! : then;
      if (next === 'ok') return Promise.resolve();
      if (next === 'hang') return new Promise<void>((resolve) => hung.push(resolve));
      return Promise.reject(next);
    },
  };
  return { notifier, calls, release: () => hung.splice(0).forEach((r) => r()) };
}

describe('NotifyDispatcher', () => {
  it('delivers in order, one request per minIntervalMs per notifier', async () => {
    const clock = new FakeClock(true);
    const a = scripted('slack', clock);
    const { log } = logs();
    const d = new NotifyDispatcher([a.notifier], clock, log, { minIntervalMs: 1000 });
    for (const n of [1, 2, 3]) d.enqueue(msg(n));
    await settle();
    expect(a.calls).toEqual([
      { title: 'message 1', at: 0 },
      { title: 'message 2', at: 1000 },
      { title: 'message 3', at: 2000 },
    ]);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it('retries with exponential backoff; on 429/503 waits what Retry-After says instead', async () => {
    const clock = new FakeClock(true);
    const a = scripted('slack', clock, [new NotifyError('slack: HTTP 500', 500), new NotifyError('slack: HTTP 429', 429, 1000), new NotifyError('slack: HTTP 503', 503, 3000)]);
    const { log, lines } = logs();
    const d = new NotifyDispatcher([a.notifier], clock, log, { baseBackoffMs: 5000, minIntervalMs: 100 });
    d.enqueue(msg(1));
    await settle();
    // 500 → backoff 5 s; 429 → Retry-After 1 s (backoff would be 10 s); 503 → Retry-After 3 s.
    expect(a.calls.map((c) => c.at)).toEqual([0, 5000, 6000, 9000]);
    expect(clock.sleeps).toEqual([5000, 1000, 3000]);
    expect(lines.filter((l) => l.msg === 'notify: send failed, will retry').map((l) => [l.status, l.retryInMs])).toEqual([
      [500, 5000],
      [429, 1000],
      [503, 3000],
    ]);
    expect(lines.some((l) => l.msg === 'notify: delivered after retries' && l.attempts === 4)).toBe(true);
  });

  it('ignores Retry-After on other statuses and caps backoff at maxBackoffMs; gives up after maxAttempts', async () => {
    const clock = new FakeClock(true);
    const a = scripted('teams', clock, [], new NotifyError('teams: HTTP 502', 502, 1));
    const { log, lines } = logs();
    const d = new NotifyDispatcher([a.notifier], clock, log, { baseBackoffMs: 1000, maxBackoffMs: 5000, maxAttempts: 6, minIntervalMs: 0 });
    d.enqueue(msg(1));
    d.enqueue(msg(2));
    await settle(30);
    expect(a.calls.filter((c) => c.title === 'message 1')).toHaveLength(6);
    expect(clock.sleeps.slice(0, 5)).toEqual([1000, 2000, 4000, 5000, 5000]);
    const gaveUp = lines.filter((l) => l.level === 'error' && /gave up after 6 attempts/.test(l.msg));
    expect(gaveUp.map((l) => l.title)).toEqual(['message 1', 'message 2']);
  });

  it('caps a huge Retry-After at maxRetryAfterMs', async () => {
    const clock = new FakeClock(true);
    const a = scripted('discord', clock, [new NotifyError('discord: HTTP 429', 429, 2 * 86_400_000)]);
    const d = new NotifyDispatcher([a.notifier], clock, logs().log, { maxRetryAfterMs: 120_000, minIntervalMs: 0 });
    d.enqueue(msg(1));
    await settle();
    expect(clock.sleeps).toEqual([120_000]);
    expect(a.calls).toHaveLength(2);
  });

  it('drops a message the server rejects (404, 400) at once and goes on; retries when no response came', async () => {
    const clock = new FakeClock(true);
    const a = scripted('slack', clock, [new NotifyError('slack: HTTP 404: no_service', 404), new NotifyError('slack: request failed (ECONNREFUSED)', null)]);
    const { log, lines } = logs();
    const d = new NotifyDispatcher([a.notifier], clock, log, { minIntervalMs: 0 });
    d.enqueue(msg(1));
    d.enqueue(msg(2));
    await settle();
    expect(a.calls.map((c) => c.title)).toEqual(['message 1', 'message 2', 'message 2']);
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ notifier: 'slack', status: 404, title: 'message 1', msg: 'notify: rejected by the server, message dropped' });
  });

  it('a full queue drops its oldest message and says so', async () => {
    const clock = new FakeClock(true);
    const a = scripted('slack', clock, ['hang']);
    const { log, lines } = logs();
    const d = new NotifyDispatcher([a.notifier], clock, log, { maxQueue: 3, minIntervalMs: 0 });
    d.enqueue(msg(0));
    await settle(); // message 0 is in flight (hanging)
    for (let n = 1; n <= 6; n++) d.enqueue(msg(n));
    expect(d.pending()).toBe(3);
    const drops = lines.filter((l) => l.msg === 'notify: queue full, dropped the oldest message');
    expect(drops.map((l) => l.title)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(drops.at(-1)).toMatchObject({ notifier: 'slack', droppedTotal: 3, maxQueue: 3 });
    a.release();
    await settle();
    expect(a.calls.map((c) => c.title)).toEqual(['message 0', 'message 4', 'message 5', 'message 6']);
  });

  it('one hanging chat does not hold up another', async () => {
    const clock = new FakeClock(true);
    const dead = scripted('teams', clock, [], 'hang');
    const live = scripted('slack', clock);
    const d = new NotifyDispatcher([dead.notifier, live.notifier], clock, logs().log, { minIntervalMs: 0 });
    for (const n of [1, 2, 3]) d.enqueue(msg(n));
    await settle();
    expect(live.calls.map((c) => c.title)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(dead.calls).toHaveLength(1);
  });

  it('enqueue returns at once while every send hangs (200 messages, synchronously)', () => {
    const clock = new FakeClock(true);
    const a = scripted('slack', clock, [], 'hang');
    const d = new NotifyDispatcher([a.notifier], clock, logs().log);
    // enqueue is synchronous: had it waited on the hanging sends, this loop would never end.
    for (let n = 0; n < 200; n++) d.enqueue(msg(n));
    expect(d.pending()).toBe(100);
  });

  it('a notifier that throws synchronously does not escape enqueue or wedge the lane', async () => {
    const clock = new FakeClock(true);
    let calls = 0;
    const bad: Notifier = {
      name: 'webhook',
      send() {
        calls++;
        if (calls === 1) throw new TypeError('boom');
        return Promise.resolve();
      },
    };
    const d = new NotifyDispatcher([bad], clock, logs().log, { minIntervalMs: 0 });
    expect(() => d.enqueue(msg(1))).not.toThrow();
    d.enqueue(msg(2));
    await settle();
    expect(calls).toBe(3); // message 1 failed (no status: retried) then sent; message 2 sent
  });

  it('drain() resolves once everything is delivered', async () => {
    const clock = new FakeClock(false);
    const a = scripted('slack', clock);
    const d = new NotifyDispatcher([a.notifier], clock, logs().log, { minIntervalMs: 1000 });
    d.enqueue(msg(1));
    d.enqueue(msg(2));
    const drained = d.drain(10_000);
    await clock.advance(1000);
    await expect(drained).resolves.toEqual({ undelivered: 0 });
    expect(a.calls.map((c) => c.at)).toEqual([0, 1000]);
  });

  it('drain() gives up at its timeout, reports what was left and stops the workers', async () => {
    const clock = new FakeClock(false);
    const a = scripted('slack', clock, [], new NotifyError('slack: HTTP 500', 500));
    const { log, lines } = logs();
    const d = new NotifyDispatcher([a.notifier], clock, log, { baseBackoffMs: 1000, minIntervalMs: 0 });
    d.enqueue(msg(1));
    d.enqueue(msg(2));
    const drained = d.drain(2500);
    await clock.advance(2500);
    await expect(drained).resolves.toEqual({ undelivered: 2 });
    expect(lines.some((l) => l.msg === 'notify: shutting down with undelivered messages' && l.undelivered === 2)).toBe(true);
    const before = a.calls.length;
    await clock.advance(60_000);
    expect(a.calls.length).toBe(before); // no retries after shutdown
    d.enqueue(msg(3));
    await settle();
    expect(a.calls.length).toBe(before);
  });

  it('sendNow() tries each notifier once and reports which failed', async () => {
    const clock = new FakeClock(true);
    const ok = scripted('slack', clock);
    const failing = scripted('ops-webhook', clock, [], new NotifyError('ops-webhook: HTTP 500', 500));
    const d = new NotifyDispatcher([ok.notifier, failing.notifier], clock, logs().log);
    const res = await d.sendNow(msg(1, { kind: 'test', severity: 'info' }));
    expect(res).toEqual([
      { name: 'slack', ok: true, error: null },
      { name: 'ops-webhook', ok: false, error: 'ops-webhook: HTTP 500' },
    ]);
    expect(failing.calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});
