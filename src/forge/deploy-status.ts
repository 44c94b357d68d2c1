import type { ReconcileResult } from '../loop/reconcile.js';
import type { ForgeSpec } from '../model/desired.js';
import type { CommitStatus, ForgePort } from '../ports/forge.js';
import type { ForgeQueue } from './queue.js';

/**
 * `berth/deploy` on each deployed commit: pending when its apply starts,
 * then success, failure, or failure "rolled back: <gate>" when a rollout's
 * gate stopped it. The forge comes from the berth.yaml of the revision being
 * deployed; calls go through the queue, so a slow forge never slows a deploy.
 */
export const DEPLOY_CONTEXT = 'berth/deploy';

export function deployStatusFor(result: ReconcileResult, publicUrl: string | null): CommitStatus | null {
  const sha = result.source.revision;
  if (!sha || !result.apply || !result.plan) return null;
  const target = publicUrl ? { targetUrl: publicUrl } : {};
  const rolledBack = result.apply.results.find((r) => r.rollout && r.rollout.result !== 'succeeded');
  if (rolledBack) {
    const gate = rolledBack.rollout!.gate ?? 'unknown';
    const word = rolledBack.rollout!.result === 'rolled_back' ? 'rolled back' : 'rollout failed, not rolled back';
    return { sha, context: DEPLOY_CONTEXT, state: 'failure', description: `${word}: ${gate} (${rolledBack.object})`, ...target };
  }
  const s = result.plan.summary;
  const counts = `${s.create} created, ${s.recreate} recreated, ${s.update} updated, ${s.remove} removed`;
  if (result.apply.ok) return { sha, context: DEPLOY_CONTEXT, state: 'success', description: `deployed: ${counts}`, ...target };
  const failed = result.apply.results.filter((r) => r.status === 'failed').map((r) => r.object);
  return { sha, context: DEPLOY_CONTEXT, state: 'failure', description: `failed: ${failed.join(', ') || 'apply stopped'}`, ...target };
}

export class DeployStatuses {
  constructor(
    private readonly queue: ForgeQueue,
    private readonly forgeFor: (spec: ForgeSpec) => ForgePort,
    private readonly publicUrl: string | null,
  ) {}

  /** An apply of `sha` is starting. */
  applying(sha: string | null, spec: ForgeSpec | null | undefined): void {
    if (!sha || !spec) return;
    this.send(spec, { sha, context: DEPLOY_CONTEXT, state: 'pending', description: 'deploying', ...(this.publicUrl ? { targetUrl: this.publicUrl } : {}) });
  }

  reconciled(result: ReconcileResult): void {
    const spec = result.desired?.settings.forge;
    const status = deployStatusFor(result, this.publicUrl);
    if (spec && status) this.send(spec, status);
  }

  private send(spec: ForgeSpec, status: CommitStatus): void {
    sendDeployStatus(this.queue, this.forgeFor(spec), status);
  }
}

/** Queue a status; the same key for pending and final, so a pending still waiting is replaced by the outcome. */
export function sendDeployStatus(queue: ForgeQueue, forge: ForgePort, status: CommitStatus): void {
  queue.enqueue({ key: `status ${status.context} ${status.sha}`, what: `status ${status.context} ${status.sha.slice(0, 12)} ${status.state}`, run: () => forge.setStatus(status) });
}
