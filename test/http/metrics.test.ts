import { register as globalRegister } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';

const lines = async (m: ReturnType<typeof createMetrics>, prefix: string) =>
  (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));

describe('createMetrics', () => {
  it('builds a fresh registry with process metrics and every berth metric, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    expect(a.registry).not.toBe(globalRegister);
    expect(await globalRegister.metrics()).not.toContain('berth_');
    const text = await a.metrics();
    for (const name of [
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      '# TYPE berth_reconcile_duration_seconds histogram',
      '# TYPE berth_reconcile_total counter',
      '# TYPE berth_drift_objects gauge',
      '# TYPE berth_applied_revision_info gauge',
      '# TYPE berth_rollouts_total counter',
      '# TYPE berth_git_fetch_failures_total counter',
      '# TYPE berth_webhooks_total counter',
    ]) {
      expect(text).toContain(name);
    }
    expect(a.contentType).toMatch(/^text\/plain/);
  });

  it('starts every known result label at 0', async () => {
    const m = createMetrics();
    expect(await lines(m, 'berth_reconcile_total')).toEqual(
      ['converged', 'in_sync', 'failed', 'invalid', 'error'].map((r) => `berth_reconcile_total{result="${r}"} 0`),
    );
    expect(await lines(m, 'berth_rollouts_total')).toEqual(['succeeded', 'rolled_back', 'failed'].map((r) => `berth_rollouts_total{result="${r}"} 0`));
    expect(await lines(m, 'berth_webhooks_total{result="accepted"}')).toEqual(['berth_webhooks_total{result="accepted"} 0']);
    expect(await lines(m, 'berth_git_fetch_failures_total')).toEqual(['berth_git_fetch_failures_total 0']);
  });

  it('observes reconciles into the histogram (0.05 s … 10 min buckets) and the counter', async () => {
    const m = createMetrics();
    m.observeReconcile(0.03, 'in_sync');
    m.observeReconcile(42, 'converged');
    m.observeReconcile(900, 'failed');
    const text = await m.metrics();
    expect(text).toContain('berth_reconcile_duration_seconds_bucket{le="0.05"} 1');
    expect(text).toContain('berth_reconcile_duration_seconds_bucket{le="60"} 2');
    expect(text).toContain('berth_reconcile_duration_seconds_bucket{le="600"} 2');
    expect(text).toContain('berth_reconcile_duration_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('berth_reconcile_duration_seconds_count 3');
    expect(text).toContain('berth_reconcile_total{result="converged"} 1');
    expect(text).toContain('berth_reconcile_total{result="in_sync"} 1');
    expect(text).toContain('berth_reconcile_total{result="failed"} 1');
  });

  it('keeps exactly one applied revision', async () => {
    const m = createMetrics();
    m.setRevision('aaa111');
    m.setRevision('bbb222');
    expect(await lines(m, 'berth_applied_revision_info')).toEqual(['berth_applied_revision_info{revision="bbb222"} 1']);
    m.setRevision('');
    expect(await lines(m, 'berth_applied_revision_info')).toEqual([]);
  });

  it('counts drift per stack and kind, and label sets that stopped drifting disappear', async () => {
    const m = createMetrics();
    m.setDrift([
      { stack: 'web', kind: 'container' },
      { stack: 'web', kind: 'container' },
      { stack: 'web', kind: 'network' },
      { stack: 'db', kind: 'volume' },
    ]);
    expect((await lines(m, 'berth_drift_objects')).sort()).toEqual([
      'berth_drift_objects{stack="db",kind="volume"} 1',
      'berth_drift_objects{stack="web",kind="container"} 2',
      'berth_drift_objects{stack="web",kind="network"} 1',
    ]);
    m.setDrift([{ stack: 'web', kind: 'network' }]);
    expect(await lines(m, 'berth_drift_objects')).toEqual(['berth_drift_objects{stack="web",kind="network"} 1']);
    m.setDrift([]);
    expect(await lines(m, 'berth_drift_objects')).toEqual([]);
  });

  it('counts rollouts, git fetch failures and webhooks', async () => {
    const m = createMetrics();
    m.rolloutFinished('succeeded');
    m.rolloutFinished('rolled_back');
    m.rolloutFinished('rolled_back');
    m.gitFetchFailed();
    m.webhook('unauthorized');
    const text = await m.metrics();
    expect(text).toContain('berth_rollouts_total{result="succeeded"} 1');
    expect(text).toContain('berth_rollouts_total{result="rolled_back"} 2');
    expect(text).toContain('berth_rollouts_total{result="failed"} 0');
    expect(text).toContain('berth_git_fetch_failures_total 1');
    expect(text).toContain('berth_webhooks_total{result="unauthorized"} 1');
  });

  it('per host: every series carries `host`, one host\'s revision and drift replace only its own, berth_host_up follows the engine', async () => {
    const m = createMetrics();
    const a = m.forHost('app-1');
    const b = m.forHost('db-1');
    a.setRevision('aaa');
    b.setRevision('bbb');
    a.setRevision('ccc');
    a.setDrift([{ stack: 'web', kind: 'missing' }, { stack: 'web', kind: 'missing' }]);
    b.setDrift([{ stack: 'data', kind: 'stopped' }]);
    a.setDrift([]);
    a.observeReconcile(0.2, 'converged');
    m.hostUp('app-1', true);
    m.hostUp('db-1', false);
    expect(await lines(m, 'berth_applied_revision_info{')).toEqual(['berth_applied_revision_info{revision="bbb",host="db-1"} 1', 'berth_applied_revision_info{revision="ccc",host="app-1"} 1']);
    expect(await lines(m, 'berth_drift_objects{')).toEqual(['berth_drift_objects{stack="data",kind="stopped",host="db-1"} 1']);
    expect(await lines(m, 'berth_reconcile_total{result="converged",host=')).toEqual(['berth_reconcile_total{result="converged",host="app-1"} 1', 'berth_reconcile_total{result="converged",host="db-1"} 0']);
    expect(await lines(m, 'berth_host_up')).toEqual(['berth_host_up{host="app-1"} 1', 'berth_host_up{host="db-1"} 0']);
  });
});
