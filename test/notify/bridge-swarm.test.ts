import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/model/desired.js';
import type { SwarmPassResult } from '../../src/model/swarm-outcome.js';
import { ChatBridge } from '../../src/notify/bridge.js';
import type { ChatMessage } from '../../src/ports/notifier.js';
import { silentLogger } from '../../src/ports/logger.js';
import { FakeClock, settle } from './fake-clock.js';

/** A swarm host's passes as chat hears them: once per revision, a rollback told once and not again by the passes that follow. */
const settings = { notify: [{ type: 'webhook', url: 'http://chat.invalid/hook', name: 'rec', secret: null }] } as unknown as DesiredState['settings'];
const pass = (revision: string, outcome: SwarmPassResult['outcome'], ops: SwarmPassResult['ops'] = []): SwarmPassResult => ({
  outcome,
  source: { dir: '/repo', revision, origin: '/repo' },
  settings,
  ops,
  errors: [],
  durationMs: 1,
});
const rolledBack = [{ object: 'shop/web', kind: 'service.update', result: 'rolled-back' as const, message: 'Swarm rolled the update back' }];
const updated = [{ object: 'shop/web', kind: 'service.update', result: 'ok' as const, message: 'updated, tasks running' }];

function bridge() {
  const sent: ChatMessage[] = [];
  const clock = new FakeClock();
  const chat = new ChatBridge('cluster', '/repo', clock, silentLogger, () => ({ name: 'rec', send: async (m) => void sent.push(m) }));
  // Sends are spaced per notifier: time moves on so every queued message goes out.
  const flush = async () => {
    for (let i = 0; i < 5; i++) {
      await settle();
      await clock.advance(10_000);
    }
    await settle();
  };
  return { chat, sent, flush };
}

describe('ChatBridge on a swarm host', () => {
  it('a deploy is told once; the healing passes of the same revision say nothing', async () => {
    const { chat, sent, flush } = bridge();
    chat.swarmReconciled(pass('a'.repeat(40), 'converged', updated));
    chat.swarmReconciled(pass('a'.repeat(40), 'in-sync'));
    chat.swarmReconciled(pass('a'.repeat(40), 'converged', updated));
    await flush();
    expect(sent.map((m) => `${m.kind} ${m.title}`)).toEqual(['sync-succeeded Deployed aaaaaaaaaaaa on cluster']);
  });

  it('a rollback is one message naming the service; later passes at that commit, converged or not, add none; the next commit is told', async () => {
    const { chat, sent, flush } = bridge();
    chat.swarmReconciled(pass('b'.repeat(40), 'failed', rolledBack));
    chat.swarmReconciled(pass('b'.repeat(40), 'in-sync'));
    chat.swarmReconciled(pass('b'.repeat(40), 'converged', updated));
    chat.swarmReconciled(pass('b'.repeat(40), 'failed', rolledBack));
    chat.swarmReconciled(pass('c'.repeat(40), 'converged', updated));
    await flush();
    expect(sent.map((m) => m.kind)).toEqual(['rollout-failed', 'sync-succeeded']);
    expect(sent[0]!.title).toBe('Rollout of shop/web at bbbbbbbbbbbb rolled back on cluster; not retried until a new commit');
    expect(sent[0]!.lines).toEqual(['shop/web: rolled back, its previous spec runs again — Swarm rolled the update back']);
  });
});
