import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OpenDrift } from '../../src/drift/lifecycle.js';
import type { ControllerActivity } from '../../src/model/outcome.js';
import { ChatBridge } from '../../src/notify/bridge.js';
import type { ChatMessage } from '../../src/ports/notifier.js';
import { silentLogger } from '../../src/ports/logger.js';
import { FakeClock, settle } from './fake-clock.js';

/**
 * How long chat holds drift: a burst seen over several passes is one message,
 * even when a pass in flight outlasts the usual 30 s hold; events alone do not
 * hold it past 30 s (a crash loop must still be told).
 */
const removed = (name: string): OpenDrift => ({
  item: { id: `fleet/container/${name}/missing`, stack: 'fleet', kind: 'container', object: name, service: name, aspect: 'missing', expected: 'running', found: 'missing' } as OpenDrift['item'],
  since: new Date(0).toISOString(),
});

function bridge() {
  let activity: ControllerActivity = 'idle';
  const sent: ChatMessage[] = [];
  // The dispatcher's spacing runs on an auto clock: every queued message goes out at once.
  const chat = new ChatBridge('host', '/repo', new FakeClock(true), silentLogger, () => ({ name: 'rec', send: async (m) => void sent.push(m) }), () => activity);
  chat.configure([{ type: 'webhook', url: 'http://chat.invalid/hook', name: 'rec', secret: null } as never]);
  const drift = sent.filter.bind(sent);
  return { chat, sent: () => drift((m) => m.kind === 'drift-appeared'), set: (a: ControllerActivity) => void (activity = a) };
}

async function wait(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

describe('ChatBridge drift hold', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => void vi.useRealTimers());

  it('idle: sends after the 2 s settle', async () => {
    const b = bridge();
    b.chat.driftChanged({ appeared: [removed('w0')], resolved: [] }, null);
    await wait(1_900);
    expect(b.sent()).toHaveLength(0);
    await wait(200);
    expect(b.sent()).toHaveLength(1);
  });

  it('a pass that outlasts the max hold: the burst seen before and after it is one message', async () => {
    const b = bridge();
    b.set('pass');
    b.chat.driftChanged({ appeared: Array.from({ length: 12 }, (_, i) => removed(`w${i}`)), resolved: [] }, null);
    await wait(45_000); // the first pass heals for 45 s
    expect(b.sent()).toHaveLength(0);
    b.chat.driftChanged({ appeared: Array.from({ length: 18 }, (_, i) => removed(`w${12 + i}`)), resolved: [] }, null);
    await wait(20_000); // its follow-up heals the rest
    expect(b.sent()).toHaveLength(0);
    b.set('idle');
    await wait(2_100);
    expect(b.sent()).toHaveLength(1);
    expect(b.sent()[0]!.lines.filter((l) => l.includes('fleet'))).toHaveLength(30);
  });

  it('events alone (a crash loop) hold it no longer than 30 s', async () => {
    const b = bridge();
    b.set('events');
    b.chat.driftChanged({ appeared: [removed('w0')], resolved: [] }, null);
    await wait(29_000);
    expect(b.sent()).toHaveLength(0);
    await wait(2_000);
    expect(b.sent()).toHaveLength(1);
  });

  it('a pass that never ends is bounded by the pass hold', async () => {
    const b = bridge();
    b.set('pass');
    b.chat.driftChanged({ appeared: [removed('w0')], resolved: [] }, null);
    await wait(ChatBridge.DRIFT_PASS_HOLD_MS - 1_000);
    expect(b.sent()).toHaveLength(0);
    await wait(2_000);
    expect(b.sent()).toHaveLength(1);
  });
});
