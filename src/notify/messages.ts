import { describeDrift, describeResolved, type OpenDrift, type ResolvedDrift } from '../drift/lifecycle.js';
import type { OpResult, ReconcileResult } from '../model/outcome.js';
import type { SwarmPassResult } from '../model/swarm-outcome.js';
import type { Diagnostic } from '../model/errors.js';
import type { ChatMessage } from '../ports/notifier.js';
import { commitUrl } from './commit-url.js';

/**
 * The chat messages of `berth run`, built from what a pass reports. Pure.
 * Many drift items at once make one message listing them, not one each.
 * Lines name keys and objects, never values.
 */
export interface MessageContext {
  host: string;
  /** The repository URL (credentials already removed), for commit links. */
  repo: string;
  at: Date;
}

const short = (rev: string | null | undefined) => (rev ? rev.slice(0, 12) : 'working tree');

function base(ctx: MessageContext, revision: string | null | undefined): Pick<ChatMessage, 'host' | 'revision' | 'commitUrl' | 'at'> {
  return { host: ctx.host, revision: revision ?? null, commitUrl: commitUrl(ctx.repo, revision ?? null), at: ctx.at.toISOString() };
}

export function driftAppeared(items: OpenDrift[], ctx: MessageContext, revision: string | null): ChatMessage {
  const n = items.length;
  return {
    kind: 'drift-appeared',
    title: `Drift on ${ctx.host}: ${n} ${n === 1 ? 'change' : 'changes'} nobody committed`,
    lines: items.map((i) => describeDrift(i.item)),
    severity: 'warning',
    ...base(ctx, revision),
  };
}

export function driftResolved(items: ResolvedDrift[], ctx: MessageContext, revision: string | null): ChatMessage {
  const n = items.length;
  return {
    kind: 'drift-resolved',
    title: `Drift resolved on ${ctx.host}: ${n} ${n === 1 ? 'item' : 'items'}`,
    lines: items.map(describeResolved),
    severity: 'info',
    ...base(ctx, revision),
  };
}

export function syncFinished(result: ReconcileResult, ctx: MessageContext): ChatMessage | null {
  const rev = result.source.revision;
  const s = result.plan?.summary;
  const counts = s ? `${s.create} created, ${s.recreate} recreated, ${s.update} updated, ${s.remove} removed` : '';
  if (result.outcome === 'converged') {
    const commit = [result.source.subject, result.source.author ? `by ${result.source.author}` : ''].filter(Boolean).join(' ');
    return {
      kind: 'sync-succeeded',
      title: `Deployed ${short(rev)} on ${ctx.host}`,
      lines: [commit, counts].filter(Boolean),
      severity: 'info',
      ...base(ctx, rev),
    };
  }
  const rolledBack = result.apply?.results.filter((r) => r.rollout && r.rollout.result !== 'succeeded') ?? [];
  if (result.outcome === 'failed' && rolledBack.length > 0) return rolloutFailed(result, rolledBack, ctx);
  if (result.outcome === 'failed' || result.outcome === 'plan-error') {
    const lines = [
      ...(result.plan?.errors.map((e) => `${e.stack}/${e.object}: ${e.message}`) ?? []),
      ...(result.apply?.results.filter((r) => r.status !== 'ok').map((r) => `${r.object}: ${r.status}${r.error ? ` — ${r.error}` : ''}`) ?? []),
    ];
    return {
      kind: 'sync-failed',
      title: `Sync of ${short(rev)} failed on ${ctx.host}; failed steps were left as they were`,
      lines,
      severity: 'error',
      ...base(ctx, rev),
    };
  }
  return null;
}

/**
 * A failed rollout, in one message: each service that did not get its new
 * container, the gate that stopped it and the last health output (the old
 * container is serving, unless it says otherwise), then anything else that failed.
 */
