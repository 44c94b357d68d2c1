import type { ReconcileResult } from '../loop/reconcile.js';
import type { ForgeSpec } from '../model/desired.js';
import type { PlanSummary } from '../model/plan.js';
import type { CommitStatus, ForgePort } from '../ports/forge.js';
import { DEPLOY_CONTEXT, deployStatusFor, sendDeployStatus } from './deploy-status.js';
import type { ForgeQueue } from './queue.js';

/**
 * `berth/deploy` with berth.yaml `hosts:`: one status per commit for all
 * hosts, since a commit is deployed only once every host runs it. Each host's
 * controller reports on its own (applying, reconciled, a pass that threw);
 * the status is pending while any host applies or has not passed the commit
 * yet, failure naming the host(s) that failed (a host that is down fails its
 * part), and success once every host converged. A host that comes back and
 * converges turns a failure into success. A commit no host had to change
 * anything for gets no status, as on one host.
 */
export type HostMark =
  | { state: 'pending' }
  | { state: 'success'; summary: PlanSummary | null }
  /** `unreached`: the pass threw before it could apply (the host did not answer): a later pass may still deploy the commit there. */
  | { state: 'failure'; description: string; unreached?: boolean }
  /** The host went on to a newer commit without passing this one. */
  | { state: 'superseded'; by: string };

const MAX_DESCRIPTION = 140;
const REMEMBERED = 20;

const clip = (s: string) => (s.length <= MAX_DESCRIPTION ? s : `${s.slice(0, MAX_DESCRIPTION - 1)}…`);
const list = (names: string[]) => names.join(', ');

/** The combined status of one commit over `hosts` (berth.yaml order), from each host's mark (pure). */
export function combinedDeployStatus(sha: string, hosts: string[], marks: ReadonlyMap<string, HostMark>, targetUrl: string | null): CommitStatus {
  const base = { sha, context: DEPLOY_CONTEXT, ...(targetUrl ? { targetUrl } : {}) };
  const mark = (h: string) => marks.get(h);
  const failed = hosts.filter((h) => mark(h)?.state === 'failure');
  const waiting = hosts.filter((h) => mark(h) === undefined || mark(h)!.state === 'pending');
  const deployed = hosts.filter((h) => mark(h)?.state === 'success');
  const movedOn = hosts.filter((h) => mark(h)?.state === 'superseded');
  if (waiting.length > 0) {
    const done = hosts.length - waiting.length;
    const already = failed.length > 0 ? `; failed on ${list(failed)}` : '';
    return { ...base, state: 'pending', description: clip(`deploying on ${list(waiting)} (${done} of ${hosts.length} hosts done${already})`) };
  }
  if (failed.length > 0) {
    const first = mark(failed[0]!) as { description: string };
    const rest = deployed.length > 0 ? `; deployed on ${list(deployed)}` : '';
    return { ...base, state: 'failure', description: clip(`failed on ${list(failed)}: ${first.description}${rest}`) };
  }
  const sum = { create: 0, recreate: 0, update: 0, remove: 0 };
  for (const h of deployed) {
    const s = (mark(h) as { summary: PlanSummary | null }).summary;
    if (s) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += s[k];
  }
  const counts = `${sum.create} created, ${sum.recreate} recreated, ${sum.update} updated, ${sum.remove} removed`;
  const moved = movedOn.length > 0 ? `; ${list(movedOn)} went on to a newer commit` : '';
  return { ...base, state: 'success', description: clip(`deployed on ${list(deployed)}: ${counts}${moved}`) };
}

/** What one host's finished pass says about its commit. */
export function hostMarkFor(result: ReconcileResult): HostMark | null {
  if (result.outcome === 'in-sync') return { state: 'success', summary: null };
  // What a pass reports stays; a later no-op pass of the same commit (a held rollout, a file-watch pass) does not undo it.
  if (result.outcome === 'plan-error') return { state: 'failure', description: `plan error: ${result.plan?.errors[0]?.message ?? 'refused'}` };
  const own = deployStatusFor(result, null);
  if (!own) return null;
  if (own.state === 'success') return { state: 'success', summary: result.plan!.summary };
  return { state: 'failure', description: own.description };
}

interface Commit {
  marks: Map<string, HostMark>;
  /** Set once some host applies this commit: only then is a status posted. */
  spec: ForgeSpec | null;
  posted: string | null;
}

export class HostsDeployStatuses {
  private readonly commits = new Map<string, Commit>();

  constructor(
    private readonly queue: ForgeQueue,
    private readonly forgeFor: (spec: ForgeSpec) => ForgePort,
    private readonly publicUrl: string | null,
    /** The hosts of berth.yaml now, in order. */
    private readonly hosts: () => string[],
  ) {}

  /** Host `host` starts applying `sha`. */
  applying(host: string, sha: string | null, spec: ForgeSpec | null | undefined): void {
    if (!sha) return;
    const c = this.commit(sha);
    if (spec) c.spec = spec;
    this.mark(host, sha, { state: 'pending' });
  }

  /** Host `host` finished a pass. */
  reconciled(host: string, result: ReconcileResult): void {
    const sha = result.source.revision;
    const mark = hostMarkFor(result);
    if (!sha || !mark) return;
    const c = this.commit(sha);
    // An apply makes the commit one to report on; a no-op pass only counts once it is.
    if (result.apply && result.desired?.settings.forge) c.spec = result.desired.settings.forge;
    this.mark(host, sha, mark);
  }

  /** A pass of `host` at `sha` threw (its engine did not answer, …). */
  failed(host: string, sha: string | null, message: string): void {
    if (!sha) return;
    this.mark(host, sha, { state: 'failure', description: message.replace(/\s+/g, ' '), unreached: true });
  }

  private commit(sha: string): Commit {
    let c = this.commits.get(sha);
    if (!c) {
      c = { marks: new Map(), spec: null, posted: null };
      this.commits.set(sha, c);
      if (this.commits.size > REMEMBERED) this.commits.delete(this.commits.keys().next().value!);
    }
    return c;
  }

  private mark(host: string, sha: string, mark: HostMark): void {
    const c = this.commit(sha);
    const was = c.marks.get(host);
    // A no-op pass after this commit's apply on the host says nothing new: the apply's outcome
    // (its counts, or a rolled-back rollout now held) stands. After a pass that never reached the
    // host's engine, it is the host converging.
    const noop = mark.state === 'success' && mark.summary === null;
    if (noop && was && (was.state === 'success' || (was.state === 'failure' && !was.unreached))) return;
    c.marks.set(host, mark);
    if (mark.state !== 'pending') {
      // Older commits this host never finished: it has moved on, they wait for it no longer.
      for (const [older, o] of this.commits) {
        if (older === sha) break;
        const m = o.marks.get(host);
        if (m === undefined || m.state === 'pending') {
          o.marks.set(host, { state: 'superseded', by: sha });
          this.post(older, o);
        }
      }
    }
    this.post(sha, c);
  }

  private post(sha: string, c: Commit): void {
    if (!c.spec) return;
    const status = combinedDeployStatus(sha, this.hosts(), c.marks, this.publicUrl);
    const key = `${status.state}\0${status.description}`;
    if (key === c.posted) return;
    c.posted = key;
    sendDeployStatus(this.queue, this.forgeFor(c.spec), status);
  }
}
