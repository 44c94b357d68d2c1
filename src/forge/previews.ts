import type { PullRequestEvent } from '../http/pull-request-webhook.js';
import type { BerthSettings, ForgeSpec } from '../model/desired.js';
import type { ForgePort } from '../ports/forge.js';
import { redactUrl, type GitPort } from '../ports/git.js';
import type { Logger } from '../ports/logger.js';
import { planPreview, type PreviewDeps, type PreviewResult } from './preview.js';
import { PLAN_CONTEXT, PREVIEW_MARKER, previewStatus, renderPreviewComment } from './preview-comment.js';
import type { ForgeQueue } from './queue.js';

/**
 * Plan previews of pull requests, off the reconcile path: `request()` never
 * waits. One preview runs at a time; requests that arrive meanwhile coalesce
 * per pull request (a newer head replaces one still waiting: its preview
 * would only be overwritten), and a head already previewed against the same
 * deployed revision is not planned again (a GitLab title edit is an
 * `update`). The controller's single-flight queue never sees a preview, so a
 * deploy never waits for one; the forge calls go through the forge queue
 * like the deploy statuses.
 *
 * The forge, its token and the host name come from the deployed berth.yaml
 * and berth's own options, never from the request (preview.ts).
 */
export interface PreviewRunnerDeps {
  git: Pick<GitPort, 'fetchRef'>;
  /** `--repo`: where refs/pull/N/head is fetched from. */
  repo: string;
  preview: PreviewDeps;
  /** The deployed (last good) settings and revision; null before the first good pass. */
  deployed(): { settings: BerthSettings; revision: string | null } | null;
  forgeFor(spec: ForgeSpec): ForgePort;
  queue: ForgeQueue;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  host: string;
  publicUrl: string | null;
  /** Each finished preview (metrics, tests). */
  previewed?(event: PullRequestEvent, result: PreviewResult): void;
}

const REMEMBERED = 256;

export class PreviewRunner {
  private readonly waiting = new Map<number, PullRequestEvent>();
  private readonly previewed = new Map<number, string>();
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly deps: PreviewRunnerDeps) {}

  request(event: PullRequestEvent): void {
    if (this.stopped) return;
    this.waiting.delete(event.number);
    this.waiting.set(event.number, event);
    this.running ??= this.work().finally(() => (this.running = null));
  }

  /** Resolves when no preview waits or runs. */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No new previews; the one running finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.clear();
    await this.whenIdle();
  }

  private async work(): Promise<void> {
    while (this.waiting.size > 0 && !this.stopped) {
      const [number, event] = this.waiting.entries().next().value as [number, PullRequestEvent];
      this.waiting.delete(number);
      try {
        await this.previewOne(event);
      } catch (e) {
        this.deps.log.error({ pullRequest: number, err: (e as Error).message }, 'plan preview failed');
      }
    }
  }

  private async previewOne(event: PullRequestEvent): Promise<void> {
    const { log } = this.deps;
    const fields = { pullRequest: event.number, head: event.headSha.slice(0, 12) };
    const deployed = this.deps.deployed();
    const spec = deployed?.settings.forge;
    if (!deployed || !spec || spec.token === '') return void log.info(fields, 'plan preview skipped: the deployed berth.yaml has no forge (with a token)');
    if (spec.type !== event.provider) return void log.warn({ ...fields, provider: event.provider, forge: spec.type }, 'plan preview skipped: the delivery is not from the configured forge');
    if (!this.deps.git.fetchRef) return void log.warn(fields, 'plan preview skipped: this git port cannot fetch pull request heads');
    const key = `${event.headSha}\0${deployed.revision ?? ''}`;
    if (this.previewed.get(event.number) === key) return void log.info(fields, 'plan preview skipped: this head was previewed already');

    const forge = this.deps.forgeFor(spec);
    const target = this.deps.publicUrl;
    this.status(forge, { sha: event.headSha, context: PLAN_CONTEXT, state: 'pending', description: 'planning against the live host', ...(target ? { targetUrl: target } : {}) });
    let source;
    try {
      source = await this.deps.git.fetchRef(this.deps.repo, event.ref);
    } catch (e) {
      log.warn({ ...fields, repo: redactUrl(this.deps.repo), err: (e as Error).message }, 'plan preview: fetching the head failed');
      this.status(forge, { sha: event.headSha, context: PLAN_CONTEXT, state: 'error', description: `could not fetch ${event.ref}` });
      return;
    }
    const result = await planPreview(source, deployed.settings, this.deps.preview);
    // The head fetched may be newer than the delivery's (pushed meanwhile): its own delivery follows; the older one gets no stale pending left.
    if (source.revision && source.revision !== event.headSha) this.status(forge, { sha: event.headSha, context: PLAN_CONTEXT, state: 'error', description: 'not planned: superseded by a newer head' });
    const body = renderPreviewComment(result, { host: this.deps.host, deployed: deployed.revision });
    this.deps.queue.enqueue({ key: `comment ${event.number}`, what: `comment #${event.number}`, run: () => forge.upsertComment(event.number, PREVIEW_MARKER, body) });
    if (source.revision) this.status(forge, previewStatus(result, target));
    if (this.previewed.size >= REMEMBERED) this.previewed.delete(this.previewed.keys().next().value!);
    this.previewed.set(event.number, `${source.revision ?? event.headSha}\0${deployed.revision ?? ''}`);
    log.info({ ...fields, result: result.kind === 'invalid' ? 'invalid' : 'planned', ...(result.kind === 'planned' ? result.plan.summary : {}) }, 'plan preview posted');
    this.deps.previewed?.(event, result);
  }

  private status(forge: ForgePort, s: Parameters<ForgePort['setStatus']>[0]): void {
    this.deps.queue.enqueue({ key: `status ${s.context} ${s.sha}`, what: `status ${s.context} ${s.sha.slice(0, 12)} ${s.state}`, run: () => forge.setStatus(s) });
  }
}
