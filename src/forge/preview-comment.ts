import { countLine, renderDiagnostic } from '../model/render-diagnostics.js';
import { renderFindingLine } from '../lint/render.js';
import { renderLintSummary } from '../lint/summary.js';
import { formatLocation } from '../model/errors.js';
import { renderPlanText } from '../plan/render.js';
import type { Plan } from '../model/plan.js';
import type { CommitStatus } from '../ports/forge.js';
import type { HostPreview, PreviewResult } from './preview.js';
import { pendingOps, renderSwarmPlan, swarmSummary } from '../swarm/render.js';
import type { SwarmPlan } from '../swarm/plan.js';

/**
 * The pull-request comment and the `berth/plan` status of a preview (pure).
 *
 * Everything in them that comes from the request (file names, keys, image
 * names, messages quoting them) is untrusted markup: it only ever goes inside
 * a fenced code block whose fence is longer than any run of backticks in it
 * (CommonMark: such a block cannot be closed from inside, and neither HTML
 * nor mentions nor links are rendered there), after control and bidi
 * characters are removed. Sizes are bounded: forges refuse comments past
 * 65,536 characters (GitHub), and a reviewer reads the first screens anyway.
 */
export const PLAN_CONTEXT = 'berth/plan';
/** Finds berth's own comment among a request's comments (an HTML comment: invisible once rendered). */
export const PREVIEW_MARKER = '<!-- berth:plan-preview -->';

const MAX_BLOCK_CHARS = 40_000;
const MAX_DIAGNOSTICS = 50;
const MAX_COMMENT_CHARS = 60_000;

export interface PreviewContext {
  /** `--name` (or the hostname): which host the plan is against. */
  host: string;
  /** The deployed revision the plan starts from, when known. */
  deployed: string | null;
}

/** Control characters (but newline and tab) and the bidi controls that reorder what a reviewer reads. */
function clean(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** Cut to whole lines under the bound, saying how much was left out. */
function bounded(text: string, max = MAX_BLOCK_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const kept = cut.slice(0, Math.max(0, cut.lastIndexOf('\n')));
  const left = text.slice(kept.length).split('\n').filter((l) => l !== '').length;
  return `${kept}\n… ${left} more lines (run berth plan for all of them)`;
}

export function codeBlock(text: string): string {
  const body = bounded(clean(text).replace(/\n+$/, ''));
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${body}\n${fence}`;
}

/** Inline code for short operator-given words (the host name): no backticks, one line. */
function inline(text: string): string {
  return `\`${clean(text).replace(/[`\n\r]/g, '').slice(0, 100) || '?'}\``;
}

const short = (sha: string | null) => (sha && /^[0-9a-f]+$/.test(sha) ? sha.slice(0, 12) : 'working tree');

/** What a plan would do, in a sentence. */
function planVerdict(plan: Plan): string {
  const s = plan.summary;
  if (plan.errors.length > 0) return '**Plan error**: apply would refuse this and change nothing.';
  if (plan.ops.length === 0) return '**Valid**: no changes.';
  return `**Valid**: ${s.create} to create, ${s.recreate} to recreate, ${s.update} to update, ${s.remove} to remove.`;
}

function changes(plan: Plan): string {
  const s = plan.summary;
  return plan.ops.length === 0 ? 'no changes' : `${s.create} to create, ${s.recreate} to recreate, ${s.update} to update, ${s.remove} to remove`;
}

function hostPart(h: HostPreview): string[] {
  if (h.plan) return [planVerdict(h.plan), codeBlock(renderPlanText(h.plan))];
  if (h.swarmPlan) return [swarmVerdict(h.swarmPlan), codeBlock(renderSwarmPlan(h.swarmPlan))];
  return ['**Not planned** on this host:', codeBlock(h.error)];
}

/** A swarm host's plan in a sentence (services are updated in place: nothing is "recreated"). */
function swarmVerdict(plan: SwarmPlan): string {
  if (plan.errors.length > 0) return '**Plan error**: apply would refuse this and change nothing.';
  if (pendingOps(plan).length === 0) return '**Valid**: no changes (swarm).';
  return `**Valid**: ${swarmChanges(plan)} (swarm).`;
}

function swarmChanges(plan: SwarmPlan): string {
  const s = swarmSummary(plan);
  return pendingOps(plan).length === 0 ? 'no changes' : `${s.create} to create, ${s.update} to update, ${s.remove} to remove`;
}