function rolloutFailed(result: ReconcileResult, rolledBack: OpResult[], ctx: MessageContext): ChatMessage {
  const rev = result.source.revision;
  const lines: string[] = [];
  for (const r of rolledBack) {
    const ro = r.rollout!;
    const outcome = ro.result === 'rolled_back' ? 'rolled back, the old container keeps serving' : 'NOT rolled back: needs a look';
    lines.push(`${r.object}: ${outcome}; gate ${ro.gate ?? 'unknown'} failed (${ro.strategy})`);
    if (r.error) lines.push(`  ${r.error}`);
    if (ro.lastHealthOutput && !r.error?.includes(ro.lastHealthOutput)) lines.push(`  last health output: ${ro.lastHealthOutput}`);
  }
  for (const r of result.apply?.results ?? []) {
    if (r.status !== 'ok' && !rolledBack.includes(r)) lines.push(`${r.object}: ${r.status}${r.error ? ` — ${r.error}` : ''}`);
  }
  const names = rolledBack.map((r) => r.object);
  return {
    kind: 'rollout-failed',
    title: `Rollout of ${names.length <= 3 ? names.join(', ') : `${names.length} services`} at ${short(rev)} ${rolledBack.every((r) => r.rollout!.result === 'rolled_back') ? 'rolled back' : 'FAILED'} on ${ctx.host}; not retried until a new commit`,
    lines,
    severity: 'error',
    ...base(ctx, rev),
  };
}

export function validationFailed(revision: string | null, errors: Diagnostic[], ctx: MessageContext): ChatMessage {
  return {
    kind: 'validation-failed',
    title: `Commit ${short(revision)} is invalid; ${ctx.host} keeps the last good state`,
    lines: errors.map((d) => `${d.file}${d.line ? `:${d.line}:${d.col}` : ''}: ${d.path ? `${d.path}: ` : ''}${d.message}`),
    severity: 'error',
    ...base(ctx, revision),
  };
}

export function testMessage(ctx: MessageContext): ChatMessage {
  return {
    kind: 'test',
    title: `Test message from berth on ${ctx.host}`,
    lines: ['If you can read this, berth can reach this channel.'],
    severity: 'info',
    host: ctx.host,
    revision: null,
    commitUrl: null,
    at: ctx.at.toISOString(),
  };
}

/**
 * A pass on a swarm host that deployed a revision, or failed: a rolled-back
 * service is named with Swarm's reason, and is not retried until a new commit.
 * Null for passes with nothing to tell (in sync, or failures of nothing).
 */
export function swarmPassFinished(result: SwarmPassResult, ctx: MessageContext): ChatMessage | null {
  const rev = result.source.revision;
  const count = (r: string) => result.ops.filter((o) => o.result === r).length;
  if (result.outcome === 'converged') {
    const commit = [result.source.subject, result.source.author ? `by ${result.source.author}` : ''].filter(Boolean).join(' ');
    return { kind: 'sync-succeeded', title: `Deployed ${short(rev)} on ${ctx.host}`, lines: [commit, `${count('ok')} swarm changes applied`].filter(Boolean), severity: 'info', ...base(ctx, rev) };
  }
  const bad = result.ops.filter((o) => o.result === 'failed' || o.result === 'rolled-back');
  const lines = [...result.errors, ...bad.map((o) => `${o.object}: ${o.result === 'rolled-back' ? 'rolled back, its previous spec runs again' : 'failed'} — ${o.message}`)];
  const rolledBack = bad.filter((o) => o.result === 'rolled-back').map((o) => o.object);
  if (result.outcome === 'failed' && rolledBack.length > 0) {
    const names = rolledBack.length <= 3 ? rolledBack.join(', ') : `${rolledBack.length} services`;
    return { kind: 'rollout-failed', title: `Rollout of ${names} at ${short(rev)} rolled back on ${ctx.host}; not retried until a new commit`, lines, severity: 'error', ...base(ctx, rev) };
  }
  if (result.outcome === 'failed' || result.outcome === 'plan-error') {
    return { kind: 'sync-failed', title: `Sync of ${short(rev)} failed on ${ctx.host}; failed steps were left as they were`, lines, severity: 'error', ...base(ctx, rev) };
  }
  return null;
}