export function renderPreviewComment(r: PreviewResult, ctx: PreviewContext): string {
  const against = r.kind === 'hosts' ? `hosts ${r.hosts.map((h) => inline(h.host)).join(', ')}` : `host ${inline(ctx.host)}`;
  const head = `${PREVIEW_MARKER}\n### berth plan preview\n\nHead ${inline(short(r.source.revision))} against ${against}${ctx.deployed ? ` (deployed: ${inline(short(ctx.deployed))})` : ''}.`;
  const parts = [head];
  if (r.kind === 'invalid') {
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    parts.push(`**Invalid** (${countLine(r.diagnostics)}): merging this would not be applied; the deployed state would stay.`);
    const shown = r.diagnostics.slice(0, MAX_DIAGNOSTICS).map(renderDiagnostic);
    if (r.diagnostics.length > MAX_DIAGNOSTICS) shown.push(`… and ${r.diagnostics.length - MAX_DIAGNOSTICS} more (run berth validate)`);
    parts.push(codeBlock(shown.join('\n') || `${errors.length} errors`));
  } else {
    if (r.kind === 'planned') parts.push(planVerdict(r.plan), codeBlock(renderPlanText(r.plan)));
    // Grouped by host: each host is planned against its own engine, on its own.
    else for (const h of r.hosts) parts.push(`#### Host ${inline(h.host)}`, ...hostPart(h));
    const lintLines = renderLintSummary(r.findings);
    parts.push(lintLines.length > 0 ? codeBlock(lintLines.join('\n')) : 'Lint: clean.');
    if (r.diagnostics.length > 0) parts.push(codeBlock(r.diagnostics.slice(0, MAX_DIAGNOSTICS).map(renderDiagnostic).join('\n')));
  }
  parts.push(
    '<sub>Read-only preview: nothing was pulled, built or changed. Host environment values show as <code>${NAME}</code> (services that use them may show as changed), secrets are not decrypted, and berth.yaml <code>notify</code>/<code>forge</code> are the deployed ones. Updated in place on every new head.</sub>',
  );
  const body = parts.join('\n\n');
  // The blocks are bounded one by one; this keeps the sum under the forge's limit even with many of them.
  return body.length <= MAX_COMMENT_CHARS ? body : `${head}\n\nThe preview is too large for a comment; run \`berth plan\` on the head.`;
}

/** One line for the status: what a reviewer sees next to the commit. */
export function previewStatus(r: PreviewResult, targetUrl: string | null): CommitStatus {
  const sha = r.source.revision ?? '';
  const base = { sha, context: PLAN_CONTEXT, ...(targetUrl ? { targetUrl } : {}) };
  const line = (s: string) => clean(s).replace(/\s+/g, ' ').slice(0, 250);
  if (r.kind === 'invalid') {
    const first = r.diagnostics.find((d) => d.severity === 'error');
    return { ...base, state: 'failure', description: line(first ? `invalid: ${formatLocation(first)}: ${first.message}` : 'invalid') };
  }
  const plans: (HostPreview | { host: null; plan: Plan; swarmPlan?: undefined; error?: undefined })[] = r.kind === 'planned' ? [{ host: null, plan: r.plan }] : r.hosts;
  const on = (host: string | null) => (host === null ? '' : ` on ${host}`);
  const unplanned = plans.find((h) => !h.plan && !h.swarmPlan);
  if (unplanned) return { ...base, state: 'failure', description: line(`not planned${on(unplanned.host)}: ${unplanned.error ?? ''}`) };
  const firstError = (h: (typeof plans)[number]) => h.plan?.errors[0]?.message ?? (h.swarmPlan?.errors[0] ? `${h.swarmPlan.errors[0].object}: ${h.swarmPlan.errors[0].message}` : undefined);
  const refused = plans.find((h) => firstError(h) !== undefined);
  if (refused) return { ...base, state: 'failure', description: line(`plan error${on(refused.host)}: ${firstError(refused)}`) };
  const lintError = r.findings.find((f) => f.severity === 'error');
  if (lintError) return { ...base, state: 'failure', description: line(`lint: ${renderFindingLine(lintError)}`) };
  const what = plans.map((h) => `${h.host === null ? '' : `${h.host} `}${h.plan ? changes(h.plan) : swarmChanges(h.swarmPlan!)}`).join('; ');
  return { ...base, state: 'success', description: line(`valid: ${what}`) };
}
